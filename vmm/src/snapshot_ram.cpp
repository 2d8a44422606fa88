// fleet — a snapshot's RAM (snapshot.hpp): written out sparse at the save,
// copied into a confined restore's own memfd.
#include <fleet/vmm/snapshot.hpp>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace fleet::vmm {

namespace {

constexpr std::size_t page = 4096;

// [from, to) of `in` into `out` at the same offsets: by sendfile, one copy
// in the kernel (copy_file_range refuses a memfd on another file system),
// else through a buffer.
Result<> copy_range(int in, int out, off_t from, off_t to)
{
    if (::lseek(out, from, SEEK_SET) < 0) return fail_errno("cannot copy the snapshot's RAM");
    while (from < to) {
        ssize_t n = ::sendfile(out, in, &from, static_cast<std::size_t>(to - from));
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return fail("the snapshot's RAM is short");
        if (errno != EINVAL && errno != ENOSYS) return fail_errno("cannot copy the snapshot's RAM");
        break;  // no sendfile between these files: a buffer
    }
    char buf[1 << 16];
    while (from < to) {
        ssize_t n = ::pread(in, buf, std::min(static_cast<std::size_t>(to - from), sizeof buf), from);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read the snapshot's RAM");
        if (n == 0) return fail("the snapshot's RAM is short");
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::pwrite(out, buf + done, static_cast<std::size_t>(n - done), from + done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return fail_errno("cannot copy the snapshot's RAM");
            done += w;
        }
        from += n;
    }
    return {};
}

// The next data extent of `fd` at or after `at`, below `end`: {start, stop},
// or start == end when there is none.
Result<std::pair<off_t, off_t>> next_extent(int fd, off_t at, off_t end)
{
    off_t data = ::lseek(fd, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) return std::pair{end, end};
    if (data < 0) return fail_errno("cannot find the RAM's data");
    if (data >= end) return std::pair{end, end};
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return fail_errno("cannot find the RAM's data");
    return std::pair{data, std::min(hole, end)};
}

bool all_zero(const unsigned char* p)
{
    static const unsigned char zero[page] = {};
    return std::memcmp(p, zero, page) == 0;
}

}  // namespace

std::uint64_t snapshot_ram_bytes(const VmSpec& spec)
{
    return static_cast<std::uint64_t>(spec.memory_mib) << 20;
}

nlohmann::json ram_out_of_stream()
{
    return {{"capabilities", nlohmann::json::array({{{"capability", "x-ignore-shared"}, {"state", true}}})}};
}

Result<Fd> new_ram(std::uint64_t ram_bytes)
{
    Fd ram(::memfd_create("fleet-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!ram) return fail_errno("cannot create the guest's RAM");
    if (::ftruncate(ram.get(), static_cast<off_t>(ram_bytes)) != 0) return fail_errno("cannot size the guest's RAM");
    // QEMU opens it read-write: it must not shrink it under a launcher
    // that reads it through a mapping (write_ram), which would then fault.
    if (::fcntl(ram.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        return fail_errno("cannot seal the guest's RAM");
    return ram;
}

namespace {

Result<> fill_ram(int file, int ram, std::uint64_t ram_bytes)
{
    const auto end = static_cast<off_t>(ram_bytes);
    for (off_t at = 0; at < end;) {
        auto extent = next_extent(file, at, end);
        if (!extent) return std::unexpected(extent.error());
        auto [from, to] = *extent;
        if (from >= end) break;
        if (auto c = copy_range(file, ram, from, to); !c) return c;
        at = to;
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<RamFill>> RamFill::start(int file, std::uint64_t ram_bytes)
{
    std::unique_ptr<RamFill> f(new RamFill);
    // The same file as `file` (not its path again, which a rebuild may
    // have renamed over), with an offset of its own.
    f->file_ = Fd(::open(("/proc/self/fd/" + std::to_string(file)).c_str(), O_RDONLY | O_CLOEXEC));
    if (!f->file_) return fail_errno("cannot open the snapshot again");
    auto ram = new_ram(ram_bytes);
    if (!ram) return std::unexpected(ram.error());
    f->ram_ = std::move(*ram);
    f->done_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!f->done_) return fail_errno("cannot create an eventfd");
    f->bytes_ = ram_bytes;
    RamFill* self = f.get();
    try {
        f->thread_ = std::thread([self] {
            self->result_ = fill_ram(self->file_.get(), self->ram_.get(), self->bytes_);
            std::uint64_t one = 1;
            (void)!::write(self->done_.get(), &one, sizeof one);
        });
    } catch (const std::system_error& e) {
        return fail("cannot start the RAM's copy: " + std::string(e.what()));
    }
    return f;
}

Result<> RamFill::result()
{
    if (thread_.joinable()) thread_.join();
    return result_;
}

RamFill::~RamFill()
{
    if (thread_.joinable()) thread_.join();
}

Result<> write_ram(int ram, int file, std::uint64_t ram_bytes)
{
    const auto end = static_cast<off_t>(ram_bytes);
    void* map = ::mmap(nullptr, ram_bytes, PROT_READ, MAP_SHARED, ram, 0);
    if (map == MAP_FAILED) return fail_errno("cannot map the guest's RAM");
    const auto* base = static_cast<const unsigned char*>(map);
    Result<> result;
    for (off_t at = 0; at < end && result;) {
        auto extent = next_extent(ram, at, end);
        if (!extent) {
            result = std::unexpected(extent.error());
            break;
        }
        auto [from, to] = *extent;
        if (from >= end) break;
        // Runs of pages that are not all zero, each written where it was.
        for (auto p = static_cast<std::size_t>(from); p < static_cast<std::size_t>(to);) {
            if (all_zero(base + p)) {
                p += page;
                continue;
            }
            std::size_t q = p + page;
            while (q < static_cast<std::size_t>(to) && !all_zero(base + q)) q += page;
            for (std::size_t done = p; done < q;) {
                ssize_t w = ::pwrite(file, base + done, q - done, static_cast<off_t>(done));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) {
                    result = fail_errno("cannot write the snapshot's RAM");
                    break;
                }
                done += static_cast<std::size_t>(w);
            }
            if (!result) break;
            p = q;
        }
        at = to;
    }
    ::munmap(map, ram_bytes);
    return result;
}

}  // namespace fleet::vmm
