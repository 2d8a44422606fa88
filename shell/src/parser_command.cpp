// fleet shell — the parser: simple commands, compound commands, functions
// and redirections (POSIX XCU 2.10.2).
#include "grammar.hpp"

namespace fleet::shell {
namespace {

// Counts one level of nesting for as long as it lives.
class Nest {
public:
    Nest(Source& src, Pos pos) : src_(src)
    {
        if (++src_.depth > max_depth) throw_error(pos, "nesting too deep");
    }
    ~Nest() { --src_.depth; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

private:
    Source& src_;
};

std::optional<RedirOp> redirect_op(const std::string& op)
{
    if (op == "<") return RedirOp::in;
    if (op == ">") return RedirOp::out;
    if (op == ">>") return RedirOp::append;
    if (op == ">|") return RedirOp::clobber;
    if (op == "<&") return RedirOp::dup_in;
    if (op == ">&") return RedirOp::dup_out;
    if (op == "<>") return RedirOp::read_write;
    if (op == "<<" || op == "<<-") return RedirOp::heredoc;
    return std::nullopt;
}

// The here-document delimiter: the word with its quotes removed.
std::string unquote_delimiter(const std::string& raw)
{
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '\\' && i + 1 < raw.size()) {
            out += raw[++i];
        } else if (c != '\'' && c != '"') {
            out += c;
        }
    }
    return out;
}

// NAME=value at the start of a word: the name's length, or 0.
std::size_t assignment_name_length(const Token& tok)
{
    if (tok.kind != TokenKind::word || tok.word.parts.empty()) return 0;
    const WordPart& first = tok.word.parts[0];
    if (first.kind != PartKind::literal || first.quoted) return 0;
    auto eq = first.text.find('=');
    if (eq == std::string::npos || eq == 0 || !is_name(std::string_view(first.text).substr(0, eq))) return 0;
    return eq;
}

Assignment make_assignment(Token tok, std::size_t name_length)
{
    Assignment a;
    a.pos = tok.pos;
    a.name = tok.word.parts[0].text.substr(0, name_length);
    a.value.pos = tok.pos;
    a.value.parts = std::move(tok.word.parts);
    a.value.parts[0].text.erase(0, name_length + 1);
    a.value.parts[0].pos.column += static_cast<int>(name_length + 1);
    if (a.value.parts[0].text.empty()) a.value.parts.erase(a.value.parts.begin());
    return a;
}

}  // namespace

// command: simple_command | compound_command redirect_list? | function_definition
CommandPtr Grammar::command()
{
    expand_alias();
    const Token& tok = peek();
    if (tok.kind == TokenKind::op && tok.text == "(") return compound_command();
    if (tok.kind == TokenKind::word && tok.plain && is_reserved(tok.text)) {
        static const char* const starters[] = {"{", "if", "while", "until", "for", "case"};
        for (const char* s : starters) {
            if (tok.text == s) return compound_command();
        }
        unexpected(tok);
    }
    return simple_command();
}

// compound_command: brace_group | subshell | for_clause | case_clause | if_clause | while_clause | until_clause
CommandPtr Grammar::compound_command()
{
    Nest nest(src_, peek().pos);
    auto cmd = std::make_shared<Command>();
    cmd->pos = peek().pos;
    const Token& tok = peek();
    if (tok.kind == TokenKind::op) {
        cmd->node = Subshell{subshell()};
    } else if (tok.text == "{") {
        cmd->node = BraceGroup{brace_group()};
    } else if (tok.text == "if") {
        cmd->node = if_clause();
    } else if (tok.text == "while" || tok.text == "until") {
        cmd->node = loop_clause(tok.text == "until");
    } else if (tok.text == "for") {
        cmd->node = for_clause();
    } else {
        cmd->node = case_clause();
    }
    redirect_list(cmd->redirects);
    return cmd;
}

// brace_group: Lbrace compound_list Rbrace
List Grammar::brace_group()
{
    next();
    List body = compound_list();
    expect_reserved("}", "to end the { group");
    return body;
}

// subshell: '(' compound_list ')'
List Grammar::subshell()
{
    next();
    List body = compound_list();
    expect_op(")", "to end the ( subshell");
    return body;
}

// if_clause: If compound_list Then compound_list else_part? Fi
// else_part: Elif compound_list Then compound_list else_part? | Else compound_list
IfClause Grammar::if_clause()
{
    IfClause clause;
    next();
    for (;;) {
        IfBranch branch;
        branch.condition = compound_list();
        expect_reserved("then", "after the condition");
        branch.body = compound_list();
        clause.branches.push_back(std::move(branch));
        if (!peek_reserved("elif")) break;
        next();
    }
    if (peek_reserved("else")) {
        next();
        clause.else_body = compound_list();
    }
    expect_reserved("fi", "to end the if");
    return clause;
}

// while_clause: While compound_list do_group; until_clause: Until compound_list do_group
LoopClause Grammar::loop_clause(bool until)
{
    LoopClause clause;
    clause.until = until;
    next();
    clause.condition = compound_list();
    clause.body = do_group();
    return clause;
}

// do_group: Do compound_list Done
List Grammar::do_group()
{
    expect_reserved("do", "to start the loop body");
    List body = compound_list();
    expect_reserved("done", "to end the loop");
    return body;
}

// for_clause: For name (linebreak in wordlist? sequential_sep | sequential_sep)? do_group
ForClause Grammar::for_clause()
{
    ForClause clause;
    next();
    Token name = next();
    if (name.kind != TokenKind::word || !name.plain || !is_name(name.text))
        unexpected(name, " (expected a name after 'for')");
    clause.name = name.text;
    linebreak();
    if (peek_reserved("in")) {
        next();
        clause.has_in = true;
        while (peek().kind == TokenKind::word) clause.words.push_back(next().word);
        sequential_sep();
    } else if (peek().kind == TokenKind::op && peek().text == ";") {
        sequential_sep();
    }
    clause.body = do_group();
    return clause;
}

// case_clause: Case WORD linebreak in linebreak case_list? Esac
CaseClause Grammar::case_clause()
{
    CaseClause clause;
    next();
    Token subject = next();
    if (subject.kind != TokenKind::word) unexpected(subject, " (expected a word after 'case')");
    clause.subject = std::move(subject.word);
    linebreak();
    expect_reserved("in", "after the case word");
    linebreak();
    while (!peek_reserved("esac")) clause.items.push_back(case_item());
    next();
    return clause;
}

// case_item: '('? pattern ')' (compound_list | linebreak) (DSEMI linebreak)?
// pattern: WORD | pattern '|' WORD
CaseItem Grammar::case_item()
{
    CaseItem item;
    item.pos = peek().pos;
    if (peek().kind == TokenKind::op && peek().text == "(") next();
    for (;;) {
        Token word = next();
        if (word.kind != TokenKind::word) unexpected(word, " (expected a case pattern)");
        item.patterns.push_back(std::move(word.word));
        if (peek().kind != TokenKind::op || peek().text != "|") break;
        next();
    }
    expect_op(")", "after the case pattern");
    item.body = compound_list(true);
    if (peek().kind == TokenKind::op && peek().text == ";;") {
        next();
        linebreak();
    } else if (!peek_reserved("esac")) {
        unexpected(peek(), " (expected ';;' or 'esac')");
    }
    return item;
}

// function_definition: fname '(' ')' linebreak function_body
// function_body: compound_command redirect_list?
CommandPtr Grammar::function_definition(Token name)
{
    if (!is_name(name.text) || is_reserved(name.text)) throw_error(name.pos, "bad function name '" + name.text + "'");
    expect_op("(", "after the function name");
    expect_op(")", "after '(' in a function definition");
    linebreak();
    const Token& tok = peek();
    bool compound = (tok.kind == TokenKind::op && tok.text == "(") ||
                    (tok.kind == TokenKind::word && tok.plain &&
                     (tok.text == "{" || tok.text == "if" || tok.text == "while" || tok.text == "until" ||
                      tok.text == "for" || tok.text == "case"));
    if (!compound) unexpected(tok, " (a function body is a compound command)");
    auto cmd = std::make_shared<Command>();
    cmd->pos = name.pos;
    cmd->node = FunctionDef{name.text, compound_command()};
    return cmd;
}

// simple_command: cmd_prefix? cmd_word? cmd_suffix? (assignments and
// redirections before the name, words and redirections after it)
CommandPtr Grammar::simple_command()
{
    auto cmd = std::make_shared<Command>();
    cmd->pos = peek().pos;
    SimpleCommand simple;
    for (;;) {
        // After assignments and redirections the word is still the command's
        // name; after an alias ending in a blank, the next word is checked too.
        if (expand_next_ || (simple.words.empty() && (!simple.assignments.empty() || !cmd->redirects.empty())))
            expand_alias();
        if (io_redirect(cmd->redirects)) continue;
        if (peek().kind != TokenKind::word) break;
        Token tok = next();
        std::size_t name_length = simple.words.empty() ? assignment_name_length(tok) : 0;
        if (name_length > 0) {
            simple.assignments.push_back(make_assignment(std::move(tok), name_length));
            continue;
        }
        bool first = simple.words.empty() && simple.assignments.empty() && cmd->redirects.empty();
        if (first && tok.plain && peek().kind == TokenKind::op && peek().text == "(") {
            return function_definition(std::move(tok));
        }
        simple.words.push_back(std::move(tok.word));
    }
    if (simple.words.empty() && simple.assignments.empty() && cmd->redirects.empty()) unexpected(peek());
    cmd->node = std::move(simple);
    return cmd;
}

// redirect_list: io_redirect+
void Grammar::redirect_list(std::vector<Redirect>& out)
{
    while (io_redirect(out)) {
    }
}

// io_redirect: IO_NUMBER? (io_file | io_here); io_file: op filename; io_here: (DLESS | DLESSDASH) here_end
bool Grammar::io_redirect(std::vector<Redirect>& out)
{
    Redirect r;
    r.pos = peek().pos;
    if (peek().kind == TokenKind::io_number) {
        Token number = next();
        r.fd = number.text.size() > 4 ? 100000 : std::stoi(number.text);
    } else if (peek().kind != TokenKind::op || !redirect_op(peek().text)) {
        return false;
    }
    Token op = next();
    auto kind = op.kind == TokenKind::op ? redirect_op(op.text) : std::nullopt;
    if (!kind) unexpected(op, " (expected a redirection after the fd number)");
    r.op = *kind;
    Token target = next();
    if (target.kind != TokenKind::word) unexpected(target, " (expected a word after '" + op.text + "')");
    if (r.op == RedirOp::heredoc) {
        r.here = std::make_shared<HereDoc>();
        r.here->delimiter = target.plain ? target.text : unquote_delimiter(target.text);
        r.here->expand = target.plain;
        r.here->strip_tabs = op.text == "<<-";
        lexer_.add_heredoc(r.here);
    }
    r.target = std::move(target.word);
    out.push_back(std::move(r));
    return true;
}

}  // namespace fleet::shell
