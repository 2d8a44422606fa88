// fleet — a VM's network interfaces for the launcher (see net.hpp).
#include <fleet/vmm/net.hpp>

#include <fleet/abi/guest.h>

#include <fcntl.h>

#include <charconv>
#include <set>

namespace fleet::vmm {

namespace {

bool hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// One decimal number in [lo, hi] taking all of `text`.
bool number(std::string_view text, unsigned lo, unsigned hi)
{
    if (text.empty() || text.size() > 3) return false;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && p == text.data() + text.size() && v >= lo && v <= hi;
}

}  // namespace

bool valid_mac(std::string_view mac)
{
    if (mac.size() != 17) return false;
    for (std::size_t i = 0; i < mac.size(); ++i)
        if (i % 3 == 2 ? mac[i] != ':' : !hex_digit(mac[i])) return false;
    const char low = mac[1];  // the first octet's low bit: multicast
    const unsigned nibble = low <= '9' ? static_cast<unsigned>(low - '0') : static_cast<unsigned>(low - 'a' + 10);
    return (nibble & 1) == 0;
}

bool valid_ipv4(std::string_view text, bool with_prefix)
{
    std::string_view addr = text;
    if (with_prefix) {
        const auto slash = text.find('/');
        if (slash == std::string_view::npos || !number(text.substr(slash + 1), 1, 32)) return false;
        addr = text.substr(0, slash);
    }
    for (int i = 0; i < 4; ++i) {
        const auto dot = addr.find('.');
        if ((dot == std::string_view::npos) != (i == 3)) return false;
        if (!number(addr.substr(0, dot), 0, 255)) return false;
        addr = dot == std::string_view::npos ? std::string_view{} : addr.substr(dot + 1);
    }
    return true;
}

std::string snapshot_mac(std::size_t index)
{
    return FLEET_NET_SNAPSHOT_MAC + std::to_string(index);
}

Result<> validate_nets(const std::vector<NetInterface>& nets)
{
    if (nets.size() > FLEET_MAX_NETS) return fail("at most " + std::to_string(FLEET_MAX_NETS) + " network interfaces");
    std::set<std::string> macs;
    for (std::size_t i = 0; i < nets.size(); ++i) {
        const auto& n = nets[i];
        if (!valid_mac(n.mac)) return fail("'" + n.mac + "' is not a unicast MAC (xx:xx:xx:xx:xx:xx, lower case)");
        // Only a snapshot's boot has its MACs, and no tap: a network of its own.
        if (n.mac.starts_with(FLEET_NET_SNAPSHOT_MAC)) {
            if (n.mac != snapshot_mac(i) || n.tap_fd >= 0)
                return fail("MAC " + n.mac + " is reserved for fleet's snapshots (" FLEET_NET_SNAPSHOT_MAC "N)");
        } else if (n.tap_fd < 0 || ::fcntl(n.tap_fd, F_GETFD) < 0) {
            return fail("network interface " + n.mac + ": no open tap");
        }
        if (!macs.insert(n.mac).second) return fail("MAC " + n.mac + " given twice");
        if (!n.ipv4.empty() && !valid_ipv4(n.ipv4, true))
            return fail("'" + n.ipv4 + "' is not an IPv4 address with a prefix (10.77.0.2/24)");
        if (!n.gateway.empty() && (n.ipv4.empty() || !valid_ipv4(n.gateway, false)))
            return fail("'" + n.gateway + "' is not an IPv4 gateway (and needs an address)");
    }
    return {};
}

std::string net_exec_string(const NetInterface& n)
{
    std::string s = n.mac;
    if (!n.ipv4.empty()) s += "," + n.ipv4;
    if (!n.gateway.empty()) s += "," + n.gateway;
    return s;
}

std::vector<std::string> net_qemu_args(const std::vector<NetInterface>& nets)
{
    std::vector<std::string> a;
    for (std::size_t i = 0; i < nets.size(); ++i) {
        const std::string id = "fleet-net" + std::to_string(i);
        // A snapshot's boot: a hub port of its own, a network of one.
        const std::string backend =
            nets[i].tap_fd < 0 ? "hubport,id=" + id + ",hubid=" + std::to_string(i)
                               : "tap,id=" + id + ",fd=" + std::to_string(child_tap_fd_base + static_cast<int>(i));
        a.insert(a.end(), {"-netdev", backend, "-device", "virtio-net-device,netdev=" + id + ",mac=" + nets[i].mac});
    }
    return a;
}

}  // namespace fleet::vmm
