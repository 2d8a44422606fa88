// fleet shell — the grammar's productions, one function each, named as in
// POSIX XCU 2.10.2. Private to the parser. Inside, a syntax error is thrown
// as a ParseError and caught where the parser hands back a ParseResult, so
// the productions read like the grammar; nothing is thrown past the parser.
#pragma once

#include <fleet/shell/lexer.hpp>

#include <optional>
#include <string>

namespace fleet::shell {

class Grammar {
public:
    explicit Grammar(Source& src) : src_(src), lexer_(src) {}

    std::optional<List> complete_command();  // nullopt at the end of input
    List compound_list(bool may_be_empty = false);
    const Token& peek();
    Token next();
    [[noreturn]] void unexpected(const Token& tok, std::string_view context = {});

private:
    AndOr and_or();
    Pipeline pipeline();
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

    Source& src_;
    Lexer lexer_;
    std::optional<Token> peeked_;
};

[[noreturn]] void throw_error(Pos pos, std::string message, bool incomplete = false);
bool is_name(std::string_view s);
bool is_reserved(std::string_view s);

}  // namespace fleet::shell
