// fleet — PacketAssembler: a connection's byte stream into packets.
//
// Bytes may arrive in any chunks. The assembler keeps at most one partial
// packet, whose declared length it checks as soon as the 4-byte length word
// is complete (28 <= length <= max_packet_size), and it grows its buffer as
// bytes arrive rather than trusting the declared length up front: a peer
// that announces 32 MiB and sends 10 bytes costs 10 bytes.
//
// After an error the stream cannot be resynchronised: every later feed()
// returns the same error and the connection should be closed.
#pragma once

#include <fleet/wire/packet.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::wire {

class PacketAssembler {
public:
    // max_length: the largest packet this side accepts (a server may allow
    // less than the protocol's limit: the calls it serves are smaller).
    explicit PacketAssembler(std::size_t max_length = max_packet_size) : max_length_(max_length) {}

    // Feed the next bytes; get every packet they complete, in order.
    Result<std::vector<Packet>> feed(std::string_view bytes);

    // No partial packet is buffered (a clean place for the peer to stop).
    [[nodiscard]] bool idle() const { return buffer_.empty(); }
    // Bytes of the partial packet held.
    [[nodiscard]] std::size_t buffered() const { return buffer_.size(); }
    // End of stream: an error if it cut a packet short.
    [[nodiscard]] Result<> finish() const;

private:
    std::string buffer_;          // the partial packet, length word included
    std::uint32_t expected_ = 0;  // its declared length, once known
    std::size_t max_length_;
    std::optional<Error> error_;
};

}  // namespace fleet::wire
