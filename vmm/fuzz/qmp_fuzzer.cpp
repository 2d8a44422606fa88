// libFuzzer target: QmpReader against arbitrary bytes from "QEMU".
//
// Each input is used three ways, and the results must agree:
//   1. the whole input, fed at once, then finish();
//   2. the same bytes fed in chunks whose sizes come from the input's first
//      byte (so the fuzzer explores splits too), then finish();
//   3. a reference: the input split on '\n' by hand, every non-blank line
//      given to QmpReader::parse.
// Any disagreement, or a crash, sanitizer report or exception, is a bug.
#include <fleet/vmm/qmp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using fleet::vmm::QmpMessage;
using fleet::vmm::QmpReader;

namespace {

[[noreturn]] void disagree(const char* what)
{
    std::fprintf(stderr, "qmp_fuzzer: %s\n", what);
    std::abort();
}

std::string describe(const QmpMessage& m)
{
    std::string s = std::to_string(static_cast<int>(m.type)) + "|";
    s += m.id ? std::to_string(*m.id) : "-";
    s += "|" + m.event + "|" + m.error_class + "|" + m.error_desc + "|";
    // The parser only lets valid UTF-8 through, so a strict dump() must not
    // throw; an exception here is a finding.
    s += m.value.dump();
    return s;
}

// What a message of each kind must look like.
void check_shape(const QmpMessage& m)
{
    using T = QmpMessage::Type;
    switch (m.type) {
        case T::greeting:
            if (!m.value.is_object()) disagree("greeting that is not an object");
            break;
        case T::reply:
            break;
        case T::error:
            if (m.error_class.empty() && m.error_desc.empty()) disagree("error without class or desc");
            break;
        case T::event:
            if (m.id) disagree("event with an id");
            break;
    }
}

struct Outcome {
    bool ok = true;
    std::vector<std::string> messages;
    bool clean_end = true;
};

Outcome at_once(std::string_view stream)
{
    Outcome o;
    QmpReader r;
    auto ms = r.feed(stream);
    if (!ms) {
        o.ok = false;
        return o;
    }
    for (const auto& m : *ms) {
        check_shape(m);
        o.messages.push_back(describe(m));
    }
    o.clean_end = r.finish().has_value();
    return o;
}

Outcome in_chunks(std::string_view stream, std::uint8_t seed)
{
    Outcome o;
    QmpReader r;
    std::uint32_t x = seed * 2654435761u + 1;
    std::size_t pos = 0;
    while (pos < stream.size()) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Mostly small chunks (1..16), sometimes large ones.
        std::size_t n = (x & 0x80) ? (x >> 8) % 4096 + 1 : (x >> 8) % 16 + 1;
        if (seed == 0) n = 1;  // byte by byte
        auto ms = r.feed(stream.substr(pos, n));
        pos += n;
        if (!ms) {
            o.ok = false;
            return o;
        }
        for (const auto& m : *ms) o.messages.push_back(describe(m));
    }
    o.clean_end = r.finish().has_value();
    return o;
}

Outcome by_hand(std::string_view stream)
{
    Outcome o;
    std::size_t start = 0;
    for (;;) {
        std::size_t nl = stream.find('\n', start);
        if (nl == std::string_view::npos) break;
        std::string_view line = stream.substr(start, nl - start);
        start = nl + 1;
        bool blank = true;
        for (char c : line) blank = blank && (c == ' ' || c == '\t' || c == '\r');
        if (blank) continue;
        auto m = QmpReader::parse(line);
        if (!m) {
            o.ok = false;
            return o;
        }
        o.messages.push_back(describe(*m));
    }
    for (char c : stream.substr(start)) o.clean_end = o.clean_end && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view all(reinterpret_cast<const char*>(data), size);

    // The whole input as one line.
    if (auto m = QmpReader::parse(all)) {
        check_shape(*m);
        (void)describe(*m);
    }

    if (size == 0) return 0;
    std::uint8_t seed = data[0];
    std::string_view stream = all.substr(1);

    Outcome a = at_once(stream);
    Outcome b = in_chunks(stream, seed);
    Outcome c = by_hand(stream);
    if (a.ok != c.ok) disagree("feed() and the line-by-line reference disagree on success");
    if (b.ok != c.ok) disagree("chunked feed() and the reference disagree on success");
    if (c.ok) {
        if (a.messages != c.messages) disagree("feed() and the reference read different messages");
        if (b.messages != c.messages) disagree("chunked feed() and the reference read different messages");
        if (a.clean_end != c.clean_end || b.clean_end != c.clean_end) disagree("finish() disagrees");
    } else {
        // Chunked, the messages before the bad one may come out; never others.
        if (b.messages.size() > c.messages.size()) disagree("chunked feed() read past the first bad message");
        for (std::size_t i = 0; i < b.messages.size(); ++i)
            if (b.messages[i] != c.messages[i]) disagree("chunked feed() read other messages before the bad one");
    }
    return 0;
}
