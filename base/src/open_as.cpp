// fleet — opening files with another user's rights (see open_as.hpp).
//
// Decision: a forked child rather than switching this thread's fsuid,
// fsgid and groups (raw setfsuid/setgroups are per thread on Linux). The
// callers are multi-threaded at times and submit io_uring work whose
// credentials are taken at submission; a per-thread switch that an error
// path forgets to undo would leave root's thread as the client, or the
// client's thread able to act as root. A child that becomes the user for
// good (uid as well, not only the file-system uid) and exits cannot leak
// either way; it costs one fork per VM start.
#include <fleet/base/open_as.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet {

namespace {

// One answer per request: 0 and an fd, or an errno and none.
void answer(int sock, int err, int fd)
{
    msghdr m{};
    iovec iov{&err, sizeof err};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (fd >= 0) {
        std::memset(control, 0, sizeof control);
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    (void)::sendmsg(sock, &m, MSG_NOSIGNAL);
}

// The open itself, as the user: never blocks on a FIFO, and only the kind
// of file asked for.
int open_one(const OpenRequest& r, int& fd)
{
    int flags = r.flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (r.directory ? O_DIRECTORY : 0);
    fd = ::open(r.path.c_str(), flags);
    if (fd < 0) return errno;
    struct stat st {};
    int err = 0;
    if (::fstat(fd, &st) != 0)
        err = errno;
    else if (!r.directory && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        err = EINVAL;
    else if (r.writable && ::syscall(SYS_faccessat2, fd, "", W_OK | X_OK, AT_EMPTY_PATH) != 0)
        err = errno;
    else if (int fl = ::fcntl(fd, F_GETFL); fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        err = errno;
    if (err) {
        ::close(fd);
        fd = -1;
    }
    return err;
}

// In the child: only system calls (the parent may have threads).
[[noreturn]] void child(int sock, const SpawnOptions::Credentials& who, const std::vector<OpenRequest>& files)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    bool ok = ::syscall(SYS_setgroups, who.groups.size(), who.groups.data()) == 0 &&
              ::syscall(SYS_setresgid, who.gid, who.gid, who.gid) == 0 &&
              ::syscall(SYS_setresuid, who.uid, who.uid, who.uid) == 0;
    if (!ok) {
        answer(sock, errno ? errno : EPERM, -1);
        ::_exit(1);
    }
    for (const auto& r : files) {
        int fd = -1;
        int err = open_one(r, fd);
        answer(sock, err, fd);
        if (fd >= 0) ::close(fd);
        if (err) ::_exit(1);
    }
    ::_exit(0);
}

// One answer from the child, within timeout_ms.
Result<Fd> receive(int sock, int timeout_ms, const std::string& path)
{
    pollfd p{sock, POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) return fail("opening '" + path + "' took too long");
    int err = 0;
    msghdr m{};
    iovec iov{&err, sizeof err};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t got;
    do got = ::recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (got < 0 && errno == EINTR);
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    Fd owned(fd);
    if (got != static_cast<ssize_t>(sizeof err)) return fail("cannot open '" + path + "': the helper ended");
    if (err) return fail("cannot open '" + path + "'", err);
    if (!owned) return fail("cannot open '" + path + "': no file came back");
    return owned;
}

}  // namespace

Result<std::vector<Fd>> open_as(const SpawnOptions::Credentials& who, const std::vector<OpenRequest>& files,
                                int timeout_ms)
{
    std::vector<Fd> out;
    if (files.empty()) return out;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return fail_errno("cannot create a socket pair");
    Fd mine(sv[0]), theirs(sv[1]);
    pid_t pid = ::fork();
    if (pid < 0) return fail_errno("cannot fork");
    if (pid == 0) child(theirs.get(), who, files);
    theirs.reset();
    Result<std::vector<Fd>> result = std::move(out);
    for (const auto& r : files) {
        auto fd = receive(mine.get(), timeout_ms, r.path);
        if (!fd) {
            result = std::unexpected(fd.error());
            break;
        }
        result->push_back(std::move(*fd));
    }
    ::kill(pid, SIGKILL);  // done, or stuck: either way it has nothing more to say
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return result;
}

}  // namespace fleet
