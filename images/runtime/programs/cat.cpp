// cat: copies stdin to stdout (file arguments are not supported).
#include "rt.hpp"

int main(int argc, char** argv)
{
    if (argc > 1) {
        rt::eprintf("cat: %s: file arguments are not supported (reads stdin only)\n", argv[1]);
        return 1;
    }
    static char buf[64 * 1024];
    for (;;) {
        long n = rt::read(rt::in, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            rt::eprintf("cat: read error\n");
            return 1;
        }
        if (rt::write(rt::out, buf, static_cast<size_t>(n)) < 0) return 141;  // like SIGPIPE
    }
}
