// fleet shell — the parser: lists, and-or lists, pipelines, and its API.
// Commands, compound commands and redirections: parser_command.cpp.
#include "grammar.hpp"
#include "subparse.hpp"

#include <fleet/shell/parser.hpp>

#include <array>
#include <cctype>

namespace fleet::shell {

void throw_error(Pos pos, std::string message, bool incomplete)
{
    throw ParseError{pos, std::move(message), incomplete};
}

bool is_name(std::string_view s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

bool is_reserved(std::string_view s)
{
    static constexpr std::array<std::string_view, 16> words = {
        "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
    };
    for (auto w : words) {
        if (w == s) return true;
    }
    return false;
}

const Token& Grammar::peek()
{
    if (!peeked_) {
        if (!pending_.empty()) {
            peeked_ = std::move(pending_.front().token);
            peeked_within_ = std::move(pending_.front().within);
            peeked_blank_after_ = pending_.front().blank_after;
            pending_.pop_front();
            return *peeked_;
        }
        auto tok = lexer_.next();
        if (!tok) throw tok.error();
        peeked_ = std::move(*tok);
        peeked_within_.clear();
        peeked_blank_after_ = false;
    }
    return *peeked_;
}

void Grammar::expand_alias()
{
    constexpr int max_alias_tokens = 10000;  // alias a='a a' a b='a' ... cannot grow without end
    expand_next_ = false;
    while (aliases_ && !aliases_->empty()) {
        const Token& tok = peek();
        if (tok.kind != TokenKind::word || !tok.plain || is_reserved(tok.text)) return;
        auto it = aliases_->find(tok.text);
        if (it == aliases_->end() || peeked_within_.count(tok.text)) return;
        Source text{it->second, 0, tok.pos, src_.depth, aliases_};
        Lexer lexer(text);
        std::set<std::string> within = peeked_within_;
        within.insert(tok.text);
        std::vector<Pending> made;
        for (;;) {
            auto t = lexer.next();
            if (!t) throw_error(tok.pos, "in alias " + tok.text + ": " + t.error().message);
            if (t->kind == TokenKind::end) break;
            if (++alias_tokens_ > max_alias_tokens) throw_error(tok.pos, "aliases expand too far");
            made.push_back(Pending{std::move(*t), within});
        }
        const std::string& value = it->second;
        bool blank_after = !value.empty() && (value.back() == ' ' || value.back() == '\t');
        if (!made.empty()) made.back().blank_after = blank_after || peeked_blank_after_;
        peeked_.reset();
        pending_.insert(pending_.begin(), std::make_move_iterator(made.begin()), std::make_move_iterator(made.end()));
        // An empty value: the word after it is in command position, checked next.
    }
}

Token Grammar::next()
{
    peek();
    Token tok = std::move(*peeked_);
    peeked_.reset();
    expand_next_ = peeked_blank_after_;
    peeked_blank_after_ = false;
    return tok;
}

void Grammar::unexpected(const Token& tok, std::string_view context)
{
    std::string what;
    switch (tok.kind) {
        case TokenKind::end:
            throw_error(tok.pos, "unexpected end of file" + std::string(context), true);
        case TokenKind::newline:
            what = "newline";
            break;
        default:
            what = "'" + tok.text + "'";
            break;
    }
    throw_error(tok.pos, "unexpected " + what + std::string(context));
}

bool Grammar::starts_command(const Token& tok)
{
    if (tok.kind == TokenKind::io_number) return true;
    if (tok.kind == TokenKind::op) return tok.text == "(" || tok.text.find_first_of("<>") != std::string::npos;
    if (tok.kind != TokenKind::word) return false;
    if (!tok.plain || !is_reserved(tok.text)) return true;
    for (std::string_view s : {"!", "{", "if", "while", "until", "for", "case"})
        if (tok.text == s) return true;
    return false;
}

bool Grammar::peek_reserved(std::string_view word)
{
    const Token& tok = peek();
    return tok.kind == TokenKind::word && tok.plain && tok.text == word;
}

void Grammar::expect_reserved(std::string_view word, std::string_view context)
{
    if (!peek_reserved(word))
        unexpected(peek(), " (expected '" + std::string(word) + "' " + std::string(context) + ")");
    next();
}

void Grammar::expect_op(std::string_view op, std::string_view context)
{
    const Token& tok = peek();
    if (tok.kind != TokenKind::op || tok.text != op) {
        unexpected(tok, " (expected '" + std::string(op) + "' " + std::string(context) + ")");
    }
    next();
}

// Where a compound_list stops: a closing reserved word, ) or ;; or the end.
bool Grammar::at_list_end()
{
    const Token& tok = peek();
    if (tok.kind == TokenKind::end) return true;
    if (tok.kind == TokenKind::op) return tok.text == ")" || tok.text == ";;";
    if (tok.kind != TokenKind::word || !tok.plain) return false;
    for (std::string_view w : {"then", "else", "elif", "fi", "do", "done", "esac", "}"}) {
        if (tok.text == w) return true;
    }
    return false;
}

// linebreak: newline_list?
void Grammar::linebreak()
{
    while (peek().kind == TokenKind::newline) next();
}

// separator_op: '&' | ';'
bool Grammar::separator_op(bool& async)
{
    const Token& tok = peek();
    if (tok.kind != TokenKind::op || (tok.text != "&" && tok.text != ";")) return false;
    async = tok.text == "&";
    next();
    return true;
}

// sequential_sep: ';' linebreak | newline_list
void Grammar::sequential_sep()
{
    const Token& tok = peek();
    if (tok.kind == TokenKind::op && tok.text == ";") {
        next();
    } else if (tok.kind != TokenKind::newline) {
        unexpected(tok, " (expected ';' or a newline)");
    }
    linebreak();
}

// complete_command: list separator_op? — one line's worth (up to a newline).
std::optional<List> Grammar::complete_command()
{
    alias_tokens_ = 0;  // the bound is per complete command
    linebreak();
    if (peek().kind == TokenKind::end) return std::nullopt;
    List list;
    list.pos = peek().pos;
    for (;;) {
        ListItem item{and_or()};
        bool async = false;
        bool more = separator_op(async);
        item.async = async;
        list.items.push_back(std::move(item));
        const Token& tok = peek();
        if (tok.kind == TokenKind::newline) {
            next();
            return list;
        }
        if (tok.kind == TokenKind::end) return list;
        if (!more) unexpected(tok);
    }
}

// compound_list: linebreak term [separator]; term: term separator and_or | and_or
List Grammar::compound_list(bool may_be_empty)
{
    linebreak();
    List list;
    list.pos = peek().pos;
    while (!at_list_end()) {
        ListItem item{and_or()};
        bool async = false;
        bool sep = separator_op(async);
        item.async = async;
        list.items.push_back(std::move(item));
        if (peek().kind == TokenKind::newline) {
            linebreak();
        } else if (!sep) {
            break;
        }
    }
    if (list.items.empty() && !may_be_empty) unexpected(peek(), " (expected a command)");
    return list;
}

// and_or: pipeline | and_or AND_IF linebreak pipeline | and_or OR_IF linebreak pipeline
AndOr Grammar::and_or()
{
    AndOr result;
    result.pos = peek().pos;
    result.pipelines.push_back(pipeline());
    for (;;) {
        const Token& tok = peek();
        if (tok.kind != TokenKind::op || (tok.text != "&&" && tok.text != "||")) return result;
        result.ops.push_back(tok.text == "&&" ? AndOrOp::and_if : AndOrOp::or_if);
        next();
        linebreak();
        result.pipelines.push_back(pipeline());
    }
}

// pipeline: [time [-p]] pipe_sequence | [time [-p]] Bang pipe_sequence
// pipe_sequence: command | pipe_sequence '|' linebreak command
// `time` (bash's and ksh's, not POSIX's) is reserved only here:
// elsewhere it is a command name like any other. Aliases come first, as
// in bash: one at a pipeline's start may give `time` or `!` (`alias
// n='! grep -q x'`, which dash takes too), and an alias named time
// replaces the keyword.
Pipeline Grammar::pipeline()
{
    Pipeline result;
    result.pos = peek().pos;
    expand_alias();
    if (peek_reserved(time_keyword)) {
        next();
        result.timed = Timed::yes;
        if (peek_reserved("-p")) {
            next();
            result.timed = Timed::posix;
        }
        if (!starts_command(peek())) return result;  // bare `time`: the shell's own times
        expand_alias();
    }
    if (peek_reserved("!")) {
        next();
        result.bang = true;
    }
    result.commands.push_back(command());
    while (peek().kind == TokenKind::op && peek().text == "|") {
        next();
        linebreak();
        result.commands.push_back(command());
    }
    return result;
}

// --- the API -------------------------------------------------------------

Parser::Parser(std::string_view text, const Aliases* aliases)
    : src_{text, 0, {}, 0, aliases}, grammar_(std::make_unique<Grammar>(src_))
{
}
Parser::~Parser() = default;

ParseResult<std::optional<List>> Parser::next_command()
{
    try {
        return grammar_->complete_command();
    } catch (const ParseError& e) {
        return std::unexpected(e);
    }
}

ParseResult<Program> parse(std::string_view text)
{
    Parser parser(text);
    Program program;
    for (;;) {
        auto cmd = parser.next_command();
        if (!cmd) return std::unexpected(cmd.error());
        if (!*cmd) return program;
        if (program.items.empty()) program.pos = (*cmd)->pos;
        for (auto& item : (*cmd)->items) program.items.push_back(std::move(item));
    }
}

ParseResult<std::shared_ptr<Program>> parse_command_substitution(Source& src)
{
    try {
        Grammar grammar(src);
        auto program = std::make_shared<Program>(grammar.compound_list(true));
        const Token& tok = grammar.peek();
        if (tok.kind != TokenKind::op || tok.text != ")") {
            if (tok.kind == TokenKind::end) throw_error(tok.pos, "missing ) of $(", true);
            throw_error(tok.pos, "unexpected '" + tok.text + "' in $( )");
        }
        grammar.next();
        return program;
    } catch (const ParseError& e) {
        return std::unexpected(e);
    }
}

ParseResult<std::shared_ptr<Program>> parse_backquoted(std::string_view text, Pos pos, int depth,
                                                       const Aliases* aliases)
{
    Source src{text, 0, pos, depth + 1, aliases};
    if (src.depth >= max_depth) return std::unexpected(ParseError{pos, "nesting too deep"});
    try {
        Grammar grammar(src);
        auto program = std::make_shared<Program>(grammar.compound_list(true));
        if (grammar.peek().kind != TokenKind::end) grammar.unexpected(grammar.peek(), " in ` `");
        return program;
    } catch (const ParseError& e) {
        return std::unexpected(e);
    }
}

std::string format_parse_error(const ParseError& error, std::string_view name)
{
    return std::string(name) + ":" + std::to_string(error.pos.line) + ":" + std::to_string(error.pos.column) +
           ": syntax error: " + error.message;
}

}  // namespace fleet::shell
