// fleet shell — `echo [-n] [ARG...]`, as dash's: backslash escapes are
// always on (XSI), -n is the only option. The differential tests hold fsh
// to dash, so scripts behave alike under both; printf is the portable way.
#include "builtins.hpp"

namespace fleet::shell {

std::string backslash_escapes(std::string_view s, bool& stop, bool octal_needs_zero)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 'c':
                stop = true;
                return out;
            case 'e':
                out += '\x1b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'v':
                out += '\v';
                break;
            case '\\':
                out += '\\';
                break;
            default:
                if (c >= '0' && c <= '7' && (c == '0' || !octal_needs_zero)) {
                    std::size_t start = c == '0' && octal_needs_zero ? i + 1 : i;
                    int v = 0, digits = 0;
                    std::size_t k = start;
                    while (k < s.size() && digits < 3 && s[k] >= '0' && s[k] <= '7') {
                        v = v * 8 + (s[k++] - '0');
                        ++digits;
                    }
                    out += static_cast<char>(v);
                    i = k - 1;
                } else {
                    out += '\\';
                    out += c;
                }
        }
    }
    return out;
}

int builtin_echo(Shell&, Args& args)
{
    std::size_t i = 1;
    bool newline = true;
    if (i < args.size() && args[i] == "-n") {
        newline = false;
        ++i;
    }
    std::string text;
    bool stop = false;
    for (; i < args.size() && !stop; ++i) {
        if (!text.empty() || i > (newline ? 1u : 2u)) text += ' ';
        text += backslash_escapes(args[i], stop, true);
    }
    if (newline && !stop) text += '\n';
    out(text);
    return 0;
}

}  // namespace fleet::shell
