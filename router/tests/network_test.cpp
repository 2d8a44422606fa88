// router-unit — the mark a fleet-vmm VM's tap carries (network.hpp): what
// a restarted router reads back to adopt the VM, its owner included.
#include <fleet/router/network.hpp>

#include <catch2/catch.hpp>

using namespace fleet::router;

TEST_CASE("a fleet-vmm VM's tap mark round-trips", "[network]")
{
    for (const VmTapMark& m : {VmTapMark{"web", false, ""}, VmTapMark{"web", true, ""},
                               VmTapMark{"db-1.x", false, "uid 1000"}, VmTapMark{"a", true, "uid 0"}}) {
        INFO(vm_tap_mark(m));
        auto back = parse_vm_tap_mark(vm_tap_mark(m));
        REQUIRE(back);
        CHECK(*back == m);
    }
    CHECK(vm_tap_mark({"web", true, "uid 1000"}) == "vmm:web:outbound by uid 1000");
    // A mark written before owners were kept: adopted, counted for no one.
    CHECK(parse_vm_tap_mark("vmm:web") == VmTapMark{"web", false, ""});
}

TEST_CASE("what is not a fleet-vmm VM's tap mark", "[network]")
{
    for (const char* bad : {"", "web", "dom:web", "vmm:", "vmm:bad name", "vmm:web by ", "vmm:a:b", "vmm: by uid 1"}) {
        INFO(bad);
        CHECK_FALSE(parse_vm_tap_mark(bad));
    }
}
