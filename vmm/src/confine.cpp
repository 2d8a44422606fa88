// fleet — confining QEMU (see confine.hpp).
#include <fleet/vmm/confine.hpp>

#include <fleet/base/file.hpp>
#include <fleet/base/open_as.hpp>
#include <fleet/base/socket.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace fleet::vmm {

namespace {

// /etc/passwd and /etc/group read directly (fgetpwent, fgetgrent): fleet-vmm
// is linked statically, where glibc's NSS modules (getpwnam, getgrouplist)
// crash. The QEMU user is a local system user (tools/setup makes it).
std::optional<SpawnOptions::Credentials> local_user(const std::string& name)
{
    std::optional<SpawnOptions::Credentials> found;
    if (FILE* f = std::fopen("/etc/passwd", "re")) {
        while (passwd* pw = ::fgetpwent(f))
            if (name == pw->pw_name) {
                found = SpawnOptions::Credentials{pw->pw_uid, pw->pw_gid, {pw->pw_gid}};
                break;
            }
        std::fclose(f);
    }
    if (!found) return found;
    if (FILE* f = std::fopen("/etc/group", "re")) {
        while (group* gr = ::fgetgrent(f))
            for (char** m = gr->gr_mem; m && *m; ++m)
                if (name == *m && gr->gr_gid != found->gid) found->groups.push_back(gr->gr_gid);
        std::fclose(f);
    }
    return found;
}

}  // namespace

std::string qemu_user_name()
{
    const char* env = std::getenv("FLEET_QEMU_USER");
    return env && *env ? env : "fleet-qemu";
}

Result<std::optional<SpawnOptions::Credentials>> qemu_credentials()
{
    if (::geteuid() != 0) return std::nullopt;
    std::string name = qemu_user_name();
    if (name == "root") return std::nullopt;
    auto user = local_user(name);
    if (!user)
        return fail("QEMU's user '" + name +
                    "' does not exist (run tools/setup deps, or FLEET_QEMU_USER=root to run QEMU as root)");
    if (user->uid == 0) return std::nullopt;
    return user;
}

namespace {

// base's write_all, its error worded as a copy's.
Result<> copy_into(int fd, std::string_view bytes, const std::string& what)
{
    auto w = write_all(fd, bytes, what);
    if (!w) return fail("cannot copy " + what, w.error().sys_errno);
    return {};
}

Result<Fd> new_boot_file(const std::string& what)
{
    Fd out(::memfd_create("fleet-boot-file", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!out) return fail_errno("cannot copy " + what);
    return out;
}

Result<Fd> sealed(Fd out, const std::string& what)
{
    if (::fcntl(out.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        return fail_errno("cannot seal the copy of " + what);
    return out;
}

}  // namespace

Result<Fd> sealed_copy(const std::string& path, int from)
{
    Fd opened(from < 0 ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1);
    if (from < 0 && !opened) return fail_errno("cannot read '" + path + "'");
    int in = from < 0 ? opened.get() : from;
    std::string what = "'" + path + "'";
    auto out = new_boot_file(what);
    if (!out) return out;
    char buf[65536];
    off_t offset = 0;
    for (;;) {
        ssize_t n = ::pread(in, buf, sizeof buf, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read '" + path + "'");
        if (n == 0) break;
        offset += n;
        if (auto w = copy_into(out->get(), {buf, static_cast<std::size_t>(n)}, what); !w)
            return std::unexpected(w.error());
    }
    return sealed(std::move(*out), what);
}

Result<Fd> sealed_bytes(std::string_view bytes, const std::string& what)
{
    auto out = new_boot_file(what);
    if (!out) return out;
    if (auto w = copy_into(out->get(), bytes, what); !w) return std::unexpected(w.error());
    return sealed(std::move(*out), what);
}

// A kernel or initrd as QEMU gets it: the opened file itself when anyone
// may read it (a regular file with the others' read bit: QEMU's reopen
// through /proc/self/fd passes the kernel's check of the inode's mode, and
// fleet-qemu learns nothing it could not read), else a sealed copy. A Linux
// image's kernel and initrd are 18 MB: copying them took 20-40 ms a start.
Result<Fd> boot_file(const std::string& path, Fd opened)
{
    if (!opened) opened = Fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened) return fail_errno("cannot read '" + path + "'");
    struct stat st {};
    if (::fstat(opened.get(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH)) return opened;
    return sealed_copy(path, opened.get());
}

SpawnOptions::MountView qemu_mount_view(const std::string& qemu)
{
    SpawnOptions::MountView v;
    v.folders = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache", "/sys"};
    // A QEMU of its own elsewhere (/opt/qemu/bin): its folder too.
    char real[PATH_MAX];
    if (::realpath(qemu.c_str(), real)) {
        std::string dir = real;
        dir.resize(dir.rfind('/'));
        if (!dir.empty() && !dir.starts_with("/usr/")) v.folders.push_back(dir);
    }
    v.devices = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/hwrng", "/dev/kvm"};
    return v;
}

std::vector<std::string> qemu_environment()
{
    const std::string ours = "glibc.malloc.hugetlb=1";
    const char* user = std::getenv("GLIBC_TUNABLES");
    if (!user || !*user) return {"GLIBC_TUNABLES=" + ours};
    std::string theirs = user;
    if (theirs.find("glibc.malloc.hugetlb=") != std::string::npos) return {"GLIBC_TUNABLES=" + theirs};
    return {"GLIBC_TUNABLES=" + theirs + ":" + ours};
}

namespace {

// Where the handed fds land in QEMU: above the channels and the taps.
constexpr int child_kernel = 40, child_initrd = 41, child_qmp_public = 42, child_disk_base = 44;

void hand(Confinement& c, Fd fd, int child)
{
    c.pass_fds.emplace_back(fd.get(), child);
    c.fds.push_back(std::move(fd));
}

std::string proc_fd(int child)
{
    return "/proc/self/fd/" + std::to_string(child);
}

}  // namespace

std::vector<std::string> shares_unwritable_by(const VmSpec& spec, const SpawnOptions::Credentials& qemu)
{
    std::vector<std::string> out;
    for (const auto& sh : spec.shares) {
        if (sh.read_only) continue;
        Fd dir(::open(sh.host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!dir) continue;  // the launch says why
        // The file-system ids are this thread's alone; their capabilities
        // (CAP_DAC_OVERRIDE) go with a non-zero fsuid and come back with 0.
        const int old_uid = ::setfsuid(qemu.uid);
        const int old_gid = ::setfsgid(qemu.gid);
        const bool ok = ::faccessat(dir.get(), ".", W_OK | X_OK, AT_EACCESS) == 0;
        ::setfsgid(static_cast<gid_t>(old_gid));
        ::setfsuid(static_cast<uid_t>(old_uid));
        if (!ok) out.push_back(sh.host_path);
    }
    return out;
}

namespace {

// The files QEMU is handed, opened: the client's (if any) in one go with
// its owner's rights, the rest with the launcher's.
struct Opened {
    Fd kernel, initrd;
    std::vector<std::vector<Fd>> disks;  // read-write: {O_RDWR, O_RDONLY}
    std::vector<Fd> shares;
};

Result<Opened> open_files(const VmSpec& s, const std::optional<ClientFiles>& client)
{
    Opened o;
    std::vector<OpenRequest> asked;
    std::vector<Fd*> into;
    auto open = [&](Fd& fd, bool theirs, OpenRequest r) -> Result<> {
        if (theirs) {
            asked.push_back(std::move(r));
            into.push_back(&fd);
            return {};
        }
        fd = Fd(::open(r.path.c_str(), r.flags | O_CLOEXEC | (r.directory ? O_DIRECTORY : 0)));
        if (!fd) return fail_errno("cannot open '" + r.path + "'");
        return {};
    };
    if (client && client->kernel)
        if (auto r = open(o.kernel, true, {s.kernel, O_RDONLY}); !r) return std::unexpected(r.error());
    if (!s.initrd.empty() && client && client->initrd)
        if (auto r = open(o.initrd, true, {s.initrd, O_RDONLY}); !r) return std::unexpected(r.error());
    o.disks.resize(s.disks.size());
    for (std::size_t i = 0; i < s.disks.size(); ++i) {
        const auto& d = s.disks[i];
        // A read-write disk gets a read-only fd in its set as well: QEMU
        // picks the one whose access mode it asks for.
        o.disks[i].resize(d.read_only ? 1 : 2);
        for (std::size_t k = 0; k < o.disks[i].size(); ++k) {
            int mode = d.read_only || k == 1 ? O_RDONLY : O_RDWR;
            if (auto r = open(o.disks[i][k], client.has_value(), {d.path, mode}); !r)
                return fail("disk '" + d.path + "' cannot be opened", r.error().sys_errno);
        }
    }
    o.shares.resize(s.shares.size());
    for (std::size_t i = 0; i < s.shares.size(); ++i) {
        const auto& sh = s.shares[i];
        if (auto r = open(o.shares[i], client.has_value(), {sh.host_path, O_RDONLY, true, !sh.read_only}); !r)
            return fail("shared folder '" + sh.host_path + "' cannot be opened", r.error().sys_errno);
    }
    if (!asked.empty()) {
        auto fds = open_as(client->owner, asked);
        if (!fds) return std::unexpected(fds.error());
        for (std::size_t i = 0; i < into.size(); ++i) *into[i] = std::move((*fds)[i]);
    }
    return o;
}

}  // namespace

Result<Confinement> confine_files(VmSpec& argv_spec, Wiring& wiring, const std::string& public_qmp_path,
                                  const std::optional<ClientFiles>& client)
{
    auto opened = open_files(argv_spec, client);
    if (!opened) return std::unexpected(opened.error());
    Confinement c;
    auto kernel = boot_file(argv_spec.kernel, std::move(opened->kernel));
    if (!kernel) return std::unexpected(kernel.error());
    hand(c, std::move(*kernel), child_kernel);
    argv_spec.kernel = proc_fd(child_kernel);
    if (!argv_spec.initrd.empty()) {
        auto initrd = boot_file(argv_spec.initrd, std::move(opened->initrd));
        if (!initrd) return std::unexpected(initrd.error());
        hand(c, std::move(*initrd), child_initrd);
        argv_spec.initrd = proc_fd(child_initrd);
    }
    int next = child_disk_base;
    for (std::size_t i = 0; i < argv_spec.disks.size(); ++i) {
        int set = static_cast<int>(i) + 1;
        for (auto& fd : opened->disks[i]) {
            wiring.fd_sets.emplace_back(next, set);
            hand(c, std::move(fd), next++);
        }
        argv_spec.disks[i].path = "/dev/fdset/" + std::to_string(set);
    }
    // QEMU's local fsdev takes a path only: the folder it finds at
    // /proc/self/fd/N is the one opened here, not whatever the path is now.
    for (std::size_t i = 0; i < argv_spec.shares.size(); ++i) {
        argv_spec.shares[i].host_path = proc_fd(next);
        hand(c, std::move(opened->shares[i]), next++);
    }
    wiring.mapped_shares = true;
    if (!public_qmp_path.empty()) {
        auto sock = listen_unix(public_qmp_path);
        if (!sock) return std::unexpected(sock.error());
        hand(c, std::move(*sock), child_qmp_public);
        wiring.qmp_public_fd = child_qmp_public;
    }
    return c;
}

}  // namespace fleet::vmm
