// fleet runtime: a small libvirt RPC client over the hypervisor channel
// (rt::hypervisor, docs/hypervisor.md), for programs that start other
// programs in VMs of their own (programs/spawn.cpp).
//
// It speaks exactly what a guest may do through its channel: open the
// connection, start a run of transient domains (FLEET_DOMAIN_RUN,
// docs/fleet-protocol.md), stream their stdio (FLEET_DOMAIN_OPEN_STDIO)
// and take their exit status (FLEET_DOMAIN_EVENT_EXITED). The XDR part
// (Out, In, frames, errors) is pure and also builds for the host, where
// runtime-unit checks it against the project's wire library.
#pragma once

#include "rt.hpp"

namespace rt::virt {

// The REMOTE program (src/remote/remote_protocol.x) and fleet's procedures.
inline constexpr uint32_t program = 0x20008086, version = 1;
inline constexpr uint32_t type_call = 0, type_reply = 1, type_message = 2, type_stream = 3;
inline constexpr uint32_t status_ok = 0, status_error = 1, status_continue = 2;
inline constexpr int32_t proc_connect_open = 1, proc_connect_close = 2, proc_run = 1000, proc_open_stdio = 1001,
                         proc_event_exited = 1002;
inline constexpr size_t header_size = 28;
// The largest packet taken from the router: its stream chunks are 64 KiB,
// replies and events far smaller.
inline constexpr size_t max_packet = 256 * 1024;
inline constexpr size_t name_max = 256;  // a domain name, with its NUL

// XDR out, into a buffer of the caller's; ok() turns false on overflow.
class Out {
public:
    Out(uint8_t* buf, size_t cap) : buf_(buf), cap_(cap) {}
    void u32(uint32_t v);
    void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
    void bytes(const void* p, size_t n);   // fixed opaque, padded to 4
    void raw(const void* p, size_t n);     // as they are (a stream's data)
    void string(const char* s, size_t n);  // length, bytes, padding
    void string(const char* s) { string(s, strlen(s)); }
    void fail() { ok_ = false; }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] size_t size() const { return n_; }
    [[nodiscard]] uint8_t* data() const { return buf_; }

private:
    uint8_t* buf_;
    size_t cap_, n_ = 0;
    bool ok_ = true;
};

// XDR in; ok() turns false on a short or malformed body.
class In {
public:
    In(const uint8_t* p, size_t n) : p_(p), n_(n) {}
    uint32_t u32();
    int32_t i32() { return static_cast<int32_t>(u32()); }
    void bytes(void* out, size_t n);
    // A string into out (cap with its NUL); longer ones fail.
    void string(char* out, size_t cap);
    // An optional string (remote_string): empty when absent.
    void opt_string(char* out, size_t cap);
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] size_t left() const { return n_ - off_; }

private:
    const uint8_t* p_;
    size_t n_, off_ = 0;
    bool ok_ = true;
};

struct Header {
    uint32_t len, prog, vers;
    int32_t proc;
    uint32_t type, serial, status;
};

// remote_nonnull_domain
struct Domain {
    char name[name_max];
    uint8_t uuid[16];
    int32_t id;
};
void put(Out& o, const Domain& d);
void get(In& in, Domain& d);

// A whole packet (header and body) into o.
void frame(Out& o, int32_t proc, uint32_t type, uint32_t serial, uint32_t status, const void* body, size_t n);
// The header of the first packet in p (n >= header_size); false if it is
// not the REMOTE program or its length is out of range.
bool parse_header(const uint8_t* p, size_t n, Header& h);
// An ERROR reply's body (remote_error): its code and message.
void error_of(const uint8_t* body, size_t n, int32_t* code, char* msg, size_t cap);

// Plain text (a domain XML) into a buffer of the caller's; ok() turns
// false on overflow, or on a byte XML 1.0 cannot carry.
class Text {
public:
    Text(char* buf, size_t cap) : buf_(buf), cap_(cap) { put("", 0); }
    void raw(const char* s) { put(s, strlen(s)); }
    // s with &<>'" escaped; a control character other than tab, LF and CR
    // fails (XML 1.0 has no way to write it).
    void escaped(const char* s);
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const char* c_str() const { return buf_; }
    [[nodiscard]] size_t size() const { return n_; }

private:
    void put(const char* s, size_t n);
    char* buf_;
    size_t cap_, n_ = 0;
    bool ok_ = true;
};

#ifndef RT_HOST
// The connection over the hypervisor channel.
struct Packet {
    Header h;
    const uint8_t* body;
    size_t len;
};

class Conn {
public:
    Conn();
    ~Conn();
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    // CONNECT_OPEN; false: error() says why.
    bool open();
    // FLEET_DOMAIN_RUN of n stage XMLs; their domains into doms[n].
    bool run(const char* const* xml, int n, Domain* doms);
    // Sends one packet (blocking while the channel's buffers are full).
    bool send(int32_t proc, uint32_t type, uint32_t serial, uint32_t status, const void* body, size_t n);
    uint32_t next_serial() { return ++serial_; }
    // The next whole packet, valid until the next call: 1; 0 when none is
    // there and !wait; -1 when the channel closed or sent garbage (error()).
    int next(Packet& p, bool wait);
    [[nodiscard]] const char* error() const { return err_; }

private:
    bool call(int32_t proc, const Out& args, Packet& reply);
    void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    uint8_t* in_;
    size_t have_ = 0, consumed_ = 0;
    uint32_t serial_ = 0;
    char err_[512] = "";
};
#endif

}  // namespace rt::virt
