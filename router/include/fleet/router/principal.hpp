// fleet-router — a Principal: who a client is, and who owns a domain.
//
// A local client is the uid the kernel reports for its unix socket
// (SO_PEERCRED, never what it claims); a remote one is the distinguished
// name of the x509 certificate it proved over TLS. A client over plain TCP
// (read-only) is anonymous and never owns anything. A guest is a VM
// speaking over its own hypervisor channel (docs/hypervisor.md): named by
// its domain, it sees and owns only the children it created. Each domain's owner is
// the principal that defined or created it, kept beside its definition
// (docs/SECURITY.md): the quotas count per owner, and the owner (or an
// administrator) alone may change the domain.
#pragma once

#include <fleet/base/process.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace fleet::router {

struct Principal {
    enum class Kind { local, remote, anonymous, guest };
    Kind kind = Kind::local;
    uid_t uid = 0;   // local
    std::string dn;  // remote: the certificate's distinguished name; guest: its domain's name

    static Principal local(uid_t uid) { return Principal{Kind::local, uid, {}}; }
    static Principal remote(std::string dn) { return Principal{Kind::remote, 0, std::move(dn)}; }
    static Principal anonymous() { return Principal{Kind::anonymous, 0, {}}; }
    static Principal guest(std::string domain) { return Principal{Kind::guest, 0, std::move(domain)}; }
    // The router's own user (root for a system router): owner of what was
    // defined before owners were recorded, and of the boot manifest.
    static Principal router();

    // Root, or the user the router runs as: may change any domain, and no
    // per-user quota applies (the host budget still does).
    [[nodiscard]] bool administrator() const;
    // "uid 1000 (alice)", "remote 'CN=x,O=y'", "an anonymous client",
    // "domain 'web' (its hypervisor channel)".
    [[nodiscard]] std::string describe() const;
    // The persisted form, one line: "uid 1000", "remote CN=x,O=y", "guest web" (a DN
    // with a control character is refused by from_record). Also the key
    // the per-user limits count by.
    [[nodiscard]] std::string record() const;
    static std::optional<Principal> from_record(std::string_view text);

    bool operator==(const Principal&) const = default;
};

// Whether `who` could open `path` itself (for writing too with `write`):
// symbolic links resolved, every folder on the way searchable, the file
// (or folder: listable) allowed to its uid and groups by the mode bits.
// Administrators may open anything; remote, anonymous and guest clients no host
// path. The router runs VMs as root, so a host path a client names in a
// definition must pass this for the domain's owner (docs/SECURITY.md).
bool may_open(const Principal& who, const std::string& path, bool write = false);

// Whom a root router opens `who`'s files as (base open_as): a local
// client's uid, primary group and groups; nobody (65534) for a remote or
// anonymous one, which may name no host path anyway. nullopt for an
// administrator, or when the router is not root: its own rights.
std::optional<SpawnOptions::Credentials> file_credentials(const Principal& who);

}  // namespace fleet::router
