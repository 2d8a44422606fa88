// fleet shell — finding routers and the one in use (router_session.hpp).
#include <fleet/shell/router_session.hpp>

#include <fleet/base/socket.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

namespace fleet::shell {

namespace {

std::string host_of(const std::string& uri)
{
    auto parsed = parse_router_uri(uri);
    if (!parsed) return uri;
    if (parsed->transport == RouterTransport::unix_socket) return parsed->socket.empty() ? "local" : parsed->socket;
    return parsed->host;
}

std::optional<std::string> txt_value(const std::vector<std::string>& txt, const std::string& key)
{
    for (const auto& t : txt)
        if (t.starts_with(key + "=")) return t.substr(key.size() + 1);
    return std::nullopt;
}

}  // namespace

std::optional<RouterEntry> entry_from_announcement(const std::string& name, const std::string& address, int port,
                                                   const std::vector<std::string>& txt)
{
    if (txt_value(txt, "impl") != "fleet" || port <= 0 || port > 65535) return std::nullopt;
    RouterUri u;
    std::string transport = txt_value(txt, "transport").value_or("tls");
    if (transport == "tcp")
        u.transport = RouterTransport::tcp;
    else if (transport == "tls")
        u.transport = RouterTransport::tls;
    else
        return std::nullopt;  // a transport this fsh does not know
    u.host = address;
    u.port = static_cast<std::uint16_t>(port);
    std::string path = txt_value(txt, "path").value_or("/system");
    u.path = path == "/session" ? path : "/system";
    auto text = format_router_uri(u);
    if (!parse_router_uri(text)) return std::nullopt;  // an address no URI can hold
    return RouterEntry{name, text, "mDNS"};
}

std::optional<RouterEntry> local_router(const std::string& runtime_dir)
{
    std::ifstream in(runtime_dir + "/router.json");
    if (!in) return std::nullopt;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    for (const char* key : {"socket", "socket_ro"}) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) continue;
        std::string path = it->get<std::string>();
        // A router that died leaves router.json; its socket refuses.
        if (path.empty() || path[0] != '/' || !connect_unix(path, "fleet-router")) continue;
        RouterUri u;
        u.socket = path;
        return RouterEntry{"local", format_router_uri(u), "runtime folder " + runtime_dir};
    }
    return std::nullopt;
}

std::optional<LocalRouter> connect_local_router(const std::string& runtime_dir, std::chrono::milliseconds timeout)
{
    auto local = local_router(runtime_dir);
    if (!local) return std::nullopt;
    auto uri = parse_router_uri(local->uri);
    if (!uri) return std::nullopt;
    auto client = RouterClient::connect(*uri, runtime_dir, timeout);
    if (!client) return std::nullopt;
    return LocalRouter{*uri, std::move(*client)};
}

std::vector<RouterEntry> RouterSession::discover(std::vector<std::string>& notes) const
{
    std::vector<RouterEntry> found;
    if (config_.connect_uri) found.push_back({host_of(*config_.connect_uri), *config_.connect_uri, "--connect"});
    if (config_.env_uri) found.push_back({host_of(*config_.env_uri), *config_.env_uri, "FLEET_URI"});
    if (auto local = local_router(config_.runtime_dir)) found.push_back(*local);
    if (config_.mdns) {
        auto announced = browse_fleet_routers(config_.browse);
        if (announced)
            found.insert(found.end(), announced->begin(), announced->end());
        else
            notes.push_back(announced.error().message);
    }
    return found;
}

Result<> RouterSession::connect_to(const RouterEntry& entry)
{
    auto uri = parse_router_uri(entry.uri);
    if (!uri) return std::unexpected(uri.error());
    auto c = RouterClient::connect(*uri, config_.runtime_dir, config_.timeout);
    if (!c) return fail(entry.uri + ": " + c.error().what());
    client_ = std::move(*c);
    current_ = entry;
    return {};
}

Result<RouterClient*> RouterSession::client()
{
    if (client_) return client_.get();
    if (current_) {
        RouterEntry again = *current_;  // chosen before: connect to it again
        if (auto ok = connect_to(again); !ok) return std::unexpected(ok.error());
        return client_.get();
    }
    const std::optional<std::string>& explicit_uri = config_.connect_uri ? config_.connect_uri : config_.env_uri;
    if (explicit_uri) {
        RouterEntry e{host_of(*explicit_uri), *explicit_uri, config_.connect_uri ? "--connect" : "FLEET_URI"};
        if (auto ok = connect_to(e); !ok) return std::unexpected(ok.error());
        return client_.get();
    }
    std::vector<std::string> notes;
    for (const auto& e : discover(notes))
        if (connect_to(e)) return client_.get();
    return fail(none_message());
}

Result<> RouterSession::use(const std::string& name_or_uri)
{
    std::optional<RouterEntry> chosen;
    if (name_or_uri.find("://") != std::string::npos) {
        chosen = RouterEntry{host_of(name_or_uri), name_or_uri, "router"};
    } else {
        std::vector<std::string> notes;
        for (const auto& e : discover(notes))
            if (e.name == name_or_uri && !chosen) chosen = e;
        if (!chosen) return fail("no router named '" + name_or_uri + "' (`routers` lists them)");
    }
    auto old_client = std::move(client_);
    auto old_current = current_;
    if (auto ok = connect_to(*chosen); !ok) {
        client_ = std::move(old_client);
        current_ = old_current;
        return ok;
    }
    return {};
}

void RouterSession::drop()
{
    client_.reset();
}

std::string RouterSession::none_message() const
{
    return "no fleet-router found (none answers in " + config_.runtime_dir +
           ", none announced over mDNS); start one (fleet-router) or point fsh at one: "
           "FLEET_URI=qemu+unix:///system?socket=PATH, fsh --connect URI, or `router URI`";
}

}  // namespace fleet::shell
