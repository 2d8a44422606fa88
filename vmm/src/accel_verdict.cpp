// fleet — remembered accelerator verdicts (see accel_verdict.hpp).
#include "accel_verdict.hpp"

#include <fleet/base/file.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

using nlohmann::json;

namespace fleet::vmm::accel {

namespace {

constexpr const char* format_name = "fleet-accel-verdict/1";
constexpr std::size_t max_file = 64 * 1024;
constexpr std::size_t max_why = 1024;

}  // namespace

std::string read_small(const std::string& path, std::size_t max)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return {};
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max) return {};
    }
    return text;
}

namespace {

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

bool cpu_fits(Accel accel, std::string_view cpu)
{
    if (accel == Accel::kvm) return cpu == kvm_cpu_host || cpu == kvm_cpu_nocap;
    return accel == Accel::tcg && cpu == tcg_cpu;
}

}  // namespace

std::string file_identity(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path + " missing";
    char id[160];
    std::snprintf(id, sizeof id, " %llu:%llu %lld %lld", static_cast<unsigned long long>(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
    return path + id;
}

std::string host_identity(const std::string& kvm_device)
{
    std::string boot = trimmed(read_small("/proc/sys/kernel/random/boot_id", 256));
    struct utsname u {};
    std::string release = ::uname(&u) == 0 ? u.release : "?";
    // The device node: a reloaded module or a chmod gives it another identity.
    struct stat st {};
    std::string dev = "none";
    if (::stat(kvm_device.c_str(), &st) == 0) {
        char id[160];
        std::snprintf(id, sizeof id, "%llu:%llu %lld.%09ld", static_cast<unsigned long long>(st.st_rdev),
                      static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_ctim.tv_sec),
                      st.st_ctim.tv_nsec);
        dev = id;
    }
    return "boot " + (boot.empty() ? "?" : boot) + " kernel " + release + " kvm " + kvm_device + " " + dev;
}

std::string verdict_key(std::string_view host, std::string_view qemu, std::string_view guest)
{
    std::string key = "host ";
    key.append(host).append("\nqemu ").append(qemu).append("\nguest ").append(guest);
    key.append("\nprobes ").append(std::to_string(probes_version));
    return key;
}

std::string key_digest(std::string_view key)
{
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char name[32];
    std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(h));
    return name;
}

std::string verdict_file_name(std::string_view key)
{
    return key_digest(key) + ".json";
}

std::string format_verdict(std::string_view key, const AccelChoice& c)
{
    json j = {{"format", format_name},           {"key", key},
              {"accel", to_string(c.accel)},     {"cpu", c.cpu},
              {"why", c.why.substr(0, max_why)}, {"probe_ms", c.probe_time.count()}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<AccelChoice> parse_verdict(std::string_view text, std::string_view key)
{
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto str = [&j](const char* name) -> std::optional<std::string> {
        auto it = j.find(name);
        if (it == j.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    auto format = str("format"), k = str("key"), accel = str("accel"), cpu = str("cpu"), why = str("why");
    if (!format || *format != format_name || !k || *k != key || !accel || !cpu || !why) return std::nullopt;
    auto a = parse_accel(*accel);
    if (!a || !cpu_fits(*a, *cpu) || why->size() > max_why) return std::nullopt;
    AccelChoice c;
    c.accel = *a;
    c.cpu = *cpu;
    c.why = *why;
    return c;
}

Result<VerdictStore> VerdictStore::open(const std::string& runtime_dir)
{
    if (auto r = ensure_private_dir(runtime_dir, 0700); !r) return std::unexpected(r.error());
    std::string dir = runtime_dir + "/accel";
    if (auto r = ensure_private_dir(dir, 0700); !r) return std::unexpected(r.error());
    return VerdictStore(dir);
}

std::optional<AccelChoice> VerdictStore::read(const std::string& key) const
{
    std::string text = read_small(dir_ + "/" + verdict_file_name(key), max_file);
    if (text.empty()) return std::nullopt;
    return parse_verdict(text, key);
}

Result<> VerdictStore::write(const std::string& key, const AccelChoice& choice) const
{
    return replace_file(dir_, verdict_file_name(key), format_verdict(key, choice), Sync::no);
}

Result<Fd> VerdictStore::lock() const
{
    return lock_file(dir_ + "/lock");
}

Result<Fd> lock_file(const std::string& p)
{
    Fd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail_errno("cannot open " + p);
    while (::flock(fd.get(), LOCK_EX) != 0)
        if (errno != EINTR) return fail_errno("cannot lock " + p);
    return fd;
}

}  // namespace fleet::vmm::accel
