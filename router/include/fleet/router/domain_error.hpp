// fleet-router — what can go wrong with a domain, as the registry and the
// launcher say it. No libvirt here: the libvirt mapping
// (router/src/libvirt/mapping.cpp) turns each code into a libvirt error
// number and libvirtd's wording.
#pragma once

#include <fleet/base/error.hpp>

#include <expected>
#include <string>
#include <utility>

namespace fleet::router {

enum class Errc {
    not_found,           // no such domain
    exists,              // the name or the uuid is taken
    invalid_state,       // the domain is not in a state the operation applies to
    bad_definition,      // the XML does not parse, or contradicts itself
    unsupported_config,  // the XML asks for what fleet understands but cannot honour
    invalid_argument,    // an image, argument list or VM the launcher refuses
    unsupported,         // fleet cannot do it (here, or yet): KVM, interfaces, shares
    failed,              // tried, and it failed: I/O, fork, signal, monitor, the guest's start
    denied,              // the domain is another user's
    limit,               // a quota or the host's budget would be exceeded
};

struct DomainError {
    Errc code;
    std::string message;  // what and why, without libvirt's prefixes: anyone who asked may read it
    // The full story, for administrators only, when `message` had to leave
    // it out: what a file the client named (and may not be able to read)
    // holds, or whether it exists.
    std::string detail{};

    bool operator==(const DomainError&) const = default;
};

template <class T = void>
using DomainResult = std::expected<T, DomainError>;

inline std::unexpected<DomainError> domain_fail(Errc code, std::string message)
{
    return std::unexpected(DomainError{code, std::move(message)});
}

// A parse error of domain XML as the registry reports it:
// unsupported_config for what fleet cannot honour, else bad_definition.
std::unexpected<DomainError> definition_error(const Error& e);

}  // namespace fleet::router
