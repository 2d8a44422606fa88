// fleet runtime: the printf engine (format.cpp), shared by snprintf and the
// fd and console printers (printf.cpp). Pure: it also compiles for the host,
// where tests/format_test.cpp checks it against the C library's printf.
#pragma once

#include <stdarg.h>
#include <stddef.h>

namespace rt::fmt {

// Where formatted bytes go: emit() is called with each piece; `total` counts
// every byte, whether it fit or not (snprintf's return value).
struct Sink {
    void (*emit)(Sink*, const char*, size_t);
    char* buf;  // snprintf
    size_t cap, len;
    int fd;
    size_t total;
};

// Into buf[0..cap-1]; the caller terminates it.
void emit_buf(Sink* s, const char* p, size_t n);
// %d %i %u %x %X %o %c %s %p %%, flags - 0 + space #, width and precision
// (also *), length modifiers hh h l ll z t j.
void format(Sink* s, const char* fmt, va_list ap);

}  // namespace rt::fmt
