// fleet — confining QEMU (see confine.hpp).
#include <fleet/vmm/confine.hpp>

#include <fleet/base/socket.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <unistd.h>

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

Result<std::optional<SpawnOptions::Credentials>> qemu_credentials()
{
    if (::geteuid() != 0) return std::nullopt;
    const char* env = std::getenv("FLEET_QEMU_USER");
    std::string name = env && *env ? env : "fleet-qemu";
    if (name == "root") return std::nullopt;
    auto user = local_user(name);
    if (!user)
        return fail("QEMU's user '" + name +
                    "' does not exist (run tools/setup deps, or FLEET_QEMU_USER=root to run QEMU as root)");
    if (user->uid == 0) return std::nullopt;
    return user;
}

Result<Fd> sealed_copy(const std::string& path)
{
    Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) return fail_errno("cannot read '" + path + "'");
    Fd out(::memfd_create("fleet-boot-file", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!out) return fail_errno("cannot copy '" + path + "'");
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read '" + path + "'");
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out.get(), buf + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return fail_errno("cannot copy '" + path + "'");
            done += w;
        }
    }
    if (::fcntl(out.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        return fail_errno("cannot seal the copy of '" + path + "'");
    return out;
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

Result<Confinement> confine_files(VmSpec& argv_spec, Wiring& wiring, const std::string& public_qmp_path)
{
    Confinement c;
    auto kernel = sealed_copy(argv_spec.kernel);
    if (!kernel) return std::unexpected(kernel.error());
    hand(c, std::move(*kernel), child_kernel);
    argv_spec.kernel = proc_fd(child_kernel);
    if (!argv_spec.initrd.empty()) {
        auto initrd = sealed_copy(argv_spec.initrd);
        if (!initrd) return std::unexpected(initrd.error());
        hand(c, std::move(*initrd), child_initrd);
        argv_spec.initrd = proc_fd(child_initrd);
    }
    int next = child_disk_base;
    for (std::size_t i = 0; i < argv_spec.disks.size(); ++i) {
        auto& d = argv_spec.disks[i];
        int set = static_cast<int>(i) + 1;
        // A read-write disk gets a read-only fd in its set as well: QEMU
        // picks the one whose access mode it asks for.
        for (int mode : d.read_only ? std::vector<int>{O_RDONLY} : std::vector<int>{O_RDWR, O_RDONLY}) {
            Fd fd(::open(d.path.c_str(), mode | O_CLOEXEC));
            if (!fd) return fail_errno("disk '" + d.path + "' cannot be opened");
            wiring.fd_sets.emplace_back(next, set);
            hand(c, std::move(fd), next++);
        }
        d.path = "/dev/fdset/" + std::to_string(set);
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
