// router-unit — the per-owner quotas and the host's budget (limits.hpp,
// docs/SECURITY.md "Limits"): definitions in all, running domains, memory
// and vCPUs per owner, memory of every running guest, vCPUs of one domain.
// Administrators are held to the host's limits only.
#include "fixture.hpp"

#include <memory>

using namespace fleet::router;
using namespace fleet::router::testing;

namespace {

// The fixture's folders and launcher, with these quotas.
std::unique_ptr<DomainRegistry> with_quotas(Fixture& f, Quotas q)
{
    auto defs = DefinitionStore::open(f.state_dir() + "/domains");
    REQUIRE(defs);
    return std::make_unique<DomainRegistry>(*f.loop, f.launcher, std::move(*defs),
                                            RegistryOptions{f.state_dir(), f.live_dir(), q},
                                            Log{[](const std::string&) {}});
}

// A domain of `mib` MiB and `vcpus` vCPUs, owned by `by` (its kernel a file
// anyone may read: the start checks the owner may open it).
DomainPtr define(DomainRegistry& r, const std::string& name, const Principal& by, unsigned mib = 64, unsigned vcpus = 1)
{
    auto d = r.define("<domain type='qemu'><name>" + name + "</name><memory unit='MiB'>" + std::to_string(mib) +
                          "</memory><vcpu>" + std::to_string(vcpus) +
                          "</vcpu><os><type arch='x86_64' machine='microvm'>hvm</type>"
                          "<kernel>/bin/sh</kernel></os></domain>",
                      by);
    REQUIRE(d);
    return *d;
}

// start()'s answer: an error at once, or {} once the launcher says ready.
DomainResult<> start(Fixture& f, DomainRegistry& r, const DomainPtr& d)
{
    std::optional<DomainResult<>> answer;
    r.start(d, false, [&](DomainResult<> a) { answer = std::move(a); });
    if (!answer) f.launcher.ready(d->def.name);
    REQUIRE(answer);
    return *answer;
}

bool over(const DomainResult<>& r, const std::string& flag)
{
    return !r && r.error().code == Errc::limit && r.error().message.find(flag) != std::string::npos;
}

const Principal alice = Principal::local(4242), bob = Principal::local(4343);

}  // namespace

TEST_CASE("quotas: running domains, memory and vCPUs per owner", "[quota]")
{
    Fixture f;
    Quotas q;
    q.user_running = 2;
    q.user_memory_mib = 256;
    q.user_vcpus = 3;
    q.host_memory_mib = 100000;
    q.domain_vcpus = 8;
    auto r = with_quotas(f, q);
    CHECK(start(f, *r, define(*r, "a1", alice)));
    CHECK(start(f, *r, define(*r, "a2", alice, 64, 2)));
    CHECK(over(start(f, *r, define(*r, "a3", alice)), "user-max-running"));
    // Another owner's count is its own.
    CHECK(start(f, *r, define(*r, "b1", bob, 200)));
    CHECK(over(start(f, *r, define(*r, "b2", bob, 100)), "user-max-memory"));
    CHECK(over(start(f, *r, define(*r, "b3", bob, 32, 3)), "user-max-vcpus"));
    // Administrators are not held to the per-owner quotas.
    for (int i = 0; i < 3; ++i) CHECK(start(f, *r, define(*r, "root" + std::to_string(i), Principal::router(), 200)));
}

TEST_CASE("quotas: the host's memory budget and one domain's vCPUs bind everyone", "[quota]")
{
    Fixture f;
    Quotas q;
    q.host_memory_mib = 300;
    q.domain_vcpus = 2;
    auto r = with_quotas(f, q);
    CHECK(over(start(f, *r, define(*r, "huge", Principal::router(), 1u << 20)), "host-memory-budget"));
    CHECK(over(start(f, *r, define(*r, "wide", Principal::router(), 64, 64)), "max-domain-vcpus"));
    CHECK(start(f, *r, define(*r, "r1", Principal::router(), 200)));
    CHECK(over(start(f, *r, define(*r, "r2", Principal::router(), 200)), "host-memory-budget"));
    CHECK(over(start(f, *r, define(*r, "a1", alice, 200)), "host-memory-budget"));
    CHECK(start(f, *r, define(*r, "a2", alice, 100)));
}

TEST_CASE("quotas: definitions in all and domains per owner", "[quota]")
{
    Fixture f;
    Quotas q;
    q.max_definitions = 3;
    q.user_domains = 2;
    auto r = with_quotas(f, q);
    define(*r, "a1", alice);
    define(*r, "a2", alice);
    auto third = r->define(domain_xml("a3"), alice);
    REQUIRE_FALSE(third);
    CHECK(third.error().message.find("user-max-domains") != std::string::npos);
    define(*r, "b1", bob);
    auto fourth = r->define(domain_xml("r1"), Principal::router());
    REQUIRE_FALSE(fourth);
    CHECK(fourth.error().message.find("max-definitions") != std::string::npos);
}
