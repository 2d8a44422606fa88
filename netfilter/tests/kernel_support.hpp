// netfilter-kernel's helpers: a fresh network namespace per test, shell
// commands (ip, nft) read back inside it.
#pragma once

#include <fleet/test/support.hpp>

#include <sched.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fleet::netfilter::test {

// Move this process into a new, empty network namespace: every bridge, tap
// and table a test makes lives and dies there, never in the host's. Each
// call starts over (the previous namespace goes away with its last user).
// Without CAP_NET_ADMIN the whole program is skipped (exit 77).
inline void fresh_netns()
{
    if (::unshare(CLONE_NEWNET) != 0) {
        std::fprintf(stderr,
                     "netfilter-kernel: skipped: cannot make a network namespace (unshare: %s); "
                     "these tests need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)\n",
                     std::strerror(errno));
        std::exit(77);
    }
}

struct Shell {
    int status = -1;
    std::string out;
};

// Run a shell command in this namespace; its stdout and exit status.
inline Shell sh(const std::string& command)
{
    Shell r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

}  // namespace fleet::netfilter::test
