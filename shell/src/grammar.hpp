// fleet shell — the grammar's productions, one function each, named as in
// POSIX XCU 2.10.2. Private to the parser. Inside, a syntax error is thrown
// as a ParseError and caught where the parser hands back a ParseResult, so
// the productions read like the grammar; nothing is thrown past the parser.
#pragma once

#include <fleet/shell/lexer.hpp>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace fleet::shell {

class Grammar {
public:
    // The aliases substituted are src.aliases (the shell's, or none).
    explicit Grammar(Source& src) : src_(src), lexer_(src), aliases_(src.aliases) {}

    std::optional<List> complete_command();  // nullopt at the end of input
    List compound_list(bool may_be_empty = false);
    const Token& peek();
    Token next();
    [[noreturn]] void unexpected(const Token& tok, std::string_view context = {});

private:
    AndOr and_or();
    Pipeline pipeline();
    // Whether tok can begin a command (a bare `time` is followed by none).
    static bool starts_command(const Token& tok);
    CommandPtr command();
    CommandPtr compound_command();
    CommandPtr simple_command();
    CommandPtr function_definition(Token name);
    List brace_group();
    List subshell();
    IfClause if_clause();
    LoopClause loop_clause(bool until);
    ForClause for_clause();
    CaseClause case_clause();
    CaseItem case_item();
    List do_group();
    bool io_redirect(std::vector<Redirect>& out);
    void redirect_list(std::vector<Redirect>& out);
    void linebreak();
    bool separator_op(bool& async);
    void sequential_sep();

    bool at_list_end();
    bool peek_reserved(std::string_view word);
    void expect_reserved(std::string_view word, std::string_view context);
    void expect_op(std::string_view op, std::string_view context);

    // Alias substitution (POSIX XCU 2.3.1) of the word in command position:
    // its value's tokens go before the rest of the input; a value ending in
    // a blank makes the next word a command word too. A word from an
    // alias's own value never expands that alias again.
    void expand_alias();

    Source& src_;
    Lexer lexer_;
    std::optional<Token> peeked_;
    const Aliases* aliases_;
    struct Pending {
        Token token;
        std::set<std::string> within;  // the aliases whose values it came from
        bool blank_after = false;      // the last of a value that ends in a blank
    };
    std::deque<Pending> pending_;
    std::set<std::string> peeked_within_;
    bool peeked_blank_after_ = false;
    bool expand_next_ = false;  // the word just read ended an alias's value that ends in a blank
    int alias_tokens_ = 0;      // tokens made from aliases in this complete command: bounded
};

[[noreturn]] void throw_error(Pos pos, std::string message, bool incomplete = false);
bool is_name(std::string_view s);
bool is_reserved(std::string_view s);
// `time`: reserved at a pipeline's start only (Grammar::pipeline), so not
// one of is_reserved's words, yet a keyword to `type` as in bash.
inline constexpr std::string_view time_keyword = "time";

}  // namespace fleet::shell
