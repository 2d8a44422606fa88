// fleet — the generic XDR codec for described structs.
//
// A message struct lists its fields once, in wire order, as a tuple of
// member pointers named `xdr`:
//
//     struct DomainGetStateRet {
//         std::int32_t state = 0;
//         std::int32_t reason = 0;
//         static constexpr auto xdr = std::tuple{&DomainGetStateRet::state, &DomainGetStateRet::reason};
//     };
//
// and encode()/decode<T>() walk that list. The C++ type of a field says its
// XDR type:
//
//   int32_t / uint32_t       int / unsigned int
//   int64_t / uint64_t       hyper / unsigned hyper
//   uint8_t / uint16_t       unsigned char / unsigned short (4 bytes each!)
//   bool, double             bool, double
//   std::string              remote_nonnull_string (string<4194304>)
//   std::optional<T>         T* (an optional pointer: remote_string, remote_domain)
//   Uuid                     opaque[16]
//   List<T, N>               T x<N>
//   Chars<N>                 char x<N>: one 4-byte int per character
//   Opaque<N>                opaque x<N>: length, bytes, padding
//   FixedChars<N>            char x[N]: N 4-byte ints, NUL-padded
//   a described struct       its fields, in order
//
// One description serves both directions, so the encoder and the decoder
// cannot disagree about the layout.
#pragma once

#include <fleet/wire/protocol.hpp>
#include <fleet/wire/xdr.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace fleet::wire {

using Uuid = std::array<std::uint8_t, uuid_size>;

// T x<Max>: a vector that knows its limit.
template <class T, std::uint32_t Max>
struct List : std::vector<T> {
    using std::vector<T>::vector;
    static constexpr std::uint32_t max = Max;
    bool operator==(const List&) const = default;
};

// char x<Max>: text sent as one 4-byte int per character.
template <std::uint32_t Max>
struct Chars : std::string {
    using std::string::string;
    Chars(std::string s) : std::string(std::move(s)) {}
    static constexpr std::uint32_t max = Max;
    // Compared as strings (std::string's operators).
};

// char x[N]: exactly N 4-byte ints; the text is NUL-padded on the wire and
// ends at the first NUL when read back.
template <std::uint32_t N>
struct FixedChars : std::string {
    using std::string::string;
    FixedChars(std::string s) : std::string(std::move(s)) {}
    static constexpr std::uint32_t size_on_wire = N;
};

// opaque x<Max>: bytes with a length.
template <std::uint32_t Max>
struct Opaque : std::string {
    using std::string::string;
    Opaque(std::string s) : std::string(std::move(s)) {}
    static constexpr std::uint32_t max = Max;
};

template <class T>
concept Described = requires
{
    T::xdr;
};

// ---- Smallest encoding of a type, for bounding array counts ---------------

template <class T>
struct MinWire {
    static constexpr std::size_t value = 4;  // ints, bools, lengths, counts, pointers
};
template <>
struct MinWire<std::int64_t> {
    static constexpr std::size_t value = 8;
};
template <>
struct MinWire<std::uint64_t> {
    static constexpr std::size_t value = 8;
};
template <>
struct MinWire<double> {
    static constexpr std::size_t value = 8;
};
template <>
struct MinWire<Uuid> {
    static constexpr std::size_t value = uuid_size;
};
template <std::uint32_t N>
struct MinWire<FixedChars<N>> {
    static constexpr std::size_t value = 4 * std::size_t{N};
};
template <Described T>
struct MinWire<T> {
    static constexpr std::size_t value = std::apply(
        [](auto... m) { return (std::size_t{0} + ... + MinWire<std::remove_cvref_t<decltype(T{}.*m)>>::value); },
        T::xdr);
};
template <class T>
inline constexpr std::size_t min_wire_size = MinWire<T>::value;

// ---- Encoding --------------------------------------------------------------

inline void encode(XdrWriter& w, std::int32_t v)
{
    w.put_i32(v);
}
inline void encode(XdrWriter& w, std::uint32_t v)
{
    w.put_u32(v);
}
inline void encode(XdrWriter& w, std::int64_t v)
{
    w.put_i64(v);
}
inline void encode(XdrWriter& w, std::uint64_t v)
{
    w.put_u64(v);
}
inline void encode(XdrWriter& w, std::uint8_t v)
{
    w.put_u32(v);
}
inline void encode(XdrWriter& w, std::uint16_t v)
{
    w.put_u32(v);
}
inline void encode(XdrWriter& w, bool v)
{
    w.put_bool(v);
}
inline void encode(XdrWriter& w, double v)
{
    w.put_double(v);
}
inline void encode(XdrWriter& w, const std::string& v)
{
    w.put_string(v, remote_string_max);
}
inline void encode(XdrWriter& w, const Uuid& v)
{
    w.put_fixed_opaque(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

// Characters as XDR chars: each byte sign-extended, as a C char on x86 is.
void encode_chars(XdrWriter& w, std::string_view s);

template <std::uint32_t Max>
void encode(XdrWriter& w, const Chars<Max>& v)
{
    w.put_count(v.size(), Max);
    if (w.ok()) encode_chars(w, v);
}

template <std::uint32_t N>
void encode(XdrWriter& w, const FixedChars<N>& v)
{
    if (v.size() > N) {
        w.set_error("XDR: " + std::to_string(v.size()) + " characters do not fit char[" + std::to_string(N) + "]");
        return;
    }
    encode_chars(w, v);
    for (std::size_t i = v.size(); i < N; ++i) w.put_u32(0);
}

template <std::uint32_t Max>
void encode(XdrWriter& w, const Opaque<Max>& v)
{
    w.put_opaque(v, Max);
}

template <class T>
void encode(XdrWriter& w, const std::optional<T>& v);
template <class T, std::uint32_t Max>
void encode(XdrWriter& w, const List<T, Max>& v);

template <Described T>
void encode(XdrWriter& w, const T& v)
{
    std::apply([&](auto... m) { (encode(w, v.*m), ...); }, T::xdr);
}

template <class T>
void encode(XdrWriter& w, const std::optional<T>& v)
{
    w.put_u32(v ? 1 : 0);
    if (v) encode(w, *v);
}

template <class T, std::uint32_t Max>
void encode(XdrWriter& w, const List<T, Max>& v)
{
    w.put_count(v.size(), Max);
    if (!w.ok()) return;
    for (const T& item : v) encode(w, item);
}

// ---- Decoding (in place; decode<T>() below is the public form) ------------

Result<> decode_into(XdrReader& r, std::int32_t& v);
Result<> decode_into(XdrReader& r, std::uint32_t& v);
Result<> decode_into(XdrReader& r, std::int64_t& v);
Result<> decode_into(XdrReader& r, std::uint64_t& v);
Result<> decode_into(XdrReader& r, std::uint8_t& v);
Result<> decode_into(XdrReader& r, std::uint16_t& v);
Result<> decode_into(XdrReader& r, bool& v);
Result<> decode_into(XdrReader& r, double& v);
Result<> decode_into(XdrReader& r, std::string& v);
Result<> decode_into(XdrReader& r, Uuid& v);
// n XDR chars (each in -128..255) into out.
Result<> decode_chars(XdrReader& r, std::size_t n, std::string& out);

template <std::uint32_t Max>
Result<> decode_into(XdrReader& r, Chars<Max>& v)
{
    auto n = r.count(Max, 4);
    if (!n) return std::unexpected(n.error());
    return decode_chars(r, *n, v);
}

template <std::uint32_t N>
Result<> decode_into(XdrReader& r, FixedChars<N>& v)
{
    if (auto ok = decode_chars(r, N, v); !ok) return ok;
    if (auto nul = v.find('\0'); nul != std::string::npos) v.resize(nul);
    return {};
}

template <std::uint32_t Max>
Result<> decode_into(XdrReader& r, Opaque<Max>& v)
{
    auto bytes = r.opaque(Max);
    if (!bytes) return std::unexpected(bytes.error());
    v.assign(*bytes);
    return {};
}

template <class T>
Result<> decode_into(XdrReader& r, std::optional<T>& v);
template <class T, std::uint32_t Max>
Result<> decode_into(XdrReader& r, List<T, Max>& v);

template <Described T>
Result<> decode_into(XdrReader& r, T& v)
{
    Result<> result;
    // Stops at the first field that fails.
    std::apply([&](auto... m) { (void)((result = decode_into(r, v.*m)) && ...); }, T::xdr);
    return result;
}

template <class T>
Result<> decode_into(XdrReader& r, std::optional<T>& v)
{
    auto present = r.present();
    if (!present) return std::unexpected(present.error());
    if (!*present) {
        v.reset();
        return {};
    }
    v.emplace();
    return decode_into(r, *v);
}

template <class T, std::uint32_t Max>
Result<> decode_into(XdrReader& r, List<T, Max>& v)
{
    auto n = r.count(Max, min_wire_size<T>);
    if (!n) return std::unexpected(n.error());
    v.clear();
    v.reserve(*n);  // bounded by the remaining input (count() checked it)
    for (std::uint32_t i = 0; i < *n; ++i) {
        if (auto ok = decode_into(r, v.emplace_back()); !ok) return ok;
    }
    return {};
}

// ---- Public forms ----------------------------------------------------------

template <class T>
Result<T> decode(XdrReader& r)
{
    T v{};
    if (auto ok = decode_into(r, v); !ok) return std::unexpected(ok.error());
    return v;
}

// A whole payload as T: every byte must be used.
template <class T>
Result<T> decode_payload(std::string_view payload)
{
    XdrReader r(payload);
    auto v = decode<T>(r);
    if (!v) return v;
    if (auto end = r.finish(); !end) return std::unexpected(end.error());
    return v;
}

// T's XDR encoding on its own (tests, corpus files), or the first error.
template <class T>
Result<std::string> encode_payload(const T& v)
{
    XdrWriter w;
    encode(w, v);
    if (auto ok = w.status(); !ok) return std::unexpected(ok.error());
    return w.take();
}

}  // namespace fleet::wire
