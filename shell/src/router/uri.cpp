// fleet shell — router URIs (router_uri.hpp).
#include <fleet/shell/router_uri.hpp>

#include <cctype>
#include <charconv>
#include <optional>

namespace fleet::shell {

namespace {

constexpr std::size_t max_uri = 4096;

std::unexpected<Error> bad(std::string_view text, const std::string& why)
{
    std::string message = "bad router URI '" + std::string(text.substr(0, 200)) + "': " + why;
    for (char& c : message)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // one line, whatever came in
    return fail(message);
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX decoded; nullopt for a bad escape or a NUL.
std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<RouterTransport> transport_named(std::string_view name)
{
    if (name.empty() || name == "unix") return RouterTransport::unix_socket;
    if (name == "tcp") return RouterTransport::tcp;
    if (name == "tls") return RouterTransport::tls;
    return std::nullopt;
}

// "host", "host:port", "[v6]", "[v6]:port" into u.
Result<> parse_authority(std::string_view text, std::string_view auth, RouterUri& u)
{
    if (auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);  // a user: unused
    std::string_view port;
    if (auth.starts_with('[')) {
        auto close = auth.find(']');
        if (close == std::string_view::npos) return bad(text, "an IPv6 address without its ']'");
        u.host = std::string(auth.substr(1, close - 1));
        auto rest = auth.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return bad(text, "text after the IPv6 address");
        if (!rest.empty()) port = rest.substr(1);
    } else if (auto colon = auth.find(':'); colon != std::string_view::npos) {
        u.host = std::string(auth.substr(0, colon));
        port = auth.substr(colon + 1);
    } else {
        u.host = std::string(auth);
    }
    for (char c : u.host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
            return bad(text, "a host name with a character it cannot hold");
    if (!port.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
            return bad(text, "the port must be a number from 1 to 65535");
        u.port = static_cast<std::uint16_t>(value);
    }
    return {};
}

// One "name=value" of the query into u.
Result<> parse_parameter(std::string_view text, std::string_view item, RouterUri& u)
{
    auto eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
    if (!value) return bad(text, "a bad %-escape in parameter '" + std::string(key) + "'");
    if (key == "socket") {
        if (value->empty() || (*value)[0] != '/') return bad(text, "socket= needs an absolute path");
        u.socket = *value;
    } else if (key == "pkipath") {
        u.pkipath = *value;
    } else if (key == "no_verify") {
        if (*value != "0" && *value != "1") return bad(text, "no_verify= takes 0 or 1");
        u.no_verify = *value == "1";
    } else if (key == "no_tty" || key == "mode") {
        // virsh's: meaningless to fsh, accepted so a virsh URI works as is.
    } else {
        return bad(text, "unknown parameter '" + std::string(key).substr(0, 40) + "'");
    }
    return {};
}

Result<> check_combination(std::string_view text, const RouterUri& u)
{
    if (u.transport == RouterTransport::unix_socket && !u.host.empty())
        return bad(text, "a unix socket URI names no host (qemu+unix:///system?socket=PATH)");
    if (u.transport != RouterTransport::unix_socket && u.host.empty())
        return bad(text, "a network URI needs a host (qemu+tcp://HOST:PORT/system)");
    if (u.transport != RouterTransport::unix_socket && !u.socket.empty())
        return bad(text, "socket= is for qemu+unix:// only");
    if (u.transport != RouterTransport::tls && (!u.pkipath.empty() || u.no_verify))
        return bad(text, "pkipath= and no_verify= are for qemu+tls:// only");
    return {};
}

}  // namespace

std::uint16_t RouterUri::effective_port() const
{
    if (port != 0) return port;
    return transport == RouterTransport::tls ? 16514 : 16509;
}

std::string RouterUri::open_name() const
{
    return driver + "://" + path;
}

Result<RouterUri> parse_router_uri(std::string_view text)
{
    if (text.empty()) return bad(text, "empty");
    if (text.size() > max_uri) return bad(text, "longer than " + std::to_string(max_uri) + " bytes");
    if (text.find('\0') != std::string_view::npos) return bad(text, "a NUL byte");
    auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return bad(text, "not DRIVER[+TRANSPORT]://[HOST[:PORT]]/PATH");
    std::string_view scheme = text.substr(0, scheme_end);
    RouterUri u;
    auto plus = scheme.find('+');
    std::string_view driver = scheme.substr(0, plus);
    if (driver != "qemu" && driver != "fleet") return bad(text, "the driver must be qemu (or fleet)");
    u.driver = "qemu";
    auto transport = transport_named(plus == std::string_view::npos ? "" : scheme.substr(plus + 1));
    if (!transport) return bad(text, "the transport must be unix, tcp or tls");
    u.transport = *transport;
    std::string_view rest = text.substr(scheme_end + 3);
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    auto slash = rest.find('/');
    if (auto ok = parse_authority(text, rest.substr(0, slash), u); !ok) return std::unexpected(ok.error());
    u.path = slash == std::string_view::npos ? "/system" : std::string(rest.substr(slash));
    if (u.path != "/system" && u.path != "/session") return bad(text, "the path must be /system (or /session)");
    while (!query.empty()) {
        auto amp = query.find('&');
        if (auto ok = parse_parameter(text, query.substr(0, amp), u); !ok) return std::unexpected(ok.error());
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    }
    if (auto ok = check_combination(text, u); !ok) return std::unexpected(ok.error());
    return u;
}

std::string percent_encode(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        auto b = static_cast<unsigned char>(c);
        if (std::isalnum(b) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += c;
        } else {
            out += '%';
            out += hex[b >> 4];
            out += hex[b & 15];
        }
    }
    return out;
}

std::string format_router_uri(const RouterUri& u)
{
    static constexpr const char* names[] = {"unix", "tcp", "tls"};
    std::string s = u.driver + "+" + names[static_cast<int>(u.transport)] + "://";
    if (u.host.find(':') != std::string::npos)
        s += "[" + u.host + "]";
    else
        s += u.host;
    if (u.port != 0) s += ":" + std::to_string(u.port);
    s += u.path;
    std::string query;
    auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
    if (!u.socket.empty()) add("socket=" + percent_encode(u.socket));
    if (!u.pkipath.empty()) add("pkipath=" + percent_encode(u.pkipath));
    if (u.no_verify) add("no_verify=1");
    return s + query;
}

}  // namespace fleet::shell
