// fleet shell — `images`: the commands the resolver offers as VMs (the
// catalog's images and the Linux image's applets).
#include "builtins.hpp"

namespace fleet::shell {

int builtin_images(Shell& sh, Args& args)
{
    if (args.size() > 1) return usage_error(sh, args, "usage: images");
    auto text = sh.settings.resolver->listing();
    if (!text) {
        sh.error("images: commands run as host programs here (--host-commands): no image catalog");
        return 1;
    }
    out(*text);
    return 0;
}

}  // namespace fleet::shell
