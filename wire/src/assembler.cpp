// fleet — PacketAssembler (assembler.hpp).
#include <fleet/wire/assembler.hpp>

#include <algorithm>

namespace fleet::wire {

Result<std::vector<Packet>> PacketAssembler::feed(std::string_view bytes)
{
    if (error_) return std::unexpected(*error_);
    std::vector<Packet> packets;
    while (!bytes.empty()) {
        // Length word first: take just enough to complete it.
        if (buffer_.size() < length_word_size) {
            const std::size_t take = std::min(length_word_size - buffer_.size(), bytes.size());
            buffer_.append(bytes.substr(0, take));
            bytes.remove_prefix(take);
            if (buffer_.size() < length_word_size) break;
            XdrReader r(buffer_);
            auto length = check_length(*r.u32());
            if (length && *length > max_length_)
                length = fail("packet length " + std::to_string(*length) + " exceeds this side's limit of " +
                              std::to_string(max_length_));
            if (!length) {
                error_ = length.error();
                buffer_.clear();
                return std::unexpected(*error_);
            }
            expected_ = *length;
        }
        // Then the rest of this packet, and no more.
        const std::size_t take = std::min<std::size_t>(expected_ - buffer_.size(), bytes.size());
        // Grow geometrically, but never past the declared length nor to
        // more than twice what has arrived.
        const std::size_t want = buffer_.size() + take;
        if (want > buffer_.capacity()) {
            buffer_.reserve(std::min<std::size_t>(expected_, std::max(want, 2 * buffer_.capacity())));
        }
        buffer_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (buffer_.size() < expected_) break;
        // Header decoding cannot fail on 28+ bytes; the payload is moved
        // out rather than copied, so a packet is never held twice.
        XdrReader r(std::string_view(buffer_).substr(length_word_size));
        Packet packet{*decode_header(r), {}};
        buffer_.erase(0, min_packet_size);
        packet.payload = std::move(buffer_);
        buffer_.clear();
        expected_ = 0;
        packets.push_back(std::move(packet));
    }
    return packets;
}

Result<> PacketAssembler::finish() const
{
    if (error_) return std::unexpected(*error_);
    if (!buffer_.empty()) {
        return fail("stream ended inside a packet (" + std::to_string(buffer_.size()) + " of " +
                    (expected_ ? std::to_string(expected_) : std::string("?")) + " bytes)");
    }
    return {};
}

}  // namespace fleet::wire
