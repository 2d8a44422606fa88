// fleet shell — `routers` (the fleet-routers fsh can find) and `router
// [NAME|URI]` (the one in use, or switch to another): router_session.hpp.
#include "builtins.hpp"

#include <fleet/shell/router_session.hpp>

#include <algorithm>

namespace fleet::shell {

std::string format_columns(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string text;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        text += line + "\n";
    }
    return text;
}

namespace {

int no_support(Shell& sh, const Args& args)
{
    sh.error(args[0] + ": no router support in this shell");
    return 1;
}

}  // namespace

int builtin_routers(Shell& sh, Args& args)
{
    if (args.size() > 1) return usage_error(sh, args, "usage: routers");
    RouterSession* session = sh.settings.routers;
    if (session == nullptr) return no_support(sh, args);
    std::vector<std::string> notes;
    auto found = session->discover(notes);
    if (found.empty()) {
        std::string why;
        for (const auto& n : notes) why += "; " + n;
        sh.error("routers: " + session->none_message() + why);
        return 1;
    }
    std::vector<std::vector<std::string>> rows{{"", "NAME", "URI", "FROM"}};
    for (const auto& e : found) {
        bool in_use = session->current() && session->current()->uri == e.uri;
        rows.push_back({in_use ? "*" : " ", e.name, e.uri, e.source});
    }
    out(format_columns(rows));
    return 0;
}

int builtin_router(Shell& sh, Args& args)
{
    if (args.size() > 2) return usage_error(sh, args, "usage: router [NAME|URI]");
    RouterSession* session = sh.settings.routers;
    if (session == nullptr) return no_support(sh, args);
    if (args.size() == 2) {
        if (auto ok = session->use(args[1]); !ok) {
            sh.error("router: " + ok.error().message);
            return 1;
        }
        return 0;
    }
    auto client = session->client();
    if (!client) {
        sh.error("router: " + client.error().message);
        return 1;
    }
    const RouterEntry& e = *session->current();
    out(e.name + "  " + e.uri + "  (" + e.source + (client.value()->read_only() ? ", read-only" : "") + ")\n");
    return 0;
}

}  // namespace fleet::shell
