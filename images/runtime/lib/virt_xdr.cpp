// fleet runtime: the XDR half of the libvirt client (virt.hpp). Pure: no
// I/O, no allocation; also built for the host (-DRT_HOST) for runtime-unit.
#include "lib/virt.hpp"

namespace rt::virt {

void Out::u32(uint32_t v)
{
    if (!ok_ || cap_ - n_ < 4) {
        ok_ = false;
        return;
    }
    buf_[n_] = static_cast<uint8_t>(v >> 24);
    buf_[n_ + 1] = static_cast<uint8_t>(v >> 16);
    buf_[n_ + 2] = static_cast<uint8_t>(v >> 8);
    buf_[n_ + 3] = static_cast<uint8_t>(v);
    n_ += 4;
}

void Out::bytes(const void* p, size_t n)
{
    size_t padded = (n + 3) & ~size_t{3};
    if (!ok_ || padded < n || cap_ - n_ < padded) {
        ok_ = false;
        return;
    }
    memcpy(buf_ + n_, p, n);
    memset(buf_ + n_ + n, 0, padded - n);
    n_ += padded;
}

void Out::raw(const void* p, size_t n)
{
    if (!ok_ || cap_ - n_ < n) {
        ok_ = false;
        return;
    }
    memcpy(buf_ + n_, p, n);
    n_ += n;
}

void Out::string(const char* s, size_t n)
{
    if (n > 0xffffffffu) {
        ok_ = false;
        return;
    }
    u32(static_cast<uint32_t>(n));
    bytes(s, n);
}

uint32_t In::u32()
{
    if (!ok_ || n_ - off_ < 4) {
        ok_ = false;
        return 0;
    }
    const uint8_t* b = p_ + off_;
    off_ += 4;
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

void In::bytes(void* out, size_t n)
{
    size_t padded = (n + 3) & ~size_t{3};
    if (!ok_ || padded < n || n_ - off_ < padded) {
        ok_ = false;
        return;
    }
    memcpy(out, p_ + off_, n);
    off_ += padded;
}

void In::string(char* out, size_t cap)
{
    uint32_t n = u32();
    if (!ok_ || cap == 0 || n >= cap) {
        ok_ = false;
        if (cap) out[0] = 0;
        return;
    }
    bytes(out, n);
    out[ok_ ? n : 0] = 0;
}

void In::opt_string(char* out, size_t cap)
{
    if (cap) out[0] = 0;
    if (u32() != 0) string(out, cap);
}

void put(Out& o, const Domain& d)
{
    o.string(d.name);
    o.bytes(d.uuid, sizeof d.uuid);
    o.i32(d.id);
}

void get(In& in, Domain& d)
{
    in.string(d.name, sizeof d.name);
    in.bytes(d.uuid, sizeof d.uuid);
    d.id = in.i32();
}

void frame(Out& o, int32_t proc, uint32_t type, uint32_t serial, uint32_t status, const void* body, size_t n)
{
    if (n > max_packet - header_size) {
        o.fail();
        return;
    }
    o.u32(static_cast<uint32_t>(header_size + n));
    o.u32(program);
    o.u32(version);
    o.i32(proc);
    o.u32(type);
    o.u32(serial);
    o.u32(status);
    if (n) o.raw(body, n);  // XDR already, or a stream's bytes as they are
}

bool parse_header(const uint8_t* p, size_t n, Header& h)
{
    In in(p, n < header_size ? n : header_size);
    h.len = in.u32();
    h.prog = in.u32();
    h.vers = in.u32();
    h.proc = in.i32();
    h.type = in.u32();
    h.serial = in.u32();
    h.status = in.u32();
    return in.ok() && h.prog == program && h.vers == version && h.len >= header_size && h.len <= max_packet;
}

void error_of(const uint8_t* body, size_t n, int32_t* code, char* msg, size_t cap)
{
    In in(body, n);
    *code = in.i32();
    in.i32();  // domain
    in.opt_string(msg, cap);
    if (!in.ok()) {
        *code = -1;
        snprintf(msg, cap, "a malformed error reply");
    } else if (!msg[0]) {
        snprintf(msg, cap, "error %d", *code);
    }
}

void Text::put(const char* s, size_t n)
{
    if (!ok_ || cap_ == 0 || cap_ - 1 - n_ < n) {
        ok_ = false;
        if (cap_) buf_[cap_ - 1 < n_ ? cap_ - 1 : n_] = 0;
        return;
    }
    memcpy(buf_ + n_, s, n);
    n_ += n;
    buf_[n_] = 0;
}

void Text::escaped(const char* s)
{
    for (const char* c = s; *c && ok_; c++) {
        unsigned char b = static_cast<unsigned char>(*c);
        switch (b) {
            case '&':
                raw("&amp;");
                break;
            case '<':
                raw("&lt;");
                break;
            case '>':
                raw("&gt;");
                break;
            case '\'':
                raw("&apos;");
                break;
            case '"':
                raw("&quot;");
                break;
            default:
                if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
                    ok_ = false;
                else
                    put(c, 1);
        }
    }
}

}  // namespace rt::virt
