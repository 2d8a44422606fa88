// fleet-router — the limits and quotas as flags and config-file lines
// (options.hpp): libvirtd's defaults where it has them.
#include "options.hpp"

#include <cctype>
#include <charconv>

namespace po = boost::program_options;

namespace fleet::router {

std::expected<std::uint64_t, std::string> parse_size(const std::string& text, std::uint64_t unit)
{
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    std::string rest(end, text.data() + text.size());
    if (ec != std::errc() || end == text.data()) return std::unexpected("'" + text + "' is not a size");
    std::uint64_t scale = unit;
    if (!rest.empty()) {
        char c = static_cast<char>(std::toupper(static_cast<unsigned char>(rest[0])));
        bool ok = rest.size() == 1 || rest.substr(1) == "iB" || rest.substr(1) == "B" || rest.substr(1) == "ib";
        if (!ok || (c != 'K' && c != 'M' && c != 'G' && c != 'T'))
            return std::unexpected("'" + text + "': the suffix must be K, M, G or T");
        scale = c == 'K' ? 1ull << 10 : c == 'M' ? 1ull << 20 : c == 'G' ? 1ull << 30 : 1ull << 40;
    }
    if (n > (~0ull) / scale) return std::unexpected("'" + text + "' is too large");
    return n * scale;
}

void add_limit_options(po::options_description& d, LimitValues& v)
{
    const ClientLimits c;
    const Quotas q;
    auto flag = d.add_options();
    flag("max-clients", po::value(&v.max_clients)->default_value(c.max_clients), "clients connected at once");
    flag("max-clients-per-user", po::value(&v.max_clients_per_user)->default_value(c.max_clients_per_user),
         "clients per uid, per certificate DN, and over plain TCP (root: unlimited)");
    flag("max-anonymous-clients", po::value(&v.max_anonymous_clients)->default_value(c.max_anonymous_clients),
         "TLS clients still in their handshake");
    flag("max-client-requests", po::value(&v.max_client_requests)->default_value(c.max_requests),
         "calls a client may have unanswered; past it, its input is not read");
    flag("max-client-streams", po::value(&v.max_client_streams)->default_value(c.max_streams),
         "console streams per client");
    flag("max-client-callbacks", po::value(&v.max_client_callbacks)->default_value(c.max_callbacks),
         "event registrations per client");
    flag("max-client-output", po::value(&v.max_client_output)->default_value("32M"),
         "replies and events a client has not read before it is dropped");
    flag("partial-packet-timeout", po::value(&v.partial_packet_timeout)->default_value(30),
         "seconds a packet or TLS handshake may stay unfinished");
    flag("idle-timeout", po::value(&v.idle_timeout)->default_value(600),
         "seconds a client with nothing pending may stay silent (0: forever)");
    flag("max-definitions", po::value(&v.max_definitions)->default_value(q.max_definitions),
         "persistent definitions in all");
    flag("user-max-domains", po::value(&v.user_max_domains)->default_value(q.user_domains),
         "domains (defined or transient) per owner");
    flag("user-max-running", po::value(&v.user_max_running)->default_value(q.user_running),
         "running domains per owner");
    flag("user-max-memory", po::value(&v.user_max_memory)->default_value("0"),
         "guest memory per owner, in MiB or with K/M/G/T (0: half the host budget)");
    flag("user-max-vcpus", po::value(&v.user_max_vcpus)->default_value(0),
         "vCPUs of running domains per owner (0: 4 x the host's CPUs)");
    flag("host-memory-budget", po::value(&v.host_memory_budget)->default_value("0"),
         "guest memory of all running domains, in MiB or with a suffix (0: RAM - 512 MiB)");
    flag("max-domain-vcpus", po::value(&v.max_domain_vcpus)->default_value(0),
         "vCPUs of one domain (0: the host's CPUs)");
    flag("console-log-max-size", po::value(&v.console_log_max_size)->default_value("2M"),
         "a guest's console.log is rotated past this size");
    flag("console-log-backups", po::value(&v.console_log_backups)->default_value(3), "rotated console logs kept");
}

namespace {

std::expected<std::uint64_t, std::string> size_of(const char* name, const std::string& text, std::uint64_t unit)
{
    auto n = parse_size(text, unit);
    if (!n) return std::unexpected(std::string("--") + name + ": " + n.error());
    return n;
}

}  // namespace

std::expected<void, std::string> apply_limits(const LimitValues& v, Options& o)
{
    ClientLimits& c = o.server.limits;
    for (auto [name, value] :
         {std::pair{"max-clients", v.max_clients}, std::pair{"max-client-requests", v.max_client_requests},
          std::pair{"max-clients-per-user", v.max_clients_per_user}})
        if (value == 0) return std::unexpected(std::string("--") + name + " must be at least 1");
    c.max_clients = v.max_clients;
    c.max_clients_per_user = v.max_clients_per_user;
    c.max_anonymous_clients = v.max_anonymous_clients;
    c.max_requests = v.max_client_requests;
    c.max_streams = v.max_client_streams;
    c.max_callbacks = v.max_client_callbacks;
    auto out = size_of("max-client-output", v.max_client_output, 1);
    if (!out) return std::unexpected(out.error());
    if (*out < (1u << 20)) return std::unexpected("--max-client-output must be at least 1M");
    c.max_output = *out;
    c.output_pause = std::min<std::size_t>(c.output_pause, *out / 2);
    if (v.partial_packet_timeout == 0) return std::unexpected("--partial-packet-timeout must be at least 1 second");
    c.partial_timeout = std::chrono::seconds(v.partial_packet_timeout);
    c.idle_timeout = std::chrono::seconds(v.idle_timeout);

    Quotas& q = o.quotas;
    q.max_definitions = v.max_definitions;
    q.user_domains = v.user_max_domains;
    q.user_running = v.user_max_running;
    auto um = size_of("user-max-memory", v.user_max_memory, 1u << 20);
    auto hm = size_of("host-memory-budget", v.host_memory_budget, 1u << 20);
    if (!um) return std::unexpected(um.error());
    if (!hm) return std::unexpected(hm.error());
    q.user_memory_mib = *um >> 20;
    q.host_memory_mib = *hm >> 20;
    q.user_vcpus = v.user_max_vcpus;
    q.domain_vcpus = v.max_domain_vcpus;
    auto log = size_of("console-log-max-size", v.console_log_max_size, 1);
    if (!log) return std::unexpected(log.error());
    if (*log < 4096) return std::unexpected("--console-log-max-size must be at least 4K");
    o.console_log_max = *log;
    o.console_log_backups = v.console_log_backups;
    return {};
}

}  // namespace fleet::router
