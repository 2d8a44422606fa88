// fleet shell — `shift [N]`.
#include "builtins.hpp"

namespace fleet::shell {

int builtin_shift(Shell& sh, Args& args)
{
    long n = 1;
    if (args.size() > 1) {
        auto v = parse_number(args[1]);
        if (!v || *v < 0) return usage_error(sh, args, "illegal number: " + args[1]);
        n = *v;
    }
    if (static_cast<std::size_t>(n) > sh.positional.size()) {
        return usage_error(sh, args, "can't shift that many", sh.interactive ? 1 : 2);
    }
    sh.positional.erase(sh.positional.begin(), sh.positional.begin() + n);
    return 0;
}

}  // namespace fleet::shell
