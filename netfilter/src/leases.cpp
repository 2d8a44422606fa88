// fleet netfilter — the lease table and its file.
#include <fleet/netfilter/leases.hpp>

#include <fleet/base/file.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace fleet::netfilter {

namespace {

std::uint32_t host_mask(int prefix)
{
    return prefix >= 32 ? 0 : (0xffffffffu >> prefix);
}

std::vector<std::string_view> fields(std::string_view line, std::size_t count)
{
    std::vector<std::string_view> out;
    while (out.size() + 1 < count) {
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string_view::npos) return out;
        line.remove_prefix(start);
        const auto end = line.find_first_of(" \t");
        out.push_back(line.substr(0, end));
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    const auto start = line.find_first_not_of(" \t");
    if (start != std::string_view::npos) out.push_back(line.substr(start));  // the name: the rest
    return out;
}

}  // namespace

Result<Leases> Leases::make(const Subnet4& ipv4, const std::optional<Subnet6>& ipv6)
{
    if (ipv6 && 128 - ipv6->prefix < 32 - ipv4.prefix)
        return fail("the IPv6 subnet " + netfilter::format(*ipv6) + " has fewer host addresses than " +
                    netfilter::format(ipv4));
    return Leases(ipv4, ipv6);
}

Ipv6 Leases::ipv6_for(std::uint32_t host) const
{
    Ipv6 a = ipv6_->address;
    const int host_bits = 128 - ipv6_->prefix;
    for (int bit = 0; bit < host_bits; ++bit) {  // clear the host part
        a.bytes[15 - bit / 8] &= static_cast<std::uint8_t>(~(1u << (bit % 8)));
    }
    for (int i = 0; i < 4; ++i) a.bytes[15 - i] |= static_cast<std::uint8_t>(host >> (8 * i));
    return a;
}

bool Leases::in_subnet(const Lease& l) const
{
    const std::uint32_t mask = ~host_mask(ipv4_.prefix);
    const std::uint32_t host = l.ipv4.value & host_mask(ipv4_.prefix);
    if ((l.ipv4.value & mask) != (ipv4_.address.value & mask)) return false;
    return host != 0 && host != host_mask(ipv4_.prefix) && l.ipv4 != ipv4_.address;
}

Result<> Leases::parse(std::string_view text, std::string_view source)
{
    std::vector<Lease> out;
    int number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++number;
        const auto f = fields(line, 4);
        if (f.empty() || f[0].starts_with("#")) continue;
        const std::string where = std::string(source) + ":" + std::to_string(number) + ": ";
        if (f.size() < 3) return fail(where + "expected MAC IPv4 IPv6|- [NAME]");
        auto mac = parse_mac(f[0]);
        auto v4 = parse_ipv4(f[1]);
        if (!mac || !v4) return fail(where + (!mac ? mac.error() : v4.error()).message);
        Lease l{*mac, *v4, std::nullopt, f.size() > 3 ? std::string(f[3]) : ""};
        if (f[2] != "-") {
            auto v6 = parse_ipv6(f[2]);
            if (!v6) return fail(where + v6.error().message);
            l.ipv6 = *v6;
        }
        const bool dup =
            std::any_of(out.begin(), out.end(), [&](const Lease& o) { return o.mac == l.mac || o.ipv4 == l.ipv4; });
        if (dup)
            return fail(where + "a second lease for " + netfilter::format(l.mac) + " or " + netfilter::format(l.ipv4));
        if (!in_subnet(l)) continue;
        // The IPv6 address follows from the IPv4 one (and the subnets of today).
        l.ipv6 = ipv6_ ? std::optional<Ipv6>(ipv6_for(l.ipv4.value & host_mask(ipv4_.prefix))) : std::nullopt;
        out.push_back(std::move(l));
    }
    std::sort(out.begin(), out.end(), [](const Lease& a, const Lease& b) { return a.ipv4 < b.ipv4; });
    leases_ = std::move(out);
    return {};
}

std::string Leases::format() const
{
    std::string out = "# fleet leases: MAC IPv4 IPv6|- NAME\n";
    for (const Lease& l : leases_)
        out += netfilter::format(l.mac) + " " + netfilter::format(l.ipv4) + " " +
               (l.ipv6 ? netfilter::format(*l.ipv6) : "-") + (l.name.empty() ? "" : " " + l.name) + "\n";
    return out;
}

const Lease* Leases::find(const Mac& mac) const
{
    for (const Lease& l : leases_)
        if (l.mac == mac) return &l;
    return nullptr;
}

Result<Lease> Leases::allocate(const Mac& mac, std::string_view name)
{
    std::string clean;
    for (const char c : name) clean += (static_cast<unsigned char>(c) < ' ' || c == 0x7f) ? '?' : c;
    for (Lease& l : leases_) {
        if (l.mac != mac) continue;
        l.name = clean;
        return l;
    }
    const std::uint32_t base = ipv4_.address.value & ~host_mask(ipv4_.prefix);
    // leases_ is sorted: walk the hosts and the leases together.
    std::size_t next = 0;
    for (std::uint32_t host = 1; host < host_mask(ipv4_.prefix); ++host) {
        const Ipv4 candidate{base | host};
        if (candidate == ipv4_.address) continue;
        while (next < leases_.size() && leases_[next].ipv4 < candidate) ++next;
        if (next < leases_.size() && leases_[next].ipv4 == candidate) continue;
        Lease l{mac, candidate, ipv6_ ? std::optional<Ipv6>(ipv6_for(host)) : std::nullopt, clean};
        leases_.insert(leases_.begin() + static_cast<std::ptrdiff_t>(next), l);
        return l;
    }
    return fail("no free address left in " + netfilter::format(ipv4_));
}

bool Leases::release(const Mac& mac)
{
    const auto it = std::find_if(leases_.begin(), leases_.end(), [&](const Lease& l) { return l.mac == mac; });
    if (it == leases_.end()) return false;
    leases_.erase(it);
    return true;
}

Result<LeaseFile> LeaseFile::open(const std::string& dir, const Subnet4& ipv4, const std::optional<Subnet6>& ipv6)
{
    auto leases = Leases::make(ipv4, ipv6);
    if (!leases) return std::unexpected(leases.error());
    const std::string lock_path = dir + "/leases.lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) return fail_errno("cannot open " + lock_path);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
        return fail_errno("cannot lock " + lock_path + " (is another fleet router using " + dir + "?)");
    const std::string path = dir + "/leases";
    Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file) {
        std::string text;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(file.get(), buf, sizeof buf)) > 0 && text.size() < (16u << 20))
            text.append(buf, std::size_t(n));
        if (n < 0) return fail_errno("cannot read " + path);
        if (auto r = leases->parse(text, path); !r) return std::unexpected(r.error());
    } else if (errno != ENOENT) {
        return fail_errno("cannot open " + path);
    }
    return LeaseFile(dir, std::move(lock), std::move(*leases));
}

Result<> LeaseFile::save()
{
    return replace_file(dir_, "leases", leases_.format(), Sync::yes);
}

Result<Lease> LeaseFile::allocate(const Mac& mac, std::string_view name)
{
    const Lease* before = leases_.find(mac);
    const bool fresh = before == nullptr || before->name != name;
    auto lease = leases_.allocate(mac, name);
    if (!lease) return lease;
    if (fresh)
        if (auto r = save(); !r) {
            if (before == nullptr) leases_.release(mac);
            return std::unexpected(r.error());
        }
    return lease;
}

Result<> LeaseFile::release(const Mac& mac)
{
    if (!leases_.release(mac)) return {};
    return save();
}

}  // namespace fleet::netfilter
