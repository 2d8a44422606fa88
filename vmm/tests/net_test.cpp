// A VM's network interfaces: checks, the guest's exec block strings, QEMU's argv.
#include <fleet/test/support.hpp>

#include <fleet/vmm/cmdline.hpp>
#include <fleet/vmm/net.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace fleet::vmm;
using fleet::test::contains;

namespace {

NetInterface nic(std::string mac, std::string ipv4 = "", std::string gateway = "")
{
    return NetInterface{
        .tap_fd = 0, .tap_name = "", .mac = std::move(mac), .ipv4 = std::move(ipv4), .gateway = std::move(gateway)};
}

// An interface without a tap (a snapshot's boot).
NetInterface unconnected(std::string mac)
{
    NetInterface n = nic(std::move(mac));
    n.tap_fd = -1;
    return n;
}

}  // namespace

TEST_CASE("MACs and IPv4 addresses are checked by shape")
{
    CHECK(valid_mac("0e:12:34:56:78:9a"));
    CHECK_FALSE(valid_mac("0f:12:34:56:78:9a"));  // multicast
    CHECK_FALSE(valid_mac("0e:12:34:56:78"));
    CHECK_FALSE(valid_mac("0e-12-34-56-78-9a"));
    CHECK_FALSE(valid_mac("0E:12:34:56:78:9A"));
    CHECK(valid_ipv4("10.77.0.2/24", true));
    CHECK(valid_ipv4("10.77.0.1", false));
    CHECK_FALSE(valid_ipv4("10.77.0.2", true));
    CHECK_FALSE(valid_ipv4("10.77.0.2/33", true));
    CHECK_FALSE(valid_ipv4("10.77.0/24", true));
    CHECK_FALSE(valid_ipv4("10.77.0.256/24", true));
    CHECK_FALSE(valid_ipv4("10.77.0.2.1/24", true));
    CHECK_FALSE(valid_ipv4("10.77.0.2/24", false));
}

TEST_CASE("interfaces are validated as a whole")
{
    CHECK(validate_nets({nic("0e:00:00:00:00:01", "10.77.0.2/24", "10.77.0.1")}));
    auto twice = validate_nets({nic("0e:00:00:00:00:01"), nic("0e:00:00:00:00:01")});
    REQUIRE_FALSE(twice);
    CHECK(contains(twice.error().message, "twice"));
    CHECK_FALSE(validate_nets({nic("0e:00:00:00:00:01", "10.77.0.2")}));
    CHECK_FALSE(validate_nets({nic("0e:00:00:00:00:01", "", "10.77.0.1")}));  // a gateway needs an address
    std::vector<NetInterface> many;
    for (int i = 0; i < 5; ++i) many.push_back(nic("0e:00:00:00:00:0" + std::to_string(i)));
    CHECK_FALSE(validate_nets(many));
}

TEST_CASE("the guest learns its addresses from the exec block, not the kernel command line")
{
    CHECK(net_exec_string(nic("0e:00:00:00:00:01", "10.77.0.2/24", "10.77.0.1")) ==
          "0e:00:00:00:00:01,10.77.0.2/24,10.77.0.1");
    CHECK(net_exec_string(nic("0e:00:00:00:00:02")) == "0e:00:00:00:00:02");
    VmSpec s;
    s.extra_cmdline = "quiet";
    s.nets = {nic("0e:00:00:00:00:01", "10.77.0.2/24")};
    CHECK(kernel_cmdline(s) == "quiet");  // a restored guest keeps the saved boot's line
}

TEST_CASE("a snapshot's boot has its own MACs and no taps; no VM may take them")
{
    CHECK(snapshot_mac(0) == "02:66:6c:00:00:00");
    CHECK(snapshot_mac(3) == "02:66:6c:00:00:03");
    NetInterface saving = unconnected(snapshot_mac(0));
    CHECK(validate_nets({saving}));
    auto taken = validate_nets({nic(snapshot_mac(0))});  // with a tap: a real VM's
    REQUIRE_FALSE(taken);
    CHECK(contains(taken.error().message, "reserved"));
    CHECK_FALSE(validate_nets({nic("02:66:6c:00:00:0a")}));
    CHECK_FALSE(validate_nets({unconnected(snapshot_mac(1))}));      // interface 0 with interface 1's MAC
    CHECK_FALSE(validate_nets({unconnected("0e:00:00:00:00:01")}));  // no tap, not a snapshot's
    VmSpec s;
    s.name = "snapshot";
    s.kernel = "/k";
    s.nets = {saving};
    auto argv = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    auto has = [&](const std::string& w) { return std::find(argv.begin(), argv.end(), w) != argv.end(); };
    CHECK(has("hubport,id=fleet-net0,hubid=0"));
    CHECK(has("virtio-net-device,netdev=fleet-net0,mac=02:66:6c:00:00:00"));
}

TEST_CASE("QEMU gets each tap as an inherited fd, never a tap name")
{
    VmSpec s;
    s.name = "web";
    s.kernel = "/k";
    s.nets = {nic("0e:00:00:00:00:01"), nic("0e:00:00:00:00:02")};
    auto argv = qemu_argv("qemu", s, Accel::tcg, Wiring{});
    auto has = [&](const std::string& w) { return std::find(argv.begin(), argv.end(), w) != argv.end(); };
    CHECK(has("tap,id=fleet-net0,fd=10"));
    CHECK(has("virtio-net-device,netdev=fleet-net0,mac=0e:00:00:00:00:01"));
    CHECK(has("tap,id=fleet-net1,fd=11"));
    CHECK(has("virtio-net-device,netdev=fleet-net1,mac=0e:00:00:00:00:02"));
    for (const auto& w : argv) CHECK_FALSE(contains(w, "ifname="));
}
