// fleet shell — `cd [DIR|-]`: change the working folder; PWD and OLDPWD follow.
#include "builtins.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fleet::shell {

int builtin_cd(Shell& sh, Args& args)
{
    std::size_t i = 1;
    while (i < args.size() && (args[i] == "-L" || args[i] == "-P")) ++i;
    if (i < args.size() && args[i] == "--") ++i;
    if (args.size() > i + 1) return usage_error(sh, args, "too many arguments", 1);
    std::string dir;
    bool print = false;
    if (i == args.size()) {
        auto home = sh.get("HOME");
        if (!home) return usage_error(sh, args, "HOME not set", 1);
        dir = *home;
    } else if (args[i] == "-") {
        auto old = sh.get("OLDPWD");
        if (!old) return usage_error(sh, args, "OLDPWD not set", 1);
        dir = *old;
        print = true;
    } else {
        dir = args[i];
    }
    if (::chdir(dir.c_str()) != 0) return usage_error(sh, args, dir + ": " + std::strerror(errno), 1);
    char cwd[4096];
    std::string now = ::getcwd(cwd, sizeof cwd) ? cwd : dir;
    if (auto pwd = sh.get("PWD")) sh.set("OLDPWD", *pwd);
    sh.set("PWD", now);
    if (print) out(now + "\n");
    return 0;
}

}  // namespace fleet::shell
