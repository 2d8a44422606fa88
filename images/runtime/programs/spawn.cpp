// spawn: starts a program in a VM of its own through this VM's hypervisor
// channel (docs/hypervisor.md), the way a process forks and execs: its
// stdin is ours, its stdout and stderr come out as ours, and its exit
// status is ours.
//
//   spawn [-m MIB] [-n NAME] [--] IMAGE [ARG...]
//
// IMAGE is a catalog image (the router refuses host paths); the child is
// the transient domain PARENT.NAME (NAME: the image's name by default),
// with MIB of memory (default: the image's) and spawn's own environment,
// as exec passes it on. Exit status: the child's; 125 when it cannot be
// started (the reason on stderr), 2 for bad usage.
#include "lib/virt.hpp"
#include "rt.hpp"

namespace {

using namespace rt::virt;

constexpr int status_usage = 2, status_failed = 125;
constexpr size_t in_chunk = 32 * 1024;

[[noreturn]] void usage(const char* why)
{
    rt::eprintf("spawn: %s\nusage: spawn [-m MIB] [-n NAME] [--] IMAGE [ARG...]\n", why);
    rt::exit(status_usage);
}

[[noreturn]] void failed(const char* what, const char* why)
{
    rt::eprintf("spawn: %s: %s\n", what, why);
    rt::exit(status_failed);
}

// The child's transient domain.
bool child_xml(Text& t, const char* name, const char* image, uint64_t mib, char** args, int nargs, char** env)
{
    t.raw("<domain type='qemu'><name>");  // the router gives it the parent's type
    t.escaped(name);
    t.raw("</name>");
    if (mib) {
        char m[40];
        rt::snprintf(m, sizeof m, "<memory unit='MiB'>%llu</memory>", static_cast<unsigned long long>(mib));
        t.raw(m);
    }
    t.raw(
        "<os><type arch='x86_64' machine='microvm'>hvm</type></os>"
        "<metadata xmlns:fleet='https://fleet.dev/xmlns/domain/1'><fleet:image>");
    t.escaped(image);
    t.raw("</fleet:image>");
    for (int i = 0; i < nargs; i++) {
        t.raw("<fleet:arg>");
        t.escaped(args[i]);
        t.raw("</fleet:arg>");
    }
    for (char** e = env; e && *e; e++) {
        const char* eq = *e;
        while (*eq && *eq != '=') eq++;
        if (!*eq || eq == *e) continue;
        char name_buf[256];
        size_t n = static_cast<size_t>(eq - *e);
        if (n >= sizeof name_buf) continue;  // no such names in practice; the router would refuse it
        memcpy(name_buf, *e, n);
        name_buf[n] = 0;
        t.raw("<fleet:env name='");
        t.escaped(name_buf);
        t.raw("' value='");
        t.escaped(eq + 1);
        t.raw("'/>");
    }
    t.raw("</metadata></domain>");
    return t.ok();
}

// One of the child's three stdio streams.
struct Stream {
    uint32_t serial = 0;
    bool open = false;  // the router answered the OPEN_STDIO call
    bool done = false;  // no more bytes either way
};

}  // namespace

int main(int argc, char** argv)
{
    uint64_t mib = 0;
    const char* name = nullptr;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (rt::strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (rt::strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
            if (!rt::parse_u64(argv[++i], &mib) || mib == 0 || mib > 1024 * 1024) usage("-m: not a size in MiB");
        } else if (rt::strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (rt::strcmp(argv[i], "-h") == 0 || rt::strcmp(argv[i], "--help") == 0) {
            rt::printf(
                "usage: spawn [-m MIB] [-n NAME] [--] IMAGE [ARG...]\n"
                "Runs IMAGE in a VM of its own through this VM's hypervisor channel:\n"
                "stdin, stdout, stderr and the exit status are the child's.\n");
            return 0;
        } else {
            rt::eprintf("spawn: unknown option '%s'\n", argv[i]);
            usage("bad option");
        }
    }
    if (i >= argc) usage("no image named");
    const char* image = argv[i];
    if (!name) name = image;
    if (!rt::has_port(rt::hypervisor))
        failed(image, "this VM has no hypervisor channel (its domain needs <fleet:hypervisor>)");

    size_t cap = 1024;
    for (int k = i; k < argc; k++) cap += strlen(argv[k]) * 6 + 32;
    for (char** e = rt::environ(); e && *e; e++) cap += strlen(*e) * 6 + 48;
    char* xml_buf = static_cast<char*>(rt::malloc(cap));
    if (!xml_buf) failed(image, "out of memory");
    Text xml(xml_buf, cap);
    if (!child_xml(xml, name, image, mib, argv + i + 1, argc - i - 1, rt::environ()))
        failed(image, "an argument or variable holds a control character a domain's XML cannot carry");

    Conn conn;
    const char* x = xml.c_str();
    Domain dom;
    if (!conn.open()) failed("the hypervisor channel", conn.error());
    if (!conn.run(&x, 1, &dom)) failed(image, conn.error());
    rt::free(xml_buf);

    // The three streams, asked for at once; their replies come in the loop.
    Stream io[3];
    for (int fd = 0; fd < 3; fd++) {
        uint8_t buf[name_max + 48];
        Out args(buf, sizeof buf);
        put(args, dom);
        args.i32(fd);
        args.u32(0);
        io[fd].serial = conn.next_serial();
        if (!args.ok() || !conn.send(proc_open_stdio, type_call, io[fd].serial, status_ok, args.data(), args.size()))
            failed(image, conn.error());
    }

    static uint8_t chunk[in_chunk];
    bool exited = false, our_out_closed = false;
    int status = 0;
    for (;;) {
        if (exited && io[1].done && io[2].done) break;
        // stdin goes on only while the channel can take a chunk without
        // blocking: the router may stop reading us (the child is not
        // taking its input) and we must go on reading its output.
        bool want_in = io[0].open && !io[0].done;
        rt::PollFd f[2] = {{rt::hypervisor, rt::poll_in, 0}, {rt::in, rt::poll_in, 0}};
        int nf = 1;
        if (want_in) {
            rt::PollFd w{rt::hypervisor, rt::poll_out, 0};
            if (rt::poll(&w, 1, false))
                nf = 2;
            else
                f[0].events |= rt::poll_out;
        }
        rt::poll(f, nf, true);

        if (nf == 2 && (f[1].revents & rt::poll_in)) {
            long n = rt::read(rt::in, chunk, sizeof chunk);
            if (n > 0) {
                if (!conn.send(proc_open_stdio, type_stream, io[0].serial, status_continue, chunk,
                               static_cast<size_t>(n)))
                    failed(image, conn.error());
            } else {
                io[0].done = true;  // our end of file: finish the child's stdin
                if (!conn.send(proc_open_stdio, type_stream, io[0].serial, status_ok, nullptr, 0))
                    failed(image, conn.error());
            }
        }
        if (!(f[0].revents & rt::poll_in)) continue;

        Packet p;
        int got;
        while ((got = conn.next(p, false)) > 0) {
            int fd = -1;
            for (int k = 0; k < 3; k++)
                if (p.h.proc == proc_open_stdio && p.h.serial == io[k].serial) fd = k;
            if (p.h.type == type_reply && fd >= 0) {
                if (p.h.status != status_ok) {
                    int32_t code;
                    char msg[256];
                    error_of(p.body, p.len, &code, msg, sizeof msg);
                    failed(image, msg);
                }
                io[fd].open = true;
            } else if (p.h.type == type_stream && fd >= 0) {
                if (fd == 0) {
                    io[0].done = true;  // the router's OK after our finish, or an abort
                } else if (p.h.status == status_continue && p.len) {
                    if (!our_out_closed && rt::write(fd, p.body, p.len) < 0 && fd == 1) our_out_closed = true;
                } else if (!io[fd].done) {
                    // The empty CONTINUE at its end (or an error): finish it.
                    io[fd].done = true;
                    if (p.h.status == status_continue)
                        conn.send(proc_open_stdio, type_stream, io[fd].serial, status_ok, nullptr, 0);
                }
            } else if (p.h.type == type_message && p.h.proc == proc_event_exited) {
                In in(p.body, p.len);
                Domain d;
                get(in, d);
                int32_t s = in.i32();
                if (in.ok() && rt::strcmp(d.name, dom.name) == 0) {
                    exited = true;
                    status = s;
                }
            }
        }
        if (got < 0) failed(image, conn.error());
        // Our own stdout closed: like a shell's writer, end with SIGPIPE's
        // status; the child ends with this VM.
        if (our_out_closed) rt::exit(141);
    }
    return status;
}
