// fleet — the leaves of the generic codec (codec.hpp): primitives, uuids and
// XDR char arrays.
#include <fleet/wire/codec.hpp>

#include <limits>

namespace fleet::wire {

namespace {

template <class T, class Read>
Result<> read_into(T& out, Read&& read)
{
    auto v = read();
    if (!v) return std::unexpected(v.error());
    out = *v;
    return {};
}

// unsigned char / unsigned short travel as 4-byte unsigned ints; a value
// that does not fit the C type is malformed, not silently truncated.
template <class T>
Result<> read_narrow(XdrReader& r, T& out, std::string_view type)
{
    auto v = r.u32();
    if (!v) return std::unexpected(v.error());
    if (*v > std::numeric_limits<T>::max()) {
        return fail("XDR: " + std::string(type) + " " + std::to_string(*v) + " out of range before offset " +
                    std::to_string(r.offset()));
    }
    out = static_cast<T>(*v);
    return {};
}

}  // namespace

void encode_chars(XdrWriter& w, std::string_view s)
{
    for (char c : s) w.put_i32(static_cast<signed char>(c));
}

Result<> decode_into(XdrReader& r, std::int32_t& v)
{
    return read_into(v, [&] { return r.i32(); });
}

Result<> decode_into(XdrReader& r, std::uint32_t& v)
{
    return read_into(v, [&] { return r.u32(); });
}

Result<> decode_into(XdrReader& r, std::int64_t& v)
{
    return read_into(v, [&] { return r.i64(); });
}

Result<> decode_into(XdrReader& r, std::uint64_t& v)
{
    return read_into(v, [&] { return r.u64(); });
}

Result<> decode_into(XdrReader& r, bool& v)
{
    return read_into(v, [&] { return r.boolean(); });
}

Result<> decode_into(XdrReader& r, double& v)
{
    return read_into(v, [&] { return r.f64(); });
}

Result<> decode_into(XdrReader& r, std::uint8_t& v)
{
    return read_narrow(r, v, "unsigned char");
}

Result<> decode_into(XdrReader& r, std::uint16_t& v)
{
    return read_narrow(r, v, "unsigned short");
}

Result<> decode_into(XdrReader& r, std::string& v)
{
    auto s = r.string(remote_string_max);
    if (!s) return std::unexpected(s.error());
    v = std::move(*s);
    return {};
}

Result<> decode_into(XdrReader& r, Uuid& v)
{
    return r.fixed_opaque(v);
}

Result<> decode_chars(XdrReader& r, std::size_t n, std::string& out)
{
    // Checked up front so that resize() is bounded by the input.
    if (n > r.remaining() / 4) {
        return r.error(std::to_string(n) + " chars need " + std::to_string(4 * n) + " bytes, " +
                       std::to_string(r.remaining()) + " left");
    }
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto c = r.i32();
        if (!c) return std::unexpected(c.error());
        if (*c < -128 || *c > 255) return r.error("char value " + std::to_string(*c) + " out of range");
        out[i] = static_cast<char>(*c);
    }
    return {};
}

}  // namespace fleet::wire
