// fleet shell — fuzz target for the router URI parser (libFuzzer entry point).
//
// FLEET_URI, fsh --connect and `router URI` are text from anyone: the
// parser must refuse bad input with one line, and what it accepts must
// print canonically and parse back to the same URI.
#include <fleet/shell/router_uri.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string input(reinterpret_cast<const char*>(data), size);
    auto uri = fleet::shell::parse_router_uri(input);
    if (!uri) {
        if (uri.error().message.find('\n') != std::string::npos) {
            std::fprintf(stderr, "uri-fuzzer: a message of more than one line\n");
            std::abort();
        }
        return 0;
    }
    std::string text = fleet::shell::format_router_uri(*uri);
    auto again = fleet::shell::parse_router_uri(text);
    if (!again || !(*again == *uri) || fleet::shell::format_router_uri(*again) != text) {
        std::fprintf(stderr, "uri-fuzzer: '%s' does not parse back the same\n", text.c_str());
        std::abort();
    }
    return 0;
}
