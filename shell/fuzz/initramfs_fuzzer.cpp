// fleet shell — fuzz target for the initramfs reader (libFuzzer entry point).
//
// fsh reads the Linux image's initramfs to learn which busybox applets are
// commands. The archive comes from the image catalog, any folder
// FLEET_IMAGES names: a truncated or hostile one must be refused, never
// read past, and never loop. Whatever is accepted holds only names of one
// path component, sorted and unique.
#include <fleet/shell/vm_runner.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto names = fleet::shell::initramfs_programs(input);
    if (!names) return 0;
    for (std::size_t i = 0; i < names->size(); ++i) {
        const std::string& n = (*names)[i];
        if (n.empty() || n.find('/') != std::string::npos || (i > 0 && (*names)[i - 1] >= n)) {
            std::fprintf(stderr, "initramfs-fuzzer: bad name '%s' at %zu\n", n.c_str(), i);
            std::abort();
        }
    }
    return 0;
}
