// exit: ends with the status given as its argument (0 by default, taken
// modulo 256 like a shell's `exit N`), printing nothing.
#include "rt.hpp"

int main(int argc, char** argv)
{
    if (argc < 2) return 0;
    uint64_t v;
    if (argc > 2 || !rt::parse_u64(argv[1], &v)) {
        rt::eprintf("exit: usage: exit [N] (N a decimal number)\n");
        return 2;
    }
    return static_cast<int>(v & 0xff);
}
