// fleet shell — `umask [-S] [MASK]`: the mask of the files fsh's own
// redirections create (a VM's files are the guest's). MASK is octal (027)
// or symbolic, the permissions let through (u=rwx,g=rx,o=; g+w; a-x).
#include "builtins.hpp"

#include <sys/stat.h>

namespace fleet::shell {
namespace {

mode_t current_mask()
{
    mode_t m = ::umask(0);
    ::umask(m);
    return m;
}

std::string symbolic(mode_t mask)
{
    mode_t allowed = ~mask & 0777;
    std::string s;
    for (auto [who, shift] : {std::pair{'u', 6}, {'g', 3}, {'o', 0}}) {
        if (!s.empty()) s += ',';
        s += who;
        s += '=';
        if (allowed & (04 << shift)) s += 'r';
        if (allowed & (02 << shift)) s += 'w';
        if (allowed & (01 << shift)) s += 'x';
    }
    return s;
}

// The mask a symbolic mode makes of `mask`; nullopt: not one.
std::optional<mode_t> apply_symbolic(const std::string& text, mode_t mask)
{
    mode_t allowed = ~mask & 0777;
    std::size_t i = 0;
    while (i <= text.size()) {
        mode_t who = 0;
        for (; i < text.size() && std::string_view("ugoa").find(text[i]) != std::string_view::npos; ++i)
            who |= text[i] == 'u' ? 0700 : text[i] == 'g' ? 0070 : text[i] == 'o' ? 0007 : 0777;
        if (who == 0) who = 0777;
        if (i >= text.size() || std::string_view("=+-").find(text[i]) == std::string_view::npos) return std::nullopt;
        while (i < text.size() && std::string_view("=+-").find(text[i]) != std::string_view::npos) {
            char op = text[i++];
            mode_t perms = 0;
            for (; i < text.size() && std::string_view("rwx").find(text[i]) != std::string_view::npos; ++i)
                perms |= text[i] == 'r' ? 0444 : text[i] == 'w' ? 0222 : 0111;
            perms &= who;
            if (op == '=') allowed = (allowed & ~who) | perms;
            if (op == '+') allowed |= perms;
            if (op == '-') allowed &= ~perms;
        }
        if (i == text.size()) break;
        if (text[i] != ',') return std::nullopt;
        ++i;
    }
    return static_cast<mode_t>(~allowed & 0777);
}

}  // namespace

int builtin_umask(Shell& sh, Args& args)
{
    std::size_t i = 1;
    bool show_symbolic = false;
    if (i < args.size() && args[i] == "-S") {
        show_symbolic = true;
        ++i;
    }
    if (i >= args.size()) {
        mode_t m = current_mask();
        if (show_symbolic) {
            out(symbolic(m) + "\n");
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
            out(std::string(buf) + "\n");
        }
        return 0;
    }
    const std::string& text = args[i];
    if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
        mode_t m = 0;
        for (char c : text) {
            if (c < '0' || c > '7' || m > 0777) return usage_error(sh, args, "illegal number: " + text);
            m = static_cast<mode_t>(m * 8 + static_cast<mode_t>(c - '0'));
        }
        if (m > 07777) return usage_error(sh, args, "illegal number: " + text);
        ::umask(m & 0777);
        return 0;
    }
    auto m = apply_symbolic(text, current_mask());
    if (!m) return usage_error(sh, args, "illegal mode: " + text);
    ::umask(*m);
    return 0;
}

}  // namespace fleet::shell
