// fleet shell — matching * ? [...] with quoted characters taken literally.
#include <fleet/shell/pattern.hpp>

#include <cctype>
#include <cstring>

namespace fleet::shell {
namespace {

bool class_match(std::string_view name, unsigned char c)
{
    if (name == "alpha") return std::isalpha(c);
    if (name == "digit") return std::isdigit(c);
    if (name == "alnum") return std::isalnum(c);
    if (name == "upper") return std::isupper(c);
    if (name == "lower") return std::islower(c);
    if (name == "space") return std::isspace(c);
    if (name == "blank") return c == ' ' || c == '\t';
    if (name == "punct") return std::ispunct(c);
    if (name == "print") return std::isprint(c);
    if (name == "graph") return std::isgraph(c);
    if (name == "cntrl") return std::iscntrl(c);
    if (name == "xdigit") return std::isxdigit(c);
    return false;
}

// A bracket expression at p.text[i] (the '['). Returns the index after its
// ']' and whether c matched, or npos when there is no closing ']' (then '['
// is an ordinary character).
std::size_t bracket(const Pattern& p, std::size_t i, unsigned char c, bool& matched)
{
    const std::string& t = p.text;
    std::size_t j = i + 1;
    bool negate = j < t.size() && !p.quoted[j] && (t[j] == '!' || t[j] == '^');
    if (negate) ++j;
    bool found = false;
    bool first = true;
    while (j < t.size()) {
        if (t[j] == ']' && !p.quoted[j] && !first) {
            matched = found != negate;
            return j + 1;
        }
        first = false;
        if (t[j] == '[' && !p.quoted[j] && j + 1 < t.size() && t[j + 1] == ':') {
            auto end = t.find(":]", j + 2);
            if (end != std::string::npos) {
                found = found || class_match(std::string_view(t).substr(j + 2, end - j - 2), c);
                j = end + 2;
                continue;
            }
        }
        unsigned char lo = static_cast<unsigned char>(t[j]);
        if (j + 2 < t.size() && t[j + 1] == '-' && !p.quoted[j + 1] && !(t[j + 2] == ']' && !p.quoted[j + 2])) {
            unsigned char hi = static_cast<unsigned char>(t[j + 2]);
            found = found || (lo <= c && c <= hi);
            j += 3;
        } else {
            found = found || lo == c;
            ++j;
        }
    }
    return std::string::npos;
}

// One pattern element at i against s[k]: advances i and returns true if it matched one byte.
bool single(const Pattern& p, std::size_t& i, unsigned char c)
{
    char pc = p.text[i];
    if (!p.quoted[i] && pc == '?') {
        ++i;
        return true;
    }
    if (!p.quoted[i] && pc == '[') {
        bool matched = false;
        std::size_t end = bracket(p, i, c, matched);
        if (end != std::string::npos) {
            i = end;
            return matched;
        }
    }
    ++i;
    return static_cast<unsigned char>(pc) == c;
}

}  // namespace

bool pattern_match(const Pattern& p, std::string_view s)
{
    // Iterative matching with one backtrack point: the last star seen.
    std::size_t i = 0, k = 0;
    std::size_t star_i = std::string::npos, star_k = 0;
    while (k < s.size()) {
        if (i < p.text.size() && p.text[i] == '*' && !p.quoted[i]) {
            star_i = ++i;
            star_k = k;
            continue;
        }
        std::size_t next = i;
        if (i < p.text.size() && single(p, next, static_cast<unsigned char>(s[k]))) {
            i = next;
            ++k;
            continue;
        }
        if (star_i == std::string::npos) return false;
        i = star_i;
        k = ++star_k;
    }
    while (i < p.text.size() && p.text[i] == '*' && !p.quoted[i]) ++i;
    return i == p.text.size();
}

bool has_glob_chars(const Pattern& p)
{
    for (std::size_t i = 0; i < p.text.size(); ++i) {
        if (!p.quoted[i] && std::strchr("*?[", p.text[i]) && p.text[i] != '\0') return true;
    }
    return false;
}

}  // namespace fleet::shell
