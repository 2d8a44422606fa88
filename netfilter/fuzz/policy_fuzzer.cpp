// fleet — fuzz target for policy files (libFuzzer entry point).
//
// A policy file is written by people and read by the router as root:
// parse_policy may refuse it, never crash, hang or read out of bounds. An
// error names a position. Whatever it accepts must format to text that
// parses back to the same policy and formats the same again, and must
// compile, with a small inventory, in both conntrack modes, to a script
// whose every rule carries its comment.
#include <fleet/netfilter/compile.hpp>
#include <fleet/netfilter/policy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace fleet::netfilter;

namespace {

[[noreturn]] void die(const char* what, const std::string& text)
{
    std::fprintf(stderr, "policy-fuzzer: %s\n%s\n", what, text.c_str());
    std::abort();
}

Inventory inventory()
{
    Inventory inv;
    const char* names[] = {"web", "db", "a", "b"};
    for (int i = 0; i < 4; ++i) {
        Endpoint e;
        e.name = names[i];
        e.port = std::string("v") + names[i];
        e.mac.bytes = {0x0e, 0, 0, 0, 0, static_cast<std::uint8_t>(i + 1)};
        e.ipv4 = Ipv4{0x0a4d0002u + static_cast<std::uint32_t>(i)};
        if (i % 2 == 0) e.ipv6 = *parse_ipv6("fd66:6c65:6574::" + std::to_string(i + 2));
        e.groups = {"g", names[(i + 1) % 4]};
        e.outbound = i == 0;
        inv.push_back(e);
    }
    return inv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto policy = parse_policy(input, "f");
    if (!policy) {
        const std::string& m = policy.error().message;
        if (!m.starts_with("f:")) die("an error without a position", m);
        return 0;
    }
    const std::string text = format_policy(*policy);
    auto again = parse_policy(text, "f");
    if (!again) die(("the formatted policy does not parse: " + again.error().what()).c_str(), text);
    if (!(*again == *policy)) die("the formatted policy parses to something else", text);
    if (format_policy(*again) != text) die("formatting is not stable", text);
    static const Inventory vms = inventory();
    for (const Conntrack mode : {Conntrack::bridge, Conntrack::inet}) {
        CompileOptions o;
        o.conntrack = mode;
        auto script = compile_ruleset(*policy, vms, o);
        if (!script) die(("a parsed policy does not compile: " + script.error().what()).c_str(), text);
        for (const Endpoint& e : vms)
            if (join_script(*policy, e, o).empty()) die("a join without elements", text);
    }
    return 0;
}
