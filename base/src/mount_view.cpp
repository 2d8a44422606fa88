// fleet — a child's private mount namespace (see mount_view.hpp).
#include "mount_view.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace fleet {

namespace {

// Where the new root is built, in the child's namespace only (also in
// enter_mount_view's literals).
constexpr const char* stage = "/tmp";

// Every folder above `path` (absolute) in the new root.
void make_parents(MountPlan& plan, const std::string& path)
{
    for (std::size_t at = path.find('/', 1); at != std::string::npos; at = path.find('/', at + 1))
        plan.steps.push_back({MountPlan::Step::Kind::mkdir, {}, stage + path.substr(0, at)});
}

// A host path seen at the same path: a symbolic link as a link (/lib ->
// usr/lib), else bound (a folder read-only unless `writable`). Missing:
// skipped.
Result<> add(MountPlan& plan, const std::string& path, bool writable)
{
    struct stat st {};
    if (path.empty() || path.front() != '/' || ::lstat(path.c_str(), &st) != 0) return {};
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        if (n < 0) return fail_errno("cannot read the link '" + path + "'");
        make_parents(plan, path);
        plan.steps.push_back(
            {MountPlan::Step::Kind::symlink, std::string(target, static_cast<std::size_t>(n)), stage + path});
        return {};
    }
    make_parents(plan, path);
    plan.steps.push_back(
        {S_ISDIR(st.st_mode) ? MountPlan::Step::Kind::mkdir : MountPlan::Step::Kind::touch, {}, stage + path});
    plan.steps.push_back(
        {writable || !S_ISDIR(st.st_mode) ? MountPlan::Step::Kind::bind : MountPlan::Step::Kind::bind_ro, path,
         stage + path});
    return {};
}

}  // namespace

Result<MountPlan> plan_mount_view(const SpawnOptions::MountView& view)
{
    MountPlan plan;
    for (const auto& d : view.folders)
        if (auto r = add(plan, d, false); !r) return std::unexpected(r.error());
    for (const auto& d : view.devices)
        if (auto r = add(plan, d, true); !r) return std::unexpected(r.error());
    if (auto r = add(plan, "/proc", true); !r) return std::unexpected(r.error());
    return plan;
}

namespace {

// "/proc/self/fd/N" into out (32 bytes), without allocating.
void proc_fd_path(int fd, char* out)
{
    const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + fd % 10);
    while ((fd /= 10) > 0);
    std::size_t at = 0;
    for (char c : prefix)
        if (c) out[at++] = c;
    while (n > 0) out[at++] = digits[--n];
    out[at] = '\0';
}

}  // namespace

bool enter_mount_view(MountPlan& plan)
{
    if (::unshare(CLONE_NEWNS) != 0) return false;
    // Nothing done here reaches the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
    // The sources, in this namespace (a bind takes no mount of another).
    for (auto& s : plan.steps) {
        if (s.kind != MountPlan::Step::Kind::bind && s.kind != MountPlan::Step::Kind::bind_ro) continue;
        int fd = ::open(s.from.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return false;
        proc_fd_path(fd, s.via);
    }
    if (::mount("fleet-root", stage, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,nr_inodes=256,mode=0755") != 0)
        return false;
    for (const auto& s : plan.steps) {
        const char* to = s.to.c_str();
        switch (s.kind) {
            case MountPlan::Step::Kind::mkdir:
                if (::mkdir(to, 0755) != 0 && errno != EEXIST) return false;
                break;
            case MountPlan::Step::Kind::touch: {
                int fd = ::open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0) return false;
                ::close(fd);
                break;
            }
            case MountPlan::Step::Kind::symlink:
                if (::symlink(s.from.c_str(), to) != 0) return false;
                break;
            case MountPlan::Step::Kind::bind:
            case MountPlan::Step::Kind::bind_ro:
                if (::mount(s.via, to, nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
                if (s.kind == MountPlan::Step::Kind::bind_ro &&
                    ::mount(nullptr, to, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) !=
                        0)
                    return false;
                break;
        }
    }
    // The tmpfs becomes the root; the host's tree goes away entirely.
    if (::mkdir("/tmp/.old", 0700) != 0) return false;
    if (::syscall(SYS_pivot_root, stage, "/tmp/.old") != 0) return false;
    if (::chdir("/") != 0) return false;
    if (::umount2("/.old", MNT_DETACH) != 0) return false;
    if (::rmdir("/.old") != 0) return false;
    return ::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0;
}

}  // namespace fleet
