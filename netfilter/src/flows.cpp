// fleet netfilter — forgetting an address's conntrack entries (flows.hpp).
#include <fleet/netfilter/flows.hpp>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <vector>

namespace fleet::netfilter {

namespace {

struct SockDeleter {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheDeleter {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};

// The address in `a`, as bytes in network order, compared with `want`.
bool is(const nl_addr* a, int family, const void* want, std::size_t len)
{
    return a != nullptr && nl_addr_get_family(a) == family && nl_addr_get_len(a) == len &&
           std::memcmp(nl_addr_get_binary_addr(a), want, len) == 0;
}

}  // namespace

Result<std::size_t> forget_flows(const std::vector<Ipv4>& ipv4, const std::vector<Ipv6>& ipv6)
{
    if (ipv4.empty() && ipv6.empty()) return std::size_t{0};
    std::unique_ptr<nl_sock, SockDeleter> sock(nl_socket_alloc());
    if (!sock) return fail("conntrack: out of memory");
    if (int err = nfnl_connect(sock.get()); err < 0)
        return fail(std::string("conntrack: cannot open ctnetlink: ") + nl_geterror(err));
    nl_cache* raw = nullptr;
    if (int err = nfnl_ct_alloc_cache(sock.get(), &raw); err < 0) {
        // No conntrack in this kernel or namespace: nothing to forget.
        if (err == -NLE_OBJ_NOTFOUND || err == -NLE_OPNOTSUPP || err == -NLE_NOACCESS) return std::size_t{0};
        return fail(std::string("conntrack: cannot list the entries: ") + nl_geterror(err));
    }
    std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
    std::vector<std::uint32_t> v4;
    for (const Ipv4& a : ipv4) v4.push_back(htonl(a.value));
    auto ours = [&](const nl_addr* a) {
        for (const std::uint32_t& x : v4)
            if (is(a, AF_INET, &x, sizeof x)) return true;
        for (const Ipv6& x : ipv6)
            if (is(a, AF_INET6, x.bytes.data(), x.bytes.size())) return true;
        return false;
    };
    std::vector<nfnl_ct*> doomed;
    for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
        auto* ct = reinterpret_cast<nfnl_ct*>(o);
        bool match = false;
        for (int repl = 0; repl <= 1 && !match; ++repl)
            match = ours(nfnl_ct_get_src(ct, repl)) || ours(nfnl_ct_get_dst(ct, repl));
        if (match) doomed.push_back(ct);
    }
    std::size_t gone = 0;
    for (nfnl_ct* ct : doomed) {
        int err = nfnl_ct_del(sock.get(), ct, 0);
        if (err == -NLE_OBJ_NOTFOUND) continue;  // ended meanwhile
        if (err < 0) return fail(std::string("conntrack: cannot delete an entry: ") + nl_geterror(err));
        ++gone;
    }
    return gone;
}

}  // namespace fleet::netfilter
