// fleet-router — principals (principal.hpp).
#include <fleet/router/principal.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace fleet::router {

Principal Principal::router()
{
    return local(::geteuid());
}

bool Principal::administrator() const
{
    return kind == Kind::local && (uid == 0 || uid == ::geteuid());
}

std::string Principal::describe() const
{
    switch (kind) {
        case Kind::local: {
            std::string s = "uid " + std::to_string(uid);
            passwd pw{}, *found = nullptr;
            char buf[1024];
            if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
                s += std::string(" (") + pw.pw_name + ")";
            return s;
        }
        case Kind::remote:
            return "remote '" + dn + "'";
        case Kind::anonymous:
            return "an anonymous client";
        case Kind::guest:
            return "domain '" + dn + "' (its hypervisor channel)";
    }
    return "?";
}

std::string Principal::record() const
{
    switch (kind) {
        case Kind::local:
            return "uid " + std::to_string(uid);
        case Kind::remote:
            return "remote " + dn;
        case Kind::anonymous:
            return "anonymous";
        case Kind::guest:
            return "guest " + dn;
    }
    return "?";
}

std::optional<Principal> Principal::from_record(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n')) text.remove_suffix(1);
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        return std::nullopt;
    if (text.starts_with("uid ")) {
        std::string_view n = text.substr(4);
        uid_t uid = 0;
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), uid);
        if (ec != std::errc() || end != n.data() + n.size() || n.empty()) return std::nullopt;
        return local(uid);
    }
    if (text.starts_with("remote ") && text.size() > 7) return remote(std::string(text.substr(7)));
    if (text.starts_with("guest ") && text.size() > 6) return guest(std::string(text.substr(6)));
    return std::nullopt;
}

}  // namespace fleet::router
