// fleet shell — `ulimit [-H|-S] [-a | -tfdscmlpnvwr] [LIMIT]`: fsh's own
// resource limits, which the programs it starts on the host inherit (a
// VM's limits are its guest's). Soft and hard limits are set together
// unless -H or -S says; shown, the soft one unless -H; dash's names and
// units (-f, the default, in 512-byte blocks).
#include "builtins.hpp"

#include <sys/resource.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace fleet::shell {
namespace {

struct Resource {
    char option;
    const char* name;
    int which;
    rlim_t unit;
};

constexpr std::array<Resource, 12> resources = {{
    {'t', "time(seconds)", RLIMIT_CPU, 1},
    {'f', "file(blocks)", RLIMIT_FSIZE, 512},
    {'d', "data(kbytes)", RLIMIT_DATA, 1024},
    {'s', "stack(kbytes)", RLIMIT_STACK, 1024},
    {'c', "coredump(blocks)", RLIMIT_CORE, 512},
    {'m', "memory(kbytes)", RLIMIT_RSS, 1024},
    {'l', "locked memory(kbytes)", RLIMIT_MEMLOCK, 1024},
    {'p', "process", RLIMIT_NPROC, 1},
    {'n', "nofiles", RLIMIT_NOFILE, 1},
    {'v', "vmemory(kbytes)", RLIMIT_AS, 1024},
    {'w', "locks", RLIMIT_LOCKS, 1},
    {'r', "rtprio", RLIMIT_RTPRIO, 1},
}};

std::string shown(rlim_t v, rlim_t unit)
{
    return v == RLIM_INFINITY ? "unlimited" : std::to_string(v / unit);
}

}  // namespace

int builtin_ulimit(Shell& sh, Args& args)
{
    bool hard = false, soft = false, all = false;
    const Resource* res = &resources[1];  // -f
    std::size_t i = 1;
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
        for (char c : args[i].substr(1)) {
            if (c == 'H') {
                hard = true;
            } else if (c == 'S') {
                soft = true;
            } else if (c == 'a') {
                all = true;
            } else {
                auto it =
                    std::find_if(resources.begin(), resources.end(), [c](const Resource& r) { return r.option == c; });
                if (it == resources.end()) return usage_error(sh, args, std::string("illegal option -") + c);
                res = &*it;
            }
        }
    }
    if (all) {
        for (const auto& r : resources) {
            rlimit l{};
            if (::getrlimit(r.which, &l) != 0) continue;
            std::string name = r.name;
            name.resize(std::max<std::size_t>(name.size() + 1, 21), ' ');
            out(name + shown(hard ? l.rlim_max : l.rlim_cur, r.unit) + "\n");
        }
        return 0;
    }
    rlimit l{};
    if (::getrlimit(res->which, &l) != 0) return usage_error(sh, args, std::strerror(errno), 1);
    if (i == args.size()) {
        out(shown(hard ? l.rlim_max : l.rlim_cur, res->unit) + "\n");
        return 0;
    }
    if (i + 1 < args.size()) return usage_error(sh, args, "too many arguments");
    rlim_t v = RLIM_INFINITY;
    if (args[i] != "unlimited") {
        auto n = parse_number(args[i]);
        if (!n || *n < 0 || static_cast<unsigned long>(*n) > RLIM_INFINITY / res->unit)
            return usage_error(sh, args, "bad number: " + args[i]);
        v = static_cast<rlim_t>(*n) * res->unit;
    }
    if (!hard && !soft) hard = soft = true;
    if (hard) l.rlim_max = v;
    if (soft) l.rlim_cur = v;
    if (::setrlimit(res->which, &l) != 0)
        return usage_error(sh, args, "cannot set: " + std::string(std::strerror(errno)), 1);
    return 0;
}

}  // namespace fleet::shell
