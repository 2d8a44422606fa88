// fleet runtime: the exec block (argv, environment, working folder) and the
// host's later lines on ctl ("signal N"). <fleet/abi/guest.h> has the format.
#include "core/exec.hpp"
#include "hw.hpp"

#ifndef RT_PROGRAM
#define RT_PROGRAM "program"
#endif

namespace rt {
namespace {

char** env_list;
const char* work = "";
SignalHandler handlers[FLEET_SIGNAL_MAX + 1];
volatile int pending;  // a signal the host sent, not yet delivered
char line[FLEET_CTL_LINE_MAX];
unsigned line_len;
bool have_block;  // until then, ctl's bytes are the block's, not lines

[[noreturn]] void bad_block(const char* why)
{
    rt::eprintf("%s: bad exec block: %s\n", RT_PROGRAM, why);
    rt::exit(FLEET_EXIT_BAD_EXEC);
}

void read_exact(char* to, size_t n)
{
    while (n) {
        long k = vs::ctl_read(to, n, true);
        if (k <= 0) bad_block("truncated (the channel closed)");
        to += k;
        n -= static_cast<size_t>(k);
    }
}

// The block from ctl: skip to the magic, the header, the strings.
char* block_from_ctl(fleet_exec_header& h)
{
    vs::ctl_write(FLEET_CTL_WAITING "\n", sizeof(FLEET_CTL_WAITING "\n") - 1);
    uint32_t magic = 0;
    for (unsigned skipped = 0; magic != FLEET_EXEC_MAGIC; skipped++) {
        if (skipped > FLEET_EXEC_SKIP_MAX + 3) bad_block("bad magic (not an exec block)");
        char c;
        read_exact(&c, 1);
        magic = (magic >> 8) | (static_cast<uint32_t>(static_cast<uint8_t>(c)) << 24);
    }
    h.magic = magic;
    read_exact(reinterpret_cast<char*>(&h) + 4, sizeof h - 4);
    if (const char* why = fleet_exec_check_header(&h)) bad_block(why);
    auto* s = static_cast<char*>(rt::malloc(h.size));
    if (!s) bad_block("no memory for it");
    read_exact(s, h.size);
    return s;
}

// The block from the kernel command line (a raw QEMU line).
char* block_from_cmdline(const char* enc, fleet_exec_header& h)
{
    size_t n = 0;
    while (enc[n] && enc[n] != ' ') n++;
    auto* buf = static_cast<char*>(rt::malloc(n + 1));
    if (!buf) bad_block("no memory for it");
    memcpy(buf, enc, n);
    long len = fleet_pct_decode(buf, n);
    if (len < static_cast<long>(sizeof h)) bad_block("malformed on the command line");
    memcpy(&h, buf, sizeof h);
    if (const char* why = fleet_exec_check_header(&h)) bad_block(why);
    if (static_cast<size_t>(len) != sizeof h + h.size) bad_block("truncated (on the command line)");
    return buf + sizeof h;
}

const char* find_inline(const char* cmdline)
{
    constexpr size_t klen = sizeof FLEET_CMDLINE_EXEC - 1;
    for (const char* p = cmdline; p && *p; p++)
        if ((p == cmdline || p[-1] == ' ') && strncmp(p, FLEET_CMDLINE_EXEC, klen) == 0) return p + klen;
    return nullptr;
}

void on_line()
{
    constexpr size_t wlen = sizeof FLEET_CTL_SIGNAL;  // the word and its space
    line[line_len] = 0;
    uint64_t v = 0;
    if (line_len > wlen && strncmp(line, FLEET_CTL_SIGNAL " ", wlen) == 0 && parse_u64(line + wlen, &v) && v >= 1 &&
        v <= FLEET_SIGNAL_MAX)
        pending = static_cast<int>(v);
    else if (strcmp(line, FLEET_CTL_POWER) == 0)  // power=ctl: the button, without ACPI
        hw::power_pressed = true;
}

}  // namespace

Exec exec_receive(const char* cmdline)
{
    fleet_exec_header h{};
    const char* enc = find_inline(cmdline);
    char* s = enc ? block_from_cmdline(enc, h) : block_from_ctl(h);
    if (const char* why = fleet_exec_check_strings(&h, s)) bad_block(why);
    Exec e;
    e.argc = static_cast<int>(h.argc) + 1;
    e.argv = static_cast<char**>(rt::malloc(sizeof(char*) * (h.argc + 2)));
    env_list = static_cast<char**>(rt::malloc(sizeof(char*) * (h.envc + 1)));
    if (!e.argv || !env_list) bad_block("no memory for it");
    e.argv[0] = const_cast<char*>(RT_PROGRAM);
    for (uint32_t i = 0; i < h.argc + h.envc + 1; i++) {
        if (i < h.argc)
            e.argv[i + 1] = s;
        else if (i < h.argc + h.envc)
            env_list[i - h.argc] = s;
        else
            work = s;
        s += strlen(s) + 1;
    }
    e.argv[h.argc + 1] = nullptr;
    env_list[h.envc] = nullptr;
    e.envp = env_list;
    have_block = true;
    return e;
}

const char* getenv(const char* name)
{
    size_t n = strlen(name);
    for (char** e = env_list; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return nullptr;
}

char** environ()
{
    return env_list;
}
const char* workdir()
{
    return work;
}

void on_signal(int sig, SignalHandler h)
{
    if (sig >= 1 && sig <= FLEET_SIGNAL_MAX && sig != 9) handlers[sig] = h;
}

void hw::check_signals()
{
    if (!have_block) return;
    char buf[64];
    long n;
    while ((n = vs::ctl_read(buf, sizeof buf, false)) > 0)
        for (long i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (line_len < sizeof line - 1) line[line_len++] = buf[i];
                continue;
            }
            on_line();
            line_len = 0;
        }
    int sig = pending;
    if (!sig) return;
    pending = 0;
    if (handlers[sig]) return handlers[sig](sig);
    rt::exit(128 + sig);
}

}  // namespace rt
