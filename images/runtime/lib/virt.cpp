// fleet runtime: the libvirt client's connection over the hypervisor
// channel (virt.hpp).
#include "lib/virt.hpp"

namespace rt::virt {

Conn::Conn() : in_(static_cast<uint8_t*>(rt::malloc(max_packet)))
{
    if (!in_) rt::panic("out of memory for the hypervisor channel's buffer");
}

Conn::~Conn()
{
    rt::free(in_);
}

void Conn::fail(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt::vsnprintf(err_, sizeof err_, fmt, ap);
    va_end(ap);
}

bool Conn::send(int32_t proc, uint32_t type, uint32_t serial, uint32_t status, const void* body, size_t n)
{
    if (n > max_packet - header_size) {
        fail("a packet of %zu bytes is too large", n);
        return false;
    }
    uint8_t head[header_size];
    Out o(head, sizeof head);
    frame(o, proc, type, serial, status, nullptr, 0);
    // The length field counts the body too.
    Out len(head, 4);
    len.u32(static_cast<uint32_t>(header_size + n));
    if (rt::write(rt::hypervisor, head, sizeof head) < 0 || (n && rt::write(rt::hypervisor, body, n) < 0)) {
        fail("the hypervisor channel is closed");
        return false;
    }
    return true;
}

int Conn::next(Packet& p, bool wait)
{
    // Drop the packet handed out last time.
    if (consumed_) {
        memmove(in_, in_ + consumed_, have_ - consumed_);
        have_ -= consumed_;
        consumed_ = 0;
    }
    for (;;) {
        if (have_ >= header_size) {
            if (!parse_header(in_, have_, p.h)) {
                fail("the hypervisor channel sent a malformed packet header");
                return -1;
            }
            if (have_ >= p.h.len) {
                p.body = in_ + header_size;
                p.len = p.h.len - header_size;
                consumed_ = p.h.len;
                return 1;
            }
        }
        if (!wait) {
            PollFd f{rt::hypervisor, poll_in, 0};
            if (rt::poll(&f, 1, false) == 0) return 0;
        }
        long n = rt::read(rt::hypervisor, in_ + have_, max_packet - have_);
        if (n <= 0) {
            fail(rt::has_port(rt::hypervisor)
                     ? "the router closed the hypervisor channel"
                     : "this VM has no hypervisor channel (its domain needs <fleet:hypervisor>)");
            return -1;
        }
        have_ += static_cast<size_t>(n);
    }
}

bool Conn::call(int32_t proc, const Out& args, Packet& reply)
{
    if (!args.ok()) {
        fail("the call's arguments do not fit");
        return false;
    }
    uint32_t serial = next_serial();
    if (!send(proc, type_call, serial, status_ok, args.data(), args.size())) return false;
    for (;;) {
        if (next(reply, true) < 0) return false;
        if (reply.h.type != type_reply || reply.h.serial != serial) continue;  // not before our reply
        if (reply.h.status == status_ok) return true;
        int32_t code;
        error_of(reply.body, reply.len, &code, err_, sizeof err_);
        return false;
    }
}

bool Conn::open()
{
    uint8_t buf[16];
    Out args(buf, sizeof buf);
    args.u32(0);  // name: none (the router's own)
    args.u32(0);  // flags
    Packet reply;
    return call(proc_connect_open, args, reply);
}

bool Conn::run(const char* const* xml, int n, Domain* doms)
{
    size_t size = 16;
    for (int i = 0; i < n; i++) size += strlen(xml[i]) + 8;
    auto* buf = static_cast<uint8_t*>(rt::malloc(size));
    if (!buf) {
        fail("out of memory for the run's %zu bytes", size);
        return false;
    }
    Out args(buf, size);
    args.u32(static_cast<uint32_t>(n));
    for (int i = 0; i < n; i++) args.string(xml[i]);
    args.u32(0);  // flags
    Packet reply;
    bool ok = call(proc_run, args, reply);
    rt::free(buf);
    if (!ok) return false;
    In in(reply.body, reply.len);
    if (in.u32() != static_cast<uint32_t>(n)) {
        fail("the router's run reply names another number of domains");
        return false;
    }
    for (int i = 0; i < n; i++) get(in, doms[i]);
    if (!in.ok()) fail("a malformed run reply");
    return in.ok();
}

}  // namespace rt::virt
