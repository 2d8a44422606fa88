// fleet shell — the lexer: characters to tokens (POSIX XCU 2.3).
//
// The parser drives it one token at a time, because what comes next
// depends on the grammar: here-document bodies are read at the newline
// after their operator, and `$( )` holds a whole program, which the lexer
// hands back to the parser. Words come out already split into parts
// (ast.hpp); reserved words are plain words here (the parser decides where
// they are reserved).
#pragma once

#include <fleet/shell/ast.hpp>

#include <cstddef>
#include <deque>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace fleet::shell {

// A syntax error at a position. `incomplete` says the text ended where more
// was needed (an open quote, a missing `fi`): an interactive shell asks for
// another line instead of reporting it.
struct ParseError {
    Pos pos;
    std::string message;
    bool incomplete = false;
};

template <class T>
using ParseResult = std::expected<T, ParseError>;

// The text being read and where the reader is. Shared between a lexer and
// the nested lexers of $( ) inside it.
struct Source {
    std::string_view text;
    std::size_t offset = 0;
    Pos pos;
    int depth = 0;                     // nesting of compound commands, ${ }, $( ): bounded (max_depth)
    const Aliases* aliases = nullptr;  // substituted in command position, $( ) included; none if null

    [[nodiscard]] bool at_end() const { return offset >= text.size(); }
    [[nodiscard]] char peek(std::size_t ahead = 0) const
    {
        return offset + ahead < text.size() ? text[offset + ahead] : '\0';
    }
    char get();
};

// Deeper nesting than this is a syntax error, not a stack overflow.
constexpr int max_depth = 200;

enum class TokenKind { word, io_number, newline, op, end };

struct Token {
    TokenKind kind = TokenKind::end;
    Pos pos;
    std::string text;  // operator text, the IO_NUMBER, or the word's raw source text
    Word word;         // word only
    // True for a word written without any quoting or expansion: only such
    // a word can be a reserved word, a NAME or an assignment.
    bool plain = false;
};

class Lexer {
public:
    explicit Lexer(Source& src) : src_(src) {}

    // The next token; a here-document body is read right after the newline
    // that ends its operator's line.
    ParseResult<Token> next();

    // Register a here-document whose body starts at the next newline.
    void add_heredoc(std::shared_ptr<HereDoc> doc) { pending_.push_back(std::move(doc)); }
    [[nodiscard]] bool heredocs_pending() const { return !pending_.empty(); }

private:
    ParseResult<Token> operator_token(Pos pos);
    ParseResult<Token> word_token(Pos pos);
    ParseResult<void> read_heredocs();
    void skip_blanks_and_comment();

    Source& src_;
    std::deque<std::shared_ptr<HereDoc>> pending_;
};

// Word scanning, shared by the lexer, here-document bodies and the parser
// of ${ } arguments. Private to the library but declared here for tests.
enum class WordMode {
    normal,   // a WORD token: ends at a blank or an operator character
    brace,    // the argument of ${x-...}: ends at the matching }
    arith,    // $(( ... )): ends at the matching ))
    heredoc,  // a here-document body: $ ` \ special, to the end
};
ParseResult<std::vector<WordPart>> scan_parts(Source& src, WordMode mode, bool quoted);

// Split a complete text into tokens (for tests and --dump-tokens).
ParseResult<std::vector<Token>> tokenize(std::string_view text);

}  // namespace fleet::shell
