// fleet — fuzz target for the libvirt wire codec (libFuzzer entry point).
//
// The input is what a hostile client could send down a router connection.
// It goes through:
//  1. PacketAssembler, fed in uneven chunks, then finish();
//  2. for each packet: validate_payload, procedure_name, and the typed
//     decoders of the procedure its header names (args and ret), plus
//     remote_error — what a router does with it;
//  3. the same decoders on the input read as header + payload with its
//     length word ignored, so mutated seeds keep reaching the decoders.
// Only the named procedure's decoders run (mutations of the header's
// procedure number reach the others): decoding every input with all ~200
// payload types made one execution ~100 times dearer for no path a client
// can take.
// A decoder may fail, never crash, hang or allocate beyond its input's
// worth. Whatever decodes must re-encode, and decode again to the same
// value (the bytes may differ: padding content and char sign are not
// preserved), or the target aborts.
#include <fleet/wire/assembler.hpp>
#include <fleet/wire/procedures.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace fleet::wire;

namespace {

template <class T>
void roundtrip(std::string_view payload)
{
    auto value = decode_payload<T>(payload);
    if (!value) return;
    // Decoded values respect every limit, so they encode.
    auto bytes = encode_payload(*value);
    if (!bytes) std::abort();
    auto again = decode_payload<T>(*bytes);
    if (!again || !(*again == *value)) std::abort();
}

void decode_as_named(const Header& h, std::string_view payload)
{
    (void)validate_payload(h, payload);
    (void)procedure_name(h.prog, h.proc);
    KnownProcedures::for_each([&](auto p) {
        if (static_cast<std::int32_t>(decltype(p)::value) != h.proc) return;
        using Proc = Procedure<decltype(p)::value>;
        roundtrip<typename Proc::Args>(payload);
        roundtrip<typename Proc::Ret>(payload);
    });
    roundtrip<RemoteError>(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);

    // 1 and 2: the byte stream, in chunks of 1, 2, 3, 5, 8, ... bytes.
    PacketAssembler assembler;
    std::size_t a = 1, b = 2;
    for (std::string_view rest = input; !rest.empty();) {
        const std::string_view chunk = rest.substr(0, a);
        rest.remove_prefix(chunk.size());
        auto packets = assembler.feed(chunk);
        if (!packets) break;
        for (const Packet& p : *packets) decode_as_named(p.header, p.payload);
        const std::size_t next = a + b;
        a = b;
        b = next;
    }
    (void)assembler.finish();

    // 3: one packet, whatever its length word says.
    if (input.size() >= min_packet_size) {
        XdrReader r(input.substr(length_word_size));
        if (auto h = decode_header(r)) decode_as_named(*h, input.substr(min_packet_size));
    }
    return 0;
}
