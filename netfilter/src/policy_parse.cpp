// fleet netfilter — parse_policy: text in, a Policy or the first error out.
#include <fleet/netfilter/policy.hpp>

#include "policy_lexer.hpp"

#include <charconv>

namespace fleet::netfilter {

namespace {

using detail::describe;
using detail::Lexer;
using detail::Token;
using Kind = Token::Kind;

bool valid_name(std::string_view name)
{
    if (name.empty() || name.size() > max_name_bytes || name[0] == '-' || name[0] == '.') return false;
    return true;  // the lexer only makes words of [A-Za-z0-9_.-]
}

bool at_end(const Token& t)
{
    return t.kind == Kind::newline || t.kind == Kind::end;
}

class Parser {
public:
    Parser(std::string_view text, std::string_view source) : lexer_(text), source_(source) { advance(); }

    Result<Policy> run()
    {
        Policy policy;
        policy.source = std::string(source_);
        while (token_.kind != Kind::end) {
            if (token_.kind == Kind::newline) {
                advance();
                continue;
            }
            if (auto r = statement(policy); !r) return std::unexpected(r.error());
            if (!at_end(token_)) return error("expected the end of the line, found " + describe(token_));
        }
        return policy;
    }

private:
    Lexer lexer_;
    std::string_view source_;
    Token token_;

    void advance() { token_ = lexer_.next(); }

    std::unexpected<Error> error_at(const Token& t, const std::string& reason) const
    {
        return fail(std::string(source_) + ":" + std::to_string(t.line) + ":" + std::to_string(t.column) + ": " +
                    reason);
    }
    std::unexpected<Error> error(const std::string& reason) const { return error_at(token_, reason); }

    bool is_word(std::string_view w) const { return token_.kind == Kind::word && token_.text == w; }

    Result<> statement(Policy& policy)
    {
        if (is_word("group")) return group(policy);
        if (is_word("allow") || is_word("deny")) return rule(policy);
        return error("expected 'allow', 'deny' or 'group', found " + describe(token_));
    }

    Result<std::string> name(const char* what)
    {
        if (token_.kind != Kind::word) return error("expected " + std::string(what) + ", found " + describe(token_));
        if (!valid_name(token_.text))
            return error("'" + std::string(token_.text.substr(0, 80)) + "' is not a valid name (letters, digits, " +
                         "'_', '.', '-', not first '-' or '.', at most 64 bytes)");
        std::string out(token_.text);
        advance();
        return out;
    }

    Result<> group(Policy& policy)
    {
        const int line = token_.line;
        advance();
        const Token at = token_;
        auto group_name = name("a group name");
        if (!group_name) return std::unexpected(group_name.error());
        for (const Group& g : policy.groups)
            if (g.name == *group_name)
                return error_at(at, "group '" + g.name + "' is already defined on line " + std::to_string(g.line));
        if (token_.kind != Kind::equals) return error("expected '=' after the group name, found " + describe(token_));
        advance();
        Group g{*group_name, {}, line};
        while (!at_end(token_)) {
            if (token_.kind == Kind::comma && !g.members.empty()) {
                advance();
                if (at_end(token_)) return error("expected a VM name after ',', found " + describe(token_));
            }
            if (is_word("vm")) {  // vm:NAME
                advance();
                if (token_.kind != Kind::colon) return error("expected ':' after 'vm', found " + describe(token_));
                advance();
            }
            auto member = name("a VM name");
            if (!member) return std::unexpected(member.error());
            g.members.push_back(*member);
        }
        if (g.members.empty()) return error("group '" + g.name + "' needs at least one member");
        policy.groups.push_back(std::move(g));
        return {};
    }

    Result<Subject> subject(bool source)
    {
        const Token at = token_;
        if (token_.kind == Kind::star) {
            advance();
            return Subject{Subject::Kind::any, {}};
        }
        if (token_.kind != Kind::word)
            return error(std::string("expected a ") + (source ? "source" : "destination") + " (a VM name, " +
                         "group:NAME, *" + (source ? "" : ", outside, host") + "), found " + describe(token_));
        const std::string_view word = token_.text;
        if (word == "outside" || word == "host") {
            if (source)
                return error("'" + std::string(word) + "' can only be a destination: nothing from " +
                             (word == "host" ? "the host" : "outside") + " is filtered by the policy");
            advance();
            return Subject{word == "host" ? Subject::Kind::host : Subject::Kind::outside, {}};
        }
        advance();
        if (token_.kind == Kind::colon && (word == "group" || word == "vm")) {
            advance();
            auto n = name(word == "group" ? "a group name" : "a VM name");
            if (!n) return std::unexpected(n.error());
            return Subject{word == "group" ? Subject::Kind::group : Subject::Kind::vm, *n};
        }
        if (token_.kind == Kind::colon)
            return error_at(at, "unknown prefix '" + std::string(word) + ":' (group: or vm:)");
        if (!valid_name(word)) return error_at(at, "'" + std::string(word.substr(0, 80)) + "' is not a valid name");
        return Subject{Subject::Kind::vm, std::string(word)};
    }

    Result<std::vector<Subject>> subjects(bool source)
    {
        std::vector<Subject> out;
        while (true) {
            auto s = subject(source);
            if (!s) return std::unexpected(s.error());
            out.push_back(std::move(*s));
            if (token_.kind != Kind::comma) return out;
            advance();
        }
    }

    Result<PortRange> port_range()
    {
        if (token_.kind != Kind::word)
            return error("expected a port or a range (80, 8000-8080), found " + describe(token_));
        const std::string_view text = token_.text;
        const auto dash = text.find('-');
        auto number = [&](std::string_view digits) -> Result<std::uint16_t> {
            unsigned value = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value < 1 ||
                value > 65535)
                return error("'" + std::string(text.substr(0, 80)) + "' is not a port (1-65535) or a range of them");
            return static_cast<std::uint16_t>(value);
        };
        auto first = number(text.substr(0, dash));
        if (!first) return std::unexpected(first.error());
        auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
        if (!last) return std::unexpected(last.error());
        if (*last < *first) return error("the range '" + std::string(text) + "' runs backwards");
        advance();
        return PortRange{*first, *last};
    }

    Result<Service> service()
    {
        Service s;
        if (is_word("tcp"))
            s.protocol = Protocol::tcp;
        else if (is_word("udp"))
            s.protocol = Protocol::udp;
        else if (is_word("icmp"))
            s.protocol = Protocol::icmp;
        else
            return error("expected a service (tcp, udp, icmp, tcp/PORTS, udp/PORTS), found " + describe(token_));
        advance();
        if (token_.kind != Kind::slash) return s;
        if (s.protocol == Protocol::icmp) return error("icmp has no ports");
        advance();
        while (true) {
            auto range = port_range();
            if (!range) return std::unexpected(range.error());
            s.ports.push_back(*range);
            if (token_.kind != Kind::comma) return s;
            advance();
        }
    }

    Result<> rule(Policy& policy)
    {
        Rule r;
        r.line = token_.line;
        r.action = is_word("allow") ? Action::allow : Action::deny;
        advance();
        if (token_.kind == Kind::star) {  // "deny *": every VM to everything
            Lexer peek = lexer_;
            if (at_end(peek.next())) {
                advance();
                r.from = r.to = {Subject{Subject::Kind::any, {}}};
                policy.rules.push_back(std::move(r));
                return {};
            }
        }
        auto from = subjects(true);
        if (!from) return std::unexpected(from.error());
        if (token_.kind != Kind::arrow) return error("expected '->' after the source, found " + describe(token_));
        advance();
        auto to = subjects(false);
        if (!to) return std::unexpected(to.error());
        r.from = std::move(*from);
        r.to = std::move(*to);
        while (!at_end(token_)) {
            auto s = service();
            if (!s) return std::unexpected(s.error());
            r.services.push_back(std::move(*s));
        }
        policy.rules.push_back(std::move(r));
        return {};
    }
};

}  // namespace

Result<Policy> parse_policy(std::string_view text, std::string_view source)
{
    if (text.size() > max_policy_bytes)
        return fail(std::string(source) + ": the file is larger than " + std::to_string(max_policy_bytes >> 20) +
                    " MiB");
    return Parser(text, source.empty() ? "policy" : source).run();
}

bool listed_in_group(const Policy& policy, std::string_view group, std::string_view name)
{
    for (const Group& g : policy.groups) {
        if (g.name != group) continue;
        for (const std::string& m : g.members)
            if (m == name) return true;
    }
    return false;
}

}  // namespace fleet::netfilter
