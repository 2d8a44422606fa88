// fleet shell — the parser: tokens to a syntax tree (POSIX XCU 2.10).
//
// It does no I/O and runs no code: text in, tree or positioned error out.
// A script is parsed one complete command at a time (next_command), as sh
// does, so a syntax error late in a file does not stop the commands before
// it; parse() takes the whole text at once.
#pragma once

#include <fleet/shell/ast.hpp>
#include <fleet/shell/lexer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fleet::shell {

class Grammar;

class Parser {
public:
    // text must outlive the parser; the tree it returns owns its strings.
    // aliases (the shell's, NAME -> VALUE) are substituted in command
    // position; they must outlive the parser too.
    explicit Parser(std::string_view text, const Aliases* aliases = nullptr);
    ~Parser();
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    // The next complete command (the list up to a newline), nullopt at the end.
    ParseResult<std::optional<List>> next_command();

private:
    Source src_;
    std::unique_ptr<Grammar> grammar_;
};

// The whole text as one program.
ParseResult<Program> parse(std::string_view text);

// "NAME:LINE:COLUMN: syntax error: MESSAGE" (NAME: the script, or -c).
std::string format_parse_error(const ParseError& error, std::string_view name);

}  // namespace fleet::shell
