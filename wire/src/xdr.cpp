// fleet — XDR writer and the bounds-checked reader (see xdr.hpp).
#include <fleet/wire/xdr.hpp>

#include <bit>
#include <cstring>

namespace fleet::wire {

// ---- XdrWriter -----------------------------------------------------------

void XdrWriter::put_u32(std::uint32_t v)
{
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out_.append(b, 4);
}

void XdrWriter::put_u64(std::uint64_t v)
{
    put_u32(static_cast<std::uint32_t>(v >> 32));
    put_u32(static_cast<std::uint32_t>(v));
}

void XdrWriter::put_double(double v)
{
    put_u64(std::bit_cast<std::uint64_t>(v));
}

void XdrWriter::pad(std::size_t n)
{
    out_.append(xdr_pad(n), '\0');
}

void XdrWriter::put_fixed_opaque(std::string_view bytes)
{
    out_.append(bytes);
    pad(bytes.size());
}

void XdrWriter::put_opaque(std::string_view bytes, std::uint32_t max)
{
    if (bytes.size() > max) {
        set_error("XDR: " + std::to_string(bytes.size()) + "-byte string exceeds its limit of " + std::to_string(max));
        return;
    }
    put_u32(static_cast<std::uint32_t>(bytes.size()));
    put_fixed_opaque(bytes);
}

void XdrWriter::put_count(std::size_t count, std::uint32_t max)
{
    if (count > max) {
        set_error("XDR: array of " + std::to_string(count) + " items exceeds its limit of " + std::to_string(max));
        return;
    }
    put_u32(static_cast<std::uint32_t>(count));
}

void XdrWriter::patch_u32(std::size_t offset, std::uint32_t v)
{
    if (offset + 4 > out_.size()) {
        set_error("XDR: patch beyond the end of the output");
        return;
    }
    out_[offset] = static_cast<char>(v >> 24);
    out_[offset + 1] = static_cast<char>(v >> 16);
    out_[offset + 2] = static_cast<char>(v >> 8);
    out_[offset + 3] = static_cast<char>(v);
}

void XdrWriter::set_error(std::string message)
{
    if (!error_) error_ = Error{std::move(message), 0};
}

Result<> XdrWriter::status() const
{
    if (error_) return std::unexpected(*error_);
    return {};
}

// ---- XdrReader -----------------------------------------------------------

std::unexpected<Error> XdrReader::error(std::string_view what) const
{
    return fail("XDR: " + std::string(what) + " at offset " + std::to_string(pos_));
}

Result<> XdrReader::need(std::size_t n, std::string_view what) const
{
    if (n > remaining()) {
        return error(std::string(what) + " needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) +
                     " left");
    }
    return {};
}

Result<std::uint32_t> XdrReader::u32()
{
    if (auto r = need(4, "an int"); !r) return std::unexpected(r.error());
    const std::uint8_t* p = data_ + pos_;
    pos_ += 4;
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

Result<std::int32_t> XdrReader::i32()
{
    auto v = u32();
    if (!v) return std::unexpected(v.error());
    return static_cast<std::int32_t>(*v);
}

Result<std::uint64_t> XdrReader::u64()
{
    if (auto r = need(8, "a hyper"); !r) return std::unexpected(r.error());
    const std::uint64_t hi = *u32();
    const std::uint64_t lo = *u32();
    return (hi << 32) | lo;
}

Result<std::int64_t> XdrReader::i64()
{
    auto v = u64();
    if (!v) return std::unexpected(v.error());
    return static_cast<std::int64_t>(*v);
}

Result<bool> XdrReader::boolean()
{
    auto v = u32();
    if (!v) return std::unexpected(v.error());
    if (*v > 1) {
        pos_ -= 4;
        return error("bool " + std::to_string(*v) + " is neither 0 nor 1");
    }
    return *v == 1;
}

Result<double> XdrReader::f64()
{
    auto v = u64();
    if (!v) return std::unexpected(v.error());
    return std::bit_cast<double>(*v);
}

Result<> XdrReader::fixed_opaque(std::span<std::uint8_t> out)
{
    const std::size_t padded = out.size() + xdr_pad(out.size());
    if (auto r = need(padded, "a fixed opaque"); !r) return r;
    if (!out.empty()) std::memcpy(out.data(), data_ + pos_, out.size());
    pos_ += padded;
    return {};
}

Result<std::string> XdrReader::bytes(std::uint32_t max, std::string_view what)
{
    const std::size_t start = pos_;
    auto len = u32();
    if (!len) return std::unexpected(len.error());
    if (*len > max) {
        pos_ = start;
        return error(std::string(what) + " length " + std::to_string(*len) + " exceeds its limit of " +
                     std::to_string(max));
    }
    const std::size_t padded = std::size_t{*len} + xdr_pad(*len);
    if (auto r = need(padded, what); !r) {
        pos_ = start;
        return std::unexpected(r.error());
    }
    // Padding content is not checked: RFC 4506 says it is zero, and
    // rpcgen's decoders skip it too.
    std::string s(reinterpret_cast<const char*>(data_ + pos_), *len);
    pos_ += padded;
    return s;
}

Result<std::string> XdrReader::opaque(std::uint32_t max)
{
    return bytes(max, "an opaque");
}

Result<std::string> XdrReader::string(std::uint32_t max)
{
    const std::size_t start = pos_;
    auto s = bytes(max, "a string");
    if (s && s->find('\0') != std::string::npos) {
        pos_ = start;
        return error("a string contains a NUL byte");
    }
    return s;
}

Result<std::uint32_t> XdrReader::count(std::uint32_t max, std::size_t min_item_size)
{
    const std::size_t start = pos_;
    auto n = u32();
    if (!n) return std::unexpected(n.error());
    if (*n > max) {
        pos_ = start;
        return error("array count " + std::to_string(*n) + " exceeds its limit of " + std::to_string(max));
    }
    // Every item takes at least min_item_size bytes: a count the remaining
    // input cannot hold is refused before anything is allocated.
    if (min_item_size > 0 && *n > remaining() / min_item_size) {
        pos_ = start;
        return error("array count " + std::to_string(*n) + " needs at least " +
                     std::to_string(std::size_t{*n} * min_item_size) + " bytes, " + std::to_string(remaining()) +
                     " left");
    }
    return *n;
}

Result<bool> XdrReader::present()
{
    auto v = u32();
    if (!v) return std::unexpected(v.error());
    if (*v > 1) {
        pos_ -= 4;
        return error("optional-data flag " + std::to_string(*v) + " is neither 0 nor 1");
    }
    return *v == 1;
}

Result<> XdrReader::finish() const
{
    if (remaining() != 0) return error(std::to_string(remaining()) + " unexpected trailing bytes");
    return {};
}

}  // namespace fleet::wire
