// fleet shell — redirections (POSIX XCU 2.7), performed on the shell's own
// fds: a builtin writes where they say, and a started command inherits them.
#include "exec_internal.hpp"

#include <fleet/shell/expand.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace fleet::shell {
namespace {

// Copies of replaced fds live at 10 and above, close-on-exec, out of the
// way of the 0-9 a script may name.
constexpr int saved_fd_floor = 10;

int default_fd(RedirOp op)
{
    switch (op) {
        case RedirOp::in:
        case RedirOp::dup_in:
        case RedirOp::read_write:
        case RedirOp::heredoc:
            return 0;
        default:
            return 1;
    }
}

// The here-document's text in an anonymous file (a pipe could fill up
// before anyone reads it).
int heredoc_fd(Shell& sh, const HereDoc& doc)
{
    std::string text = doc.expand               ? expand_text(sh, doc.body.parts)
                       : doc.body.parts.empty() ? ""
                                                : doc.body.parts[0].text;
    int fd = ::memfd_create("fsh-heredoc", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (!write_all(fd, text) || ::lseek(fd, 0, SEEK_SET) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool dup_target(Shell& sh, int fd, const std::string& target)
{
    if (target == "-") {
        ::close(fd);
        return true;
    }
    bool digits = !target.empty() && target.size() < 6;
    for (char c : target) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits) {
        sh.error(target + ": bad file descriptor");
        return false;
    }
    int from = std::stoi(target);
    if (from == fd) return true;
    if (::fcntl(from, F_GETFD) < 0 || ::dup2(from, fd) < 0) {
        sh.error(target + ": bad file descriptor");
        return false;
    }
    return true;
}

int open_flags(RedirOp op)
{
    switch (op) {
        case RedirOp::in:
            return O_RDONLY;
        case RedirOp::out:
        case RedirOp::clobber:
            return O_WRONLY | O_CREAT | O_TRUNC;
        case RedirOp::append:
            return O_WRONLY | O_CREAT | O_APPEND;
        default:
            return O_RDWR | O_CREAT;
    }
}

bool apply_one(Shell& sh, const Redirect& r, SavedFds* saved)
{
    int fd = redirected_fd(r);
    if (fd >= saved_fd_floor) {
        sh.error(std::to_string(fd) + ": file descriptor out of range (0-9)");
        return false;
    }
    if (saved) saved->save(fd);
    if (r.op == RedirOp::dup_in || r.op == RedirOp::dup_out) {
        return dup_target(sh, fd, expand_text(sh, r.target.parts));
    }
    int opened;
    if (r.op == RedirOp::heredoc) {
        opened = heredoc_fd(sh, *r.here);
        if (opened < 0) sh.error(std::string("here-document: ") + std::strerror(errno));
    } else {
        std::string path = expand_text(sh, r.target.parts);
        opened = ::open(path.c_str(), open_flags(r.op) | O_CLOEXEC, 0666);
        if (opened < 0) sh.error(path + ": " + std::strerror(errno));
    }
    if (opened < 0) return false;
    if (opened == fd) {
        ::fcntl(fd, F_SETFD, 0);  // the script's fd is inherited by commands
        return true;
    }
    ::dup2(opened, fd);  // the copy at fd is not close-on-exec
    ::close(opened);
    return true;
}

}  // namespace

int redirected_fd(const Redirect& r)
{
    return r.fd >= 0 ? r.fd : default_fd(r.op);
}

void SavedFds::save(int fd)
{
    for (const auto& [f, copy] : saved_) {
        if (f == fd) return;
    }
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, saved_fd_floor);
    saved_.emplace_back(fd, copy);
}

void SavedFds::restore()
{
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
        if (it->second >= 0) {
            ::dup2(it->second, it->first);
            ::close(it->second);
        } else {
            ::close(it->first);
        }
    }
    saved_.clear();
}

bool apply_redirects(Shell& sh, const std::vector<Redirect>& redirects, SavedFds* saved)
{
    for (const auto& r : redirects) {
        if (!apply_one(sh, r, saved)) return false;
    }
    return true;
}

}  // namespace fleet::shell
