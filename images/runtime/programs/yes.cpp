// yes: prints its arguments (joined by spaces; default "y") and a newline,
// over and over, until the host closes stdout: then it exits 141 (128 +
// SIGPIPE, what a shell reports for GNU yes killed by its closed pipe).
#include "rt.hpp"

int main(int argc, char** argv)
{
    size_t len = 0;
    for (int i = 1; i < argc; i++) len += strlen(argv[i]) + 1;
    if (argc < 2) len = 2;
    char* line = static_cast<char*>(rt::malloc(len));
    if (!line) rt::panic("out of memory");
    if (argc < 2) {
        memcpy(line, "y\n", 2);
    } else {
        size_t at = 0;
        for (int i = 1; i < argc; i++) {
            size_t n = strlen(argv[i]);
            memcpy(line + at, argv[i], n);
            at += n;
            line[at++] = i + 1 < argc ? ' ' : '\n';
        }
    }
    // A block of whole lines, about 64 KiB.
    size_t reps = len >= 32 * 1024 ? 1 : (64 * 1024) / len;
    size_t block_len = reps * len;
    char* block = static_cast<char*>(rt::malloc(block_len));
    if (!block) rt::panic("out of memory");
    for (size_t r = 0; r < reps; r++) memcpy(block + r * len, line, len);
    for (;;)
        if (rt::write(rt::out, block, block_len) < 0) return 141;
}
