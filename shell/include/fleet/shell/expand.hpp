// fleet shell — word expansion (POSIX XCU 2.6): tilde, parameters,
// command substitution, arithmetic, then field splitting on IFS, pathname
// expansion and quote removal.
//
// An expansion error (${x?}, set -u, bad arithmetic) is reported and ends
// a non-interactive shell (Shell::fatal).
#pragma once

#include <fleet/shell/ast.hpp>
#include <fleet/shell/pattern.hpp>
#include <fleet/shell/shell.hpp>

#include <string>
#include <vector>

namespace fleet::shell {

// Command words and for lists: every step, each word to zero or more fields.
std::vector<std::string> expand_fields(Shell& sh, const std::vector<Word>& words);

// Assignments, redirection targets, case subjects, here-documents: no
// splitting and no globbing; "$@" joins with spaces.
std::string expand_text(Shell& sh, const std::vector<WordPart>& parts);

// case patterns and ${x#pattern}: what was quoted stays literal.
Pattern expand_pattern(Shell& sh, const std::vector<WordPart>& parts);

}  // namespace fleet::shell
