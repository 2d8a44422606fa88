// fleet — XDR (RFC 4506) as rpcgen emits it for libvirt: big-endian 4-byte
// int/unsigned/enum/bool (and char/short, which rpcgen widens to 4 bytes),
// 8-byte hyper and double, strings and variable opaques as a u32 length,
// the bytes and zero padding to a multiple of 4.
//
// XdrWriter appends to a string. Writing can only go wrong by breaking a
// declared limit (a string longer than its string<N>); the writer then
// remembers the first such error and the message encoders report it.
//
// XdrReader never trusts its input: every length and count is checked
// against its declared maximum and against the bytes that remain, so no
// allocation is ever larger than the input could fill, and every failure is
// an Error naming the offset, never a crash.
#pragma once

#include <fleet/base/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fleet::wire {

class XdrWriter {
public:
    XdrWriter() = default;

    void put_u32(std::uint32_t v);
    void put_i32(std::int32_t v) { put_u32(static_cast<std::uint32_t>(v)); }
    void put_u64(std::uint64_t v);
    void put_i64(std::int64_t v) { put_u64(static_cast<std::uint64_t>(v)); }
    void put_bool(bool v) { put_u32(v ? 1 : 0); }
    void put_double(double v);
    // opaque[N]: the bytes, then padding (no length).
    void put_fixed_opaque(std::string_view bytes);
    // opaque<max> / string<max>: length, bytes, padding. Over max: an error.
    void put_opaque(std::string_view bytes, std::uint32_t max);
    void put_string(std::string_view s, std::uint32_t max) { put_opaque(s, max); }
    // The count of an array T x<max>; the caller then writes the items.
    void put_count(std::size_t count, std::uint32_t max);

    // Overwrite 4 bytes written earlier (the packet length word).
    void patch_u32(std::size_t offset, std::uint32_t v);

    // Record an error (the first one wins); the output is then unusable.
    void set_error(std::string message);
    [[nodiscard]] bool ok() const { return !error_; }
    [[nodiscard]] Result<> status() const;

    [[nodiscard]] std::size_t size() const { return out_.size(); }
    [[nodiscard]] const std::string& bytes() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    void pad(std::size_t n);

    std::string out_;
    std::optional<Error> error_;
};

class XdrReader {
public:
    explicit XdrReader(std::span<const std::uint8_t> in) : data_(in.data()), size_(in.size()) {}
    explicit XdrReader(std::string_view in) : data_(reinterpret_cast<const std::uint8_t*>(in.data())), size_(in.size())
    {
    }
    // The reader does not own its input: a temporary would dangle.
    explicit XdrReader(std::string&&) = delete;

    Result<std::uint32_t> u32();
    Result<std::int32_t> i32();
    Result<std::uint64_t> u64();
    Result<std::int64_t> i64();
    Result<bool> boolean();  // 0 or 1, anything else is an error
    Result<double> f64();
    // opaque[out.size()] into out.
    Result<> fixed_opaque(std::span<std::uint8_t> out);
    // opaque<max>, as bytes.
    Result<std::string> opaque(std::uint32_t max);
    // string<max>: like opaque, and a NUL byte inside is an error (a C peer
    // could not mean it, and names end up in paths and logs).
    Result<std::string> string(std::uint32_t max);
    // The count of an array T x<max> whose items take at least min_item_size
    // bytes each: checked against max and against the remaining bytes, so the
    // caller may reserve() it.
    Result<std::uint32_t> count(std::uint32_t max, std::size_t min_item_size);
    // An optional pointer's discriminator: 0 (NULL) or 1 (a value follows).
    Result<bool> present();

    [[nodiscard]] std::size_t offset() const { return pos_; }
    [[nodiscard]] std::size_t remaining() const { return size_ - pos_; }
    // An error if any input is left over.
    [[nodiscard]] Result<> finish() const;

    // An error message naming the current offset.
    [[nodiscard]] std::unexpected<Error> error(std::string_view what) const;

private:
    Result<> need(std::size_t n, std::string_view what) const;
    Result<std::string> bytes(std::uint32_t max, std::string_view what);

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Bytes of padding after n bytes of data.
constexpr std::size_t xdr_pad(std::size_t n)
{
    return (4 - (n % 4)) % 4;
}

}  // namespace fleet::wire
