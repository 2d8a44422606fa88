// fleet unikernel runtime: the API a program sees (see README.md).
//
// A program is one C++ file defining `int main(int argc, char** argv)`; it
// is linked with the runtime into a PVH ELF that boots in a microvm.  The
// runtime is freestanding: no libc, no libstdc++, no exceptions or RTTI.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

namespace rt {

// ---- standard channels (virtio-serial ports fleet.stdin/stdout/stderr) ----
inline constexpr int in = 0, out = 1, err = 2;

// The hypervisor channel (port org.fleet.hypervisor, docs/hypervisor.md):
// read and written like the others, only in a domain given one (has_port).
// rt/virt.hpp speaks the libvirt protocol over it.
inline constexpr int hypervisor = 4;

// Reads up to n bytes of stdin (fd 0) or the hypervisor channel (fd 4).
// Returns the count (> 0), 0 at end of file, or -1 for a bad fd.  Blocks
// (halting the CPU) while nothing arrived.
long read(int fd, void* buf, size_t n);

// Writes all n bytes to stdout (1), stderr (2) or the hypervisor channel
// (4) through large buffers.  Returns n, or -1 when the host side of the
// port is closed (like EPIPE).  Blocks while every buffer is in flight.
long write(int fd, const void* buf, size_t n);

// True if this VM has the port of fd (the hypervisor channel is optional).
bool has_port(int fd);

// Waits until one of fds is ready, like poll(2): poll_in, a read would not
// block (bytes, or end of file); poll_out, a write of one buffer's worth
// (16 KiB on stderr, 64 KiB on stdout and the channel) would not block, or
// would fail at once.  Sets revents, returns how many are ready; with
// !wait, returns at once (0: none).  Buffered output is handed out first.
inline constexpr short poll_in = 1, poll_out = 4;
struct PollFd {
    int fd;
    short events, revents;
};
int poll(PollFd* fds, int n, bool wait = true);

// Hands the buffered bytes of fd to the host; with wait, returns once QEMU
// has passed them on.  Returns -1 if the port is closed.
int flush(int fd, bool wait = false);

// True once the host closed its side of the port (stdout gone, stdin EOF
// seen by the device - pending data may still be readable).
bool host_closed(int fd);

// Formatted output: %d %i %u %x %X %o %c %s %p %%, flags - 0 + space, width
// and precision (also *), length modifiers hh h l ll z t j.
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int eprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int dprintf(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int vdprintf(int fd, const char* fmt, va_list ap);
int snprintf(char* buf, size_t n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char* buf, size_t n, const char* fmt, va_list ap);

// The runtime's own console: COM1, unbuffered, for diagnostics.
void console(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// ---- process ----
// Flushes stdout/stderr, writes `exit N` on fleet.ctl, leaves via
// isa-debug-exit.  Returning from main(r) is exit(r).
[[noreturn]] void exit(int status);
// Prints "NAME: panic: ..." on the console and stderr, exits 255.
[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
const char* program_name();

// ---- power button (ACPI GED, `fleet-vmm stop`) ----
// The runtime acts on a press at its next blocking point or I/O call: it
// calls the handler if one is set (it may return to ignore the press), else
// flushes output, writes `exit 143` on ctl and powers off through ACPI S5.
using PowerHandler = void (*)();
void on_power_button(PowerHandler h);
[[noreturn]] void power_off(int status);  // `exit status` on ctl, then S5

// ---- signals ("signal N" from the host: fleet-vmm kill -s, Ctrl-C) ----
// Delivered like the power button, at the next blocking point or I/O call:
// the handler set for N, else exit(128 + N). SIGKILL (9) cannot be handled.
using SignalHandler = void (*)(int sig);
void on_signal(int sig, SignalHandler h);  // nullptr: the default again

// ---- environment (the exec block; main also gets it as its third argument) ----
const char* getenv(const char* name);  // nullptr when not set
char** environ();                      // "NAME=VALUE" strings, nullptr-terminated
const char* workdir();                 // the working folder the host asked for ("" if none)

// ---- time (LAPIC timer, 1 GHz bus clock in QEMU TCG and KVM) ----
void sleep_ns(uint64_t ns);  // halts; the power button still works

// ---- memory ----
void* malloc(size_t n);  // 16-byte aligned; nullptr when out of memory
void* calloc(size_t count, size_t size);
void* realloc(void* p, size_t n);
void* aligned_alloc(size_t align, size_t n);  // align: power of two
void free(void* p);
size_t heap_free();  // bytes on the free list (approximate)
size_t ram_total();  // RAM bytes in the PVH memory map

// ---- strings (also memcpy/memset/memmove/memcmp/strlen, extern "C") ----
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);
// Parses a decimal unsigned integer (all of s); false on junk or overflow.
bool parse_u64(const char* s, uint64_t* out);

}  // namespace rt

#ifdef RT_HOST  // host unit tests: the C library has them
#include <string.h>
#else
extern "C" {
void* memcpy(void* d, const void* s, size_t n);
void* memmove(void* d, const void* s, size_t n);
void* memset(void* d, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
}
#endif
