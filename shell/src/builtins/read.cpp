// fleet shell — `read [-r] [-p PROMPT] NAME...`: one line from fd 0, split
// on IFS into the names (the last takes the rest). Reads a byte at a time
// so that nothing past the line is taken from a shared input.
#include "builtins.hpp"

#include <unistd.h>

#include <cerrno>

namespace fleet::shell {
namespace {

bool is_ifs_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

// Split line into n fields; backslash-escaped characters (without -r) never split.
std::vector<std::string> split(const std::string& line, const std::vector<bool>& escaped, const std::string& ifs,
                               std::size_t n)
{
    std::vector<std::string> fields;
    std::size_t i = 0;
    auto is_sep = [&](std::size_t k) { return !escaped[k] && ifs.find(line[k]) != std::string::npos; };
    auto skip_space = [&] {
        while (i < line.size() && is_sep(i) && is_ifs_space(line[i])) ++i;
    };
    skip_space();
    while (i < line.size() && fields.size() + 1 < n) {
        std::string f;
        while (i < line.size() && !is_sep(i)) f += line[i++];
        fields.push_back(f);
        skip_space();
        if (i < line.size() && is_sep(i) && !is_ifs_space(line[i])) {
            ++i;
            skip_space();
        }
    }
    if (fields.size() < n) {
        std::size_t end = line.size();
        while (end > i && is_sep(end - 1) && is_ifs_space(line[end - 1])) --end;
        fields.push_back(line.substr(i, end - i));
    }
    return fields;
}

}  // namespace

int builtin_read(Shell& sh, Args& args)
{
    bool raw = false;
    std::size_t i = 1;
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
        if (args[i] == "-r") {
            raw = true;
        } else if (args[i] == "-p" && i + 1 < args.size()) {
            std::string prompt = args[++i];
            ssize_t n = ::write(2, prompt.data(), prompt.size());
            (void)n;
        } else if (args[i] == "--") {
            ++i;
            break;
        } else {
            return usage_error(sh, args, "bad option " + args[i]);
        }
    }
    std::vector<std::string> names(args.begin() + static_cast<long>(i), args.end());
    if (names.empty()) names.push_back("REPLY");
    std::string line;
    std::vector<bool> escaped;
    bool got_newline = false;
    for (;;) {
        char c;
        ssize_t n = ::read(0, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (c == '\n') {
            got_newline = true;
            break;
        }
        if (c == '\\' && !raw) {
            n = ::read(0, &c, 1);
            if (n <= 0) break;
            if (c == '\n') continue;  // a line continuation
            line += c;
            escaped.push_back(true);
            continue;
        }
        line += c;
        escaped.push_back(false);
    }
    auto fields = split(line, escaped, sh.ifs(), names.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (!sh.set(names[k], k < fields.size() ? fields[k] : "")) return 2;
    }
    return got_newline ? 0 : 1;
}

}  // namespace fleet::shell
