// libFuzzer target: decode_claim against arbitrary bytes from a pool's
// claimant (claim.hpp), which runs the guests' own exec block checks
// (<fleet/abi/guest.h>) on the block inside.
//
// A claim that decodes must encode again, and that encoding must decode to
// the same request: the checks accept only what the launcher can say.
// A crash, sanitizer report, exception or disagreement is a bug.
#include <fleet/vmm/claim.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

[[noreturn]] void disagree(const char* what)
{
    std::fprintf(stderr, "claim_fuzzer: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    (void)fleet::vmm::claim_body_size(bytes);
    auto r = fleet::vmm::decode_claim(bytes);
    if (!r) return 0;
    auto again = fleet::vmm::encode_claim(*r);
    if (!again) disagree("a decoded claim does not encode");
    auto back = fleet::vmm::decode_claim(*again);
    if (!back) disagree("an encoded claim does not decode");
    if (back->name != r->name || back->args != r->args || back->env != r->env || back->workdir != r->workdir ||
        back->forward_stdin != r->forward_stdin || back->auto_remove != r->auto_remove ||
        back->detached != r->detached || back->stop_deadline != r->stop_deadline)
        disagree("a claim changed on its round trip");
    return 0;
}
