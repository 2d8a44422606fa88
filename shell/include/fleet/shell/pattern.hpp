// fleet shell — pattern matching notation (POSIX XCU 2.13): * ? [...],
// for case, ${x#p} and friends, and pathname expansion on host paths.
//
// A pattern is text plus, per byte, whether it was quoted: a quoted * is
// just a star.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleet::shell {

struct Pattern {
    std::string text;
    std::vector<bool> quoted;  // same length as text

    static Pattern literal(std::string_view s) { return {std::string(s), std::vector<bool>(s.size(), true)}; }
    static Pattern unquoted(std::string_view s) { return {std::string(s), std::vector<bool>(s.size(), false)}; }
};

// Does the whole of s match?
bool pattern_match(const Pattern& p, std::string_view s);

// Does p hold an unquoted * ? or [ ?
bool has_glob_chars(const Pattern& p);

// Pathname expansion: the matching paths, sorted; empty when none match.
// Names starting with '.' match only a pattern component starting with '.'.
std::vector<std::string> glob_paths(const Pattern& p);

}  // namespace fleet::shell
