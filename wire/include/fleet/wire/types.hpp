// fleet — the structs every libvirt program shares: remote_nonnull_domain,
// remote_nonnull_network, remote_error, and the empty payload.
#pragma once

#include <fleet/wire/codec.hpp>
#include <fleet/wire/libvirt_enums.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace fleet::wire {

// An absent payload (a `void` argument or return).
struct Void {
    static constexpr auto xdr = std::tuple{};
    bool operator==(const Void&) const = default;
};

// remote_nonnull_domain. id is -1 for an inactive domain.
struct NonnullDomain {
    std::string name;
    Uuid uuid{};
    std::int32_t id = -1;
    static constexpr auto xdr = std::tuple{&NonnullDomain::name, &NonnullDomain::uuid, &NonnullDomain::id};
    bool operator==(const NonnullDomain&) const = default;
};

// remote_nonnull_network (only inside remote_error, always sent as NULL).
struct NonnullNetwork {
    std::string name;
    Uuid uuid{};
    static constexpr auto xdr = std::tuple{&NonnullNetwork::name, &NonnullNetwork::uuid};
    bool operator==(const NonnullNetwork&) const = default;
};

// remote_error, the payload of every REPLY or STREAM with status ERROR.
// Field order is the wire order (virnetprotocol.x virNetMessageError).
struct RemoteError {
    std::int32_t code = err::internal_error;
    std::int32_t domain = errdom::none;
    std::optional<std::string> message;
    std::int32_t level = errlevel::error;
    std::optional<NonnullDomain> dom;  // unused: send NULL
    std::optional<std::string> str1;
    std::optional<std::string> str2;
    std::optional<std::string> str3;
    std::int32_t int1 = 0;
    std::int32_t int2 = 0;
    std::optional<NonnullNetwork> net;  // unused: send NULL

    static constexpr auto xdr =
        std::tuple{&RemoteError::code, &RemoteError::domain, &RemoteError::message, &RemoteError::level,
                   &RemoteError::dom,  &RemoteError::str1,   &RemoteError::str2,    &RemoteError::str3,
                   &RemoteError::int1, &RemoteError::int2,   &RemoteError::net};
    bool operator==(const RemoteError&) const = default;
};

// An error as libvirtd sends one: level ERROR, the message, str1 = message
// (libvirt puts the format's prefix there; clients print `message`).
RemoteError make_error(std::int32_t code, std::int32_t domain, std::string message);

// libvirtd's answer to a procedure it does not know (the client turns it
// into VIR_ERR_NO_SUPPORT, which drives virsh's fallbacks).
RemoteError unknown_procedure_error(std::int32_t proc);

}  // namespace fleet::wire
