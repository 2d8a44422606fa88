// fleet — the router's mDNS announcement: one DNS-SD service (by default
// _libvirt._tcp) published through the local avahi-daemon.
//
// avahi-client is driven from the caller's fleet::Loop (no thread of its
// own). Publishing never fails the caller: with no avahi-daemon, or no D-Bus
// system bus at all, the publisher logs one warning and keeps trying quietly,
// and publishes when the daemon appears. It follows the daemon through
// restarts (publishes again) and picks an alternative name on a collision
// ("fleet on host #2"), logging each change as one line.
//
// Log lines (Log gets one line, no newline), for example:
//   mdns: published 'fleet on host' _libvirt._tcp port 16509
//   mdns: name 'fleet on host' is taken; publishing as 'fleet on host #2'
//   mdns: no avahi-daemon (Daemon not running); serving without mDNS
//   mdns: lost avahi-daemon (Daemon connection failed); will publish again when it returns
//
// Note: avahi-client makes its D-Bus calls blocking (connect, create, commit,
// free); against a local daemon each takes well under a millisecond.
#pragma once

#include <fleet/base/loop.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fleet::router {

struct MdnsService {
    std::string name{};  // instance name, e.g. "fleet on HOSTNAME"
    std::string type = "_libvirt._tcp";
    std::uint16_t port = 16509;
    std::vector<std::string> txt{};  // "key=value" strings, published in this order
};

class MdnsPublisher {
public:
    using Log = std::function<void(const std::string& line)>;  // one line, no newline

    // Starts publishing on loop; the loop must outlive the publisher.
    static std::unique_ptr<MdnsPublisher> start(fleet::Loop& loop, MdnsService service, Log log);
    ~MdnsPublisher();  // withdraws the service (before it returns, if the daemon is reachable)
    MdnsPublisher(const MdnsPublisher&) = delete;
    MdnsPublisher& operator=(const MdnsPublisher&) = delete;

    // The name published (or being published): service.name, or the
    // alternative avahi chose after a collision.
    [[nodiscard]] std::string published_name() const;
    // The daemon has registered the service (avahi's ESTABLISHED state).
    [[nodiscard]] bool established() const;

private:
    struct Impl;
    explicit MdnsPublisher(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace fleet::router
