// fleet shell — `times`: the user and system time of fsh, then of the
// processes it waited for (host programs and launchers: a VM's guest time
// is QEMU's, which counts under its launcher), as dash prints them.
#include "builtins.hpp"

#include <sys/resource.h>

namespace fleet::shell {
namespace {

std::string minutes_seconds(const timeval& t)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%ldm%f s", static_cast<long>(t.tv_sec / 60),
                  static_cast<double>(t.tv_sec % 60) + static_cast<double>(t.tv_usec) / 1e6);
    std::string s = buf;
    s.erase(s.find(' '), 1);
    return s;
}

}  // namespace

int builtin_times(Shell&, Args&)
{
    rusage self{}, children{};
    ::getrusage(RUSAGE_SELF, &self);
    ::getrusage(RUSAGE_CHILDREN, &children);
    out(minutes_seconds(self.ru_utime) + " " + minutes_seconds(self.ru_stime) + "\n" +
        minutes_seconds(children.ru_utime) + " " + minutes_seconds(children.ru_stime) + "\n");
    return 0;
}

}  // namespace fleet::shell
