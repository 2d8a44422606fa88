// fleet netfilter — opening a tap through /dev/net/tun.
#include <fleet/netfilter/identity.hpp>
#include <fleet/netfilter/links.hpp>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstring>

namespace fleet::netfilter {

Result<Fd> open_tap(const std::string& name)
{
    if (!valid_ifname(name)) return fail("'" + name + "' is not a valid interface name");
    Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open /dev/net/tun");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    // A tap with virtio-net headers, as QEMU's -netdev tap,fd=N probes for
    // (TUNGETIFF) and uses for offloads; not persistent (no TUNSETPERSIST).
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return fail_errno("cannot create the tap " + name);
    return fd;
}

}  // namespace fleet::netfilter
