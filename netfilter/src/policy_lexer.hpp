// fleet netfilter — the policy language's tokens (private to the parser).
#pragma once

#include <string>
#include <string_view>

namespace fleet::netfilter::detail {

struct Token {
    enum class Kind { word, arrow, comma, equals, colon, slash, star, newline, end, bad };
    Kind kind = Kind::end;
    std::string_view text;
    int line = 1;
    int column = 1;
};

// Splits policy text into tokens. Words are runs of [A-Za-z0-9_.-] (a '-'
// that starts "->" ends a word); '#' starts a comment to the end of the
// line; blanks, tabs and '\r' separate; anything else is a `bad` token.
class Lexer {
public:
    explicit Lexer(std::string_view text) : text_(text) {}
    Token next();

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    int line_ = 1;
    std::size_t line_start_ = 0;
};

// How a token reads in an error message: 'web', '->', "end of line".
std::string describe(const Token& token);

}  // namespace fleet::netfilter::detail
