// fleet shell — `printf FORMAT [ARG...]` (POSIX): %s %b %c %d %i %u %o %x %X
// %%, flags, width and precision (also *); the format is reused while
// arguments remain.
#include "builtins.hpp"

#include <cstdio>
#include <cstdlib>

namespace fleet::shell {
namespace {

template <class T>
std::string cformat(const std::string& spec, T value)
{
    int n = std::snprintf(nullptr, 0, spec.c_str(), value);
    if (n <= 0) return {};
    std::string s(static_cast<std::size_t>(n), '\0');
    std::snprintf(s.data(), s.size() + 1, spec.c_str(), value);
    return s;
}

struct Printer {
    Shell& sh;
    Args& args;
    std::size_t next = 2;
    int status = 0;
    std::string out;
    bool stop = false;

    std::string arg() { return next < args.size() ? args[next++] : std::string(); }

    long long number(const std::string& s)
    {
        if (s.empty()) return 0;
        if ((s[0] == '\'' || s[0] == '"') && s.size() > 1) return static_cast<unsigned char>(s[1]);
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 0);
        if (*end != '\0') {
            sh.error(args[0] + ": " + s + ": invalid number");
            status = 1;
        }
        return v;
    }

    // One conversion starting at fmt[i] == '%'; returns the index after it.
    std::size_t conversion(const std::string& fmt, std::size_t i)
    {
        std::string spec = "%";
        ++i;
        while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) spec += fmt[i++];
        for (int part = 0; part < 2; ++part) {
            if (part == 1) {
                if (i >= fmt.size() || fmt[i] != '.') break;
                spec += fmt[i++];
            }
            if (i < fmt.size() && fmt[i] == '*') {
                spec += std::to_string(number(arg()));
                ++i;
            }
            while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') spec += fmt[i++];
        }
        if (i >= fmt.size()) {
            out += spec;
            return i;
        }
        char c = fmt[i++];
        format(spec, c);
        return i;
    }

    void format(std::string spec, char c)
    {
        std::string buf;
        switch (c) {
            case '%':
                out += '%';
                return;
            case 's':
                spec += 's';
                buf = cformat(spec, arg().c_str());
                break;
            case 'b': {
                std::string s = backslash_escapes(arg(), stop, true);
                spec += 's';
                buf = cformat(spec, s.c_str());
                break;
            }
            case 'c': {
                std::string s = arg();
                spec += 'c';
                if (s.empty()) return;
                buf = cformat(spec, static_cast<int>(s[0]));
                break;
            }
            case 'd':
            case 'i':
                spec += "lld";
                buf = cformat(spec, number(arg()));
                break;
            case 'u':
            case 'o':
            case 'x':
            case 'X':
                spec += "ll";
                spec += c;
                buf = cformat(spec, static_cast<unsigned long long>(number(arg())));
                break;
            default:
                sh.error(args[0] + ": %" + std::string(1, c) + ": invalid directive");
                status = 1;
                stop = true;
                return;
        }
        out += buf;
    }

    void run_format(const std::string& fmt)
    {
        for (std::size_t i = 0; i < fmt.size() && !stop;) {
            if (fmt[i] == '%') {
                i = conversion(fmt, i);
            } else if (fmt[i] == '\\') {
                std::size_t end = i + 1;
                if (end < fmt.size() && fmt[end] >= '0' && fmt[end] <= '7') {
                    while (end < fmt.size() && end < i + 4 && fmt[end] >= '0' && fmt[end] <= '7') ++end;
                } else {
                    end = std::min(fmt.size(), i + 2);
                }
                out += backslash_escapes(std::string_view(fmt).substr(i, end - i), stop, false);
                i = end;
            } else {
                out += fmt[i++];
            }
        }
    }
};

}  // namespace

int builtin_printf(Shell& sh, Args& args)
{
    if (args.size() < 2) return usage_error(sh, args, "usage: printf FORMAT [ARG...]");
    Printer p{sh, args, 2, 0, {}, false};
    do {
        std::size_t before = p.next;
        p.run_format(args[1]);
        if (p.next == before) break;  // the format takes no arguments
    } while (p.next < args.size() && !p.stop);
    out(p.out);
    return p.status;
}

}  // namespace fleet::shell
