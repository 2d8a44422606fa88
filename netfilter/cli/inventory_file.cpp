// fleet-net — reading the inventory file.
#include "inventory_file.hpp"

#include <fleet/base/fd.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace fleet::netfilter::cli {

namespace {

std::vector<std::string_view> words(std::string_view line)
{
    std::vector<std::string_view> out;
    while (true) {
        const auto start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos || line[start] == '#') return out;
        line.remove_prefix(start);
        const auto end = line.find_first_of(" \t\r");
        out.push_back(line.substr(0, end));
        if (end == std::string_view::npos) return out;
        line.remove_prefix(end);
    }
}

Result<> set_field(Endpoint& e, std::string_view key, std::string_view value)
{
    if (key == "port") {
        e.port = std::string(value);
    } else if (key == "mac") {
        auto m = parse_mac(value);
        if (!m) return std::unexpected(m.error());
        e.mac = *m;
    } else if (key == "ipv4") {
        auto a = parse_ipv4(value);
        if (!a) return std::unexpected(a.error());
        e.ipv4 = *a;
    } else if (key == "ipv6") {
        auto a = parse_ipv6(value);
        if (!a) return std::unexpected(a.error());
        e.ipv6 = *a;
    } else if (key == "groups") {
        while (!value.empty()) {
            const auto comma = value.find(',');
            e.groups.emplace_back(value.substr(0, comma));
            value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
        }
    } else if (key == "outbound") {
        if (value != "yes" && value != "no") return fail("outbound is yes or no");
        e.outbound = value == "yes";
    } else {
        return fail("unknown key '" + std::string(key) + "' (port, mac, ipv4, ipv6, groups, outbound)");
    }
    return {};
}

}  // namespace

Result<Inventory> parse_inventory(std::string_view text, std::string_view source)
{
    Inventory out;
    int number = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        ++number;
        const auto w = words(line);
        if (w.empty()) continue;
        const std::string where = std::string(source) + ":" + std::to_string(number) + ": ";
        Endpoint e;
        e.name = std::string(w[0]);
        for (std::size_t i = 1; i < w.size(); ++i) {
            const auto eq = w[i].find('=');
            if (eq == std::string_view::npos)
                return fail(where + "expected key=value, found '" + std::string(w[i]) + "'");
            if (auto r = set_field(e, w[i].substr(0, eq), w[i].substr(eq + 1)); !r)
                return fail(where + r.error().message);
        }
        if (auto r = check_join(out, e); !r) return fail(where + r.error().message);
        out.push_back(std::move(e));
    }
    return out;
}

Result<std::string> read_text(const std::string& path, std::size_t limit)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open " + path);
    std::string text;
    char buf[65536];
    while (true) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) return fail_errno("cannot read " + path);
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > limit) return fail(path + " is larger than " + std::to_string(limit >> 20) + " MiB");
    }
}

Result<Inventory> read_inventory(const std::string& path)
{
    auto text = read_text(path, 16 << 20);
    if (!text) return std::unexpected(text.error());
    return parse_inventory(*text, path);
}

}  // namespace fleet::netfilter::cli
