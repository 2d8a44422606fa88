// fleet shell — the lexer's way back into the parser, for $( ) and ``.
#pragma once

#include <fleet/shell/lexer.hpp>

#include <memory>

namespace fleet::shell {

// Parse a program from src up to and including the `)` that closes a $( .
ParseResult<std::shared_ptr<Program>> parse_command_substitution(Source& src);

// Parse the whole of text (the inside of backquotes) as a program whose
// first character sits at pos.
ParseResult<std::shared_ptr<Program>> parse_backquoted(std::string_view text, Pos pos, int depth,
                                                       const Aliases* aliases);

}  // namespace fleet::shell
