// fleet — snapshots: keys, records, checks and the choice at start (see
// snapshot.hpp; the save itself is snapshot_save.cpp).
#include <fleet/vmm/snapshot.hpp>

#include "accel_verdict.hpp"

#include <fleet/abi/guest.h>
#include <fleet/base/file.hpp>
#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/net.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

using nlohmann::json;

namespace fleet::vmm {

namespace {

constexpr const char* format_name = "fleet-snapshot/2";  // 2: the RAM before the stream
constexpr std::string_view format_family = "fleet-snapshot/";

std::string kvm_device()
{
    const char* dev = std::getenv("FLEET_KVM_DEVICE");
    return dev && *dev ? dev : "/dev/kvm";
}

// Four independent multiply-xor lanes over 8-byte words: a few ms for the
// tens of MB of a Linux guest's snapshot (a cryptographic hash would cost
// more than the restore itself; this guards against damage, not an
// attacker — the folder is private to the user). Fed in pieces whose sizes
// are multiples of 32 bytes, but for the last.
struct Hasher {
    static constexpr std::uint64_t k = 0x9e3779b97f4a7c15ull;
    std::uint64_t lane[4] = {1, 2, 3, 4};
    std::uint64_t n = 0, tail = 0;

    void add(const unsigned char* p, std::size_t len)
    {
        n += len;
        std::size_t i = 0;
        for (; i + 32 <= len; i += 32)
            for (int l = 0; l < 4; ++l) {
                std::uint64_t w;
                std::memcpy(&w, p + i + 8 * static_cast<std::size_t>(l), 8);
                lane[l] = (lane[l] ^ w) * k;
                lane[l] ^= lane[l] >> 29;
            }
        for (; i < len; ++i) tail = (tail ^ p[i]) * k;
    }
    std::uint64_t done() const
    {
        std::uint64_t h = n ^ tail;
        for (auto v : lane) h = (h ^ v) * k ^ (h >> 31);
        return h;
    }
};

std::string hex64(std::uint64_t v)
{
    char s[24];
    std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
    return s;
}

// The device line of the spec, its per-VM parts (name, program, the
// shares' folders, the interfaces' taps and MACs) left out.
std::string device_line(const VmSpec& spec, const std::string& qemu)
{
    return shell_join(qemu_argv(qemu, saved_spec(spec, "SHARE"), spec.accel, Wiring{}));
}

std::string record_text(std::string_view key, std::uint64_t size, std::uint64_t hash, const std::string& checked)
{
    json j = {{"format", format_name}, {"key", key}, {"size", size}, {"hash", hex64(hash)}, {"checked", checked}};
    return j.dump(2) + "\n";
}

}  // namespace

VmSpec saved_spec(const VmSpec& spec, const std::string& share_folder)
{
    VmSpec s = spec;
    s.name = "snapshot";
    s.snapshot = false;
    s.args.clear();
    s.env.clear();
    s.workdir.clear();
    for (std::size_t i = 0; i < s.shares.size(); ++i)
        s.shares[i] = SharedFolder{share_folder, "/mnt/share" + std::to_string(i), true};
    for (std::size_t i = 0; i < s.nets.size(); ++i) {
        s.nets[i] = NetInterface{};  // no tap: a network of its own (net.hpp)
        s.nets[i].mac = snapshot_mac(i);
    }
    return s;
}

std::string snapshot_unfit(const VmSpec& spec)
{
    if (!is_linux_guest(spec)) return "not a Linux guest";
    if (spec.accel == Accel::automatic || spec.cpu.empty()) return "the accelerator is not settled";
    if (!spec.disks.empty()) return "disks";
    if (!spec.hypervisor_fds.empty()) return "a hypervisor channel";
    if (spec.start_paused) return "started paused";
    return "";
}

std::string snapshot_key(const VmSpec& spec, const std::string& qemu)
{
    std::string key = format_name;
    key += " fleet " FLEET_VERSION " abi " + std::to_string(FLEET_ABI_VERSION);
    key += "\nhost " + accel::host_identity(kvm_device());
    key += "\nqemu " + accel::file_identity(qemu);
    key += "\nkernel " + accel::file_identity(spec.kernel);
    key += "\ninitrd " + accel::file_identity(spec.initrd);
    key += "\nline " + device_line(spec, qemu);
    return key;
}

Result<std::uint64_t> content_hash(const std::string& path)
{
    // Read, not mapped: a mapped read of a hole in a tmpfs file allocates
    // it, and a snapshot's RAM is mostly holes.
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open " + path);
    constexpr std::size_t chunk = 1 << 20;
    std::unique_ptr<unsigned char[]> buf(new unsigned char[chunk]);
    Hasher h;
    for (;;) {
        std::size_t have = 0;
        while (have < chunk) {  // whole chunks, so every piece but the last is a multiple of 32
            ssize_t r = ::read(fd.get(), buf.get() + have, chunk - have);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return fail_errno("cannot read " + path);
            if (r == 0) break;
            have += static_cast<std::size_t>(r);
        }
        h.add(buf.get(), have);
        if (have < chunk) return h.done();
    }
}

std::string stream_identity(const struct stat& st)
{
    auto ns = [](const timespec& t) {
        return std::to_string(static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec);
    };
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           ns(st.st_mtim) + ":" + ns(st.st_ctim);
}

std::string check_snapshot(const std::string& stream_path, const std::string& record_path, std::string_view key)
{
    json j = json::parse(accel::read_small(record_path, 256 * 1024), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return "its record is missing or does not parse";
    if (j.value("format", "") != format_name || j.value("key", "") != key) return "its record names another key";
    struct stat st {};
    if (::stat(stream_path.c_str(), &st) != 0) return "the saved stream is missing";
    if (!j.contains("size") || !j["size"].is_number_unsigned() ||
        j["size"].get<std::uint64_t>() != static_cast<std::uint64_t>(st.st_size))
        return "the saved stream has the wrong size";
    // The stream the record's hash was taken of, untouched since: no change
    // to a file leaves its ctime as it was, and the record is as much the
    // owner's as the stream is. Else the whole stream is hashed again.
    if (j.value("checked", "") == stream_identity(st)) return "";
    auto h = content_hash(stream_path);
    if (!h) return h.error().what();
    if (j.value("hash", "") != hex64(*h)) return "the saved stream does not match its hash";
    return "";
}

namespace {

// The part of a key that names the device line: the same image set up the
// same way, whatever fleet, QEMU or kernel file made the snapshot.
std::string_view line_of(std::string_view key)
{
    auto at = key.find("\nline ");
    return at == std::string_view::npos ? std::string_view() : key.substr(at);
}

// fleet's snapshot records in dir other than stem's: each one's stem, key
// and when it was last used (its record's mtime; none if unreadable).
struct RecordInfo {
    std::optional<std::filesystem::file_time_type> used;
    std::string stem, key;
};
std::vector<RecordInfo> other_records(const std::string& dir, const std::string& stem)
{
    std::vector<RecordInfo> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (!name.ends_with(".json") || name == stem + ".json") continue;
        json j = json::parse(accel::read_small(entry.path().string(), 256 * 1024), nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.value("format", "").starts_with(format_family)) continue;
        std::error_code time_ec;
        auto used = entry.last_write_time(time_ec);
        out.push_back(
            {time_ec ? std::nullopt : std::optional(used), name.substr(0, name.size() - 5), j.value("key", "")});
    }
    return out;
}

void drop_snapshot(const std::string& dir, const std::string& stem)
{
    ::unlink((dir + "/" + stem + ".vmstate").c_str());
    ::unlink((dir + "/" + stem + ".json").c_str());
}

}  // namespace

void drop_superseded(const std::string& dir, const std::string& stem, std::string_view key)
{
    std::string_view line = line_of(key);
    if (line.empty()) return;
    for (const auto& r : other_records(dir, stem))
        if (r.key != key && line_of(r.key) == line) drop_snapshot(dir, r.stem);
}

// Past max_snapshots in the folder, the least recently used go (a restore
// touches its record), so a client varying memory sizes or share counts
// cannot fill the runtime folder (a tmpfs on most hosts) with snapshots.
void drop_least_used(const std::string& dir, const std::string& stem)
{
    auto others = other_records(dir, stem);
    std::erase_if(others, [](const RecordInfo& r) { return !r.used; });
    if (others.size() < max_snapshots) return;
    std::sort(others.begin(), others.end(), [](const auto& a, const auto& b) { return a.used < b.used; });
    for (std::size_t i = 0; i + max_snapshots <= others.size(); ++i) drop_snapshot(dir, others[i].stem);
}

namespace {

// A snapshot chosen for a start is the most recently used.
void touch(const std::string& record)
{
    (void)::utimensat(AT_FDCWD, record.c_str(), nullptr, 0);
}

// Saves the spec's snapshot as stream + record, atomically, under the lock.
Result<> build(const VmSpec& spec, const SnapshotContext& ctx, const std::string& dir, const std::string& stem,
               const std::string& key)
{
    std::string tmp = dir + "/." + stem + std::string(temp_file_marker) + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    auto saved = save_snapshot(spec, ctx, tmp);
    auto size = saved ? content_hash(tmp) : Result<std::uint64_t>(std::unexpected(saved.error()));
    std::string stream = dir + "/" + stem + ".vmstate";
    if (!size || ::rename(tmp.c_str(), stream.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return size ? fail_errno("cannot rename " + tmp) : std::unexpected(size.error());
    }
    struct stat st {};  // after the rename, which sets the ctime
    if (::stat(stream.c_str(), &st) != 0) return fail_errno("cannot stat " + stream);
    auto recorded =
        replace_file(dir, stem + ".json",
                     record_text(key, static_cast<std::uint64_t>(st.st_size), *size, stream_identity(st)), Sync::no);
    if (recorded) {
        drop_superseded(dir, stem, key);
        drop_least_used(dir, stem);
    }
    return recorded;
}

}  // namespace

SnapshotPick pick_snapshot(const VmSpec& spec, const SnapshotContext& ctx)
{
    if (std::string why = snapshot_unfit(spec); !why.empty()) return {"", "", false};
    std::string dir = ctx.runtime_dir + "/snapshots";
    if (auto r = ensure_private_dir(dir, 0700); !r)
        return {"", "no snapshot (" + r.error().what() + "); booting cold", false};
    std::string key = snapshot_key(spec, ctx.qemu), stem = accel::key_digest(key);
    std::string stream = dir + "/" + stem + ".vmstate", record = dir + "/" + stem + ".json";
    if (check_snapshot(stream, record, key).empty()) {
        touch(record);
        return {stream, "", false};
    }
    auto lock = accel::lock_file(dir + "/lock");
    if (!lock) return {"", "no snapshot (" + lock.error().what() + "); booting cold", false};
    std::string why = check_snapshot(stream, record, key);  // another start may have built it meanwhile
    if (why.empty()) {
        touch(record);
        return {stream, "", false};
    }
    bool damaged = ::access(stream.c_str(), F_OK) == 0 || ::access(record.c_str(), F_OK) == 0;
    if (damaged) {  // a bad one: not used, removed, rebuilt by the next start
        ::unlink(stream.c_str());
        ::unlink(record.c_str());
        return {"", "snapshot " + stream + " not used (" + why + "); booting cold", false};
    }
    if (auto b = build(spec, ctx, dir, stem, key); !b)
        return {"", "cannot make a snapshot (" + b.error().what() + "); booting cold", false};
    return {stream, "", true};
}

}  // namespace fleet::vmm
