// router-domain-unit — <memory>, <currentMemory> and <vcpu>: libvirt's
// units, rounding, ranges.
#include "helpers.hpp"

using namespace fleet::router;
using namespace fleet::router::testing;
using Catch::Matchers::Equals;

namespace {

std::uint64_t memory_kib(const std::string& value, const std::string& unit)
{
    const std::string attr = unit.empty() ? "" : " unit='" + unit + "'";
    return parsed(domain_with("<memory" + attr + ">" + value + "</memory>")).memory_kib;
}

}  // namespace

TEST_CASE("memory units, as libvirt reads them", "[memory]")
{
    CHECK(memory_kib("65536", "") == 65536);  // KiB by default
    CHECK(memory_kib("65536", "KiB") == 65536);
    CHECK(memory_kib("65536", "k") == 65536);
    CHECK(memory_kib("65536", "K") == 65536);
    CHECK(memory_kib("64", "M") == 65536);
    CHECK(memory_kib("64", "MiB") == 65536);
    CHECK(memory_kib("64", "mib") == 65536);
    CHECK(memory_kib("2", "G") == 2 * 1024 * 1024);
    CHECK(memory_kib("2", "GiB") == 2 * 1024 * 1024);
    CHECK(memory_kib("1", "T") == 1024ull * 1024 * 1024);
    CHECK(memory_kib("1", "TiB") == 1024ull * 1024 * 1024);
    CHECK(memory_kib("67108864", "b") == 65536);
    CHECK(memory_kib("67108864", "bytes") == 65536);
    CHECK(memory_kib("67108864", "byte") == 65536);
    // Powers of 1000, rounded up to whole KiB.
    CHECK(memory_kib("4096000", "KB") == 4000000);
    CHECK(memory_kib("64", "MB") == 62500);
    CHECK(memory_kib("3", "GB") == 2929688);  // 3e9 / 1024 = 2929687.5
    CHECK(memory_kib("1", "TB") == 976562500);
    CHECK(memory_kib("4194305", "b") == 4097);  // one byte over 4 MiB
    CHECK(memory_kib(" 65536\n", "") == 65536);
}

TEST_CASE("memory: bad numbers, units and sizes are refused", "[memory]")
{
    CHECK_THAT(error_of(domain_with("<memory>lots</memory>")), Equals("<memory>: 'lots' is not a number"));
    CHECK_THAT(error_of(domain_with("<memory>-1</memory>")), Equals("<memory>: '-1' is not a number"));
    CHECK_THAT(error_of(domain_with("<memory>1.5</memory>")), Equals("<memory>: '1.5' is not a number"));
    CHECK_THAT(error_of(domain_with("<memory></memory>")), Equals("<memory>: '' is not a number"));
    CHECK_THAT(error_of(domain_with("<memory unit='MiBs'>64</memory>")),
               Equals("<memory>: unknown unit 'MiBs' (use KiB, MiB, GiB, ...)"));
    CHECK_THAT(error_of(domain_with("<memory unit='Q'>64</memory>")),
               Equals("<memory>: unknown unit 'Q' (use KiB, MiB, GiB, ...)"));
    CHECK_THAT(error_of(domain_with("<memory>0</memory>")), Equals("<memory>: 0 KiB is out of range (2 MiB to 1 TiB)"));
    CHECK_THAT(error_of(domain_with("<memory>2047</memory>")),
               Equals("<memory>: 2047 KiB is out of range (2 MiB to 1 TiB)"));
    CHECK(memory_kib("2097151", "b") == 2048);  // rounded up to the smallest size
    CHECK_THAT(error_of(domain_with("<memory unit='T'>2</memory>")),
               Equals("<memory>: 2147483648 KiB is out of range (2 MiB to 1 TiB)"));
    CHECK_THAT(error_of(domain_with("<memory unit='E'>100</memory>")),
               Equals("<memory>: more than 16 EiB is out of range (2 MiB to 1 TiB)"));
    CHECK_THAT(error_of(domain_with("<memory>99999999999999999999999</memory>")),
               Equals("<memory>: '99999999999999999999999' is not a number"));
}

TEST_CASE("currentMemory must equal memory", "[memory]")
{
    CHECK(parsed(domain_with("<memory unit='MiB'>64</memory><currentMemory>65536</currentMemory>")).memory_kib ==
          65536);
    CHECK_THAT(error_of(domain_with("<memory unit='MiB'>64</memory><currentMemory unit='MiB'>32</currentMemory>")),
               Equals("<currentMemory> (32768 KiB) must equal <memory> (65536 KiB; fleet has no balloon)"));
    CHECK_THAT(error_of(domain_with("<currentMemory>65536</currentMemory>")),
               Equals("<currentMemory> (65536 KiB) must equal <memory> (not given; fleet has no balloon)"));
    CHECK_THAT(error_of(domain_with("<currentMemory>x</currentMemory>")),
               Equals("<currentMemory>: 'x' is not a number"));
}

TEST_CASE("no memory: the image's default, 0", "[memory]")
{
    CHECK(parsed(domain_with("")).memory_kib == 0);
}

TEST_CASE("vcpu: 1 to 64, static, current equal", "[vcpu]")
{
    CHECK(parsed(domain_with("")).vcpus == 1);
    CHECK(parsed(domain_with("<vcpu>4</vcpu>")).vcpus == 4);
    CHECK(parsed(domain_with("<vcpu placement='static' current='64'>64</vcpu>")).vcpus == 64);
    CHECK_THAT(error_of(domain_with("<vcpu>0</vcpu>")), Equals("<vcpu>: '0' is not a vCPU count from 1 to 64"));
    CHECK_THAT(error_of(domain_with("<vcpu>65</vcpu>")), Equals("<vcpu>: '65' is not a vCPU count from 1 to 64"));
    CHECK_THAT(error_of(domain_with("<vcpu>two</vcpu>")), Equals("<vcpu>: 'two' is not a vCPU count from 1 to 64"));
    CHECK_THAT(error_of(domain_with("<vcpu placement='auto'>2</vcpu>")),
               Equals("<vcpu>: placement 'auto' is not supported (use static)"));
    CHECK_THAT(error_of(domain_with("<vcpu current='1'>2</vcpu>")),
               Equals("<vcpu>: current='1' must equal the vCPU count 2 (fleet has no vCPU hot-plug)"));
}
