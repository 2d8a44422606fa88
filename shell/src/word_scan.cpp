// fleet shell — scanning words into parts: quotes, $..., `...` (XCU 2.2, 2.3, 2.6).
#include "subparse.hpp"

#include <fleet/shell/lexer.hpp>

#include <cctype>
#include <cstring>

namespace fleet::shell {
namespace {

std::unexpected<ParseError> error(Pos pos, std::string message, bool incomplete = false)
{
    return std::unexpected(ParseError{pos, std::move(message), incomplete});
}

void add_literal(std::vector<WordPart>& parts, Pos pos, std::string_view text, bool quoted)
{
    if (!parts.empty() && parts.back().kind == PartKind::literal && parts.back().quoted == quoted) {
        parts.back().text += text;
        return;
    }
    WordPart p;
    p.kind = PartKind::literal;
    p.pos = pos;
    p.quoted = quoted;
    p.text = std::string(text);
    parts.push_back(std::move(p));
}

bool is_name_start(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_name_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool is_special_param(char c)
{
    return c != '\0' && std::strchr("@*#?-$!", c) != nullptr;
}

ParseResult<void> scan_dollar(Source& src, std::vector<WordPart>& parts, bool quoted);
ParseResult<void> scan_backquote(Source& src, std::vector<WordPart>& parts, bool quoted);

// "..." (the opening quote already read)
ParseResult<void> scan_double_quoted(Source& src, std::vector<WordPart>& parts, Pos open)
{
    const std::size_t before = parts.size();
    for (;;) {
        if (src.at_end()) return error(open, "unterminated double quote", true);
        Pos pos = src.pos;
        char c = src.peek();
        if (c == '"') {
            src.get();
            if (parts.size() == before) add_literal(parts, open, "", true);  // "" is an empty field, not none
            return {};
        }
        if (c == '\\') {
            char n = src.peek(1);
            src.get();
            if (n == '\n') {
                src.get();
            } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
                add_literal(parts, pos, std::string(1, src.get()), true);
            } else {
                add_literal(parts, pos, "\\", true);
            }
        } else if (c == '$') {
            src.get();
            if (auto r = scan_dollar(src, parts, true); !r) return r;
        } else if (c == '`') {
            src.get();
            if (auto r = scan_backquote(src, parts, true); !r) return r;
        } else {
            add_literal(parts, pos, std::string(1, src.get()), true);
        }
    }
}

// '...' (the opening quote already read)
ParseResult<void> scan_single_quoted(Source& src, std::vector<WordPart>& parts, Pos open)
{
    std::string text;
    for (;;) {
        if (src.at_end()) return error(open, "unterminated single quote", true);
        char c = src.get();
        if (c == '\'') break;
        text += c;
    }
    add_literal(parts, open, text, true);
    return {};
}

// The operator after the name in ${name...}; the name is already read.
ParseResult<void> scan_param_op(Source& src, WordPart& part, Pos open)
{
    char c = src.peek();
    if (c == '}') return {};
    if (src.at_end()) return error(open, "missing } in ${", true);
    if (c == ':' && std::strchr("-=?+", src.peek(1)) && src.peek(1) != '\0') {
        part.colon = true;
        src.get();
        c = src.peek();
    }
    switch (c) {
        case '-':
            part.op = ParamOp::use_default;
            break;
        case '=':
            part.op = ParamOp::assign_default;
            break;
        case '?':
            part.op = ParamOp::error_if_unset;
            break;
        case '+':
            part.op = ParamOp::use_alternate;
            break;
        case '#':
            part.op = ParamOp::remove_small_prefix;
            break;
        case '%':
            part.op = ParamOp::remove_small_suffix;
            break;
        default:
            return error(open, "bad substitution");
    }
    src.get();
    if ((c == '#' || c == '%') && src.peek() == c) {
        src.get();
        part.op = c == '#' ? ParamOp::remove_large_prefix : ParamOp::remove_large_suffix;
    }
    // A pattern (# % ## %%) is not quoted by the double quotes around ${ }.
    bool pattern = part.op >= ParamOp::remove_small_prefix;
    auto arg = scan_parts(src, WordMode::brace, part.quoted && !pattern);
    if (!arg) return std::unexpected(arg.error());
    part.arg = std::move(*arg);
    return {};
}

// ${...} (the "${" already read)
ParseResult<void> scan_braced(Source& src, WordPart& part, Pos open)
{
    char c = src.peek();
    if (c == '#' && src.peek(1) != '}' && (is_name_char(src.peek(1)) || is_special_param(src.peek(1)))) {
        src.get();
        part.op = ParamOp::length;
        c = src.peek();
    }
    if (is_name_start(c)) {
        while (is_name_char(src.peek())) part.text += src.get();
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
        while (std::isdigit(static_cast<unsigned char>(src.peek()))) part.text += src.get();
    } else if (is_special_param(c)) {
        part.text = std::string(1, src.get());
    } else {
        return error(open, "bad substitution");
    }
    if (part.op != ParamOp::length) {
        if (auto r = scan_param_op(src, part, open); !r) return r;
    }
    if (src.at_end()) return error(open, "missing } in ${", true);
    if (src.get() != '}') return error(open, "bad substitution");
    return {};
}

ParseResult<void> scan_arith(Source& src, WordPart& part, Pos open)
{
    part.kind = PartKind::arith;
    auto expr = scan_parts(src, WordMode::arith, true);
    if (!expr) return std::unexpected(expr.error());
    part.arg = std::move(*expr);
    if (src.at_end()) return error(open, "missing )) in $((", true);
    src.get();
    src.get();
    return {};
}

// After a '$'.
ParseResult<void> scan_dollar(Source& src, std::vector<WordPart>& parts, bool quoted)
{
    Pos open{src.pos.line, src.pos.column - 1};
    if (src.depth >= max_depth) return error(open, "nesting too deep");
    struct Nest {
        Source& s;
        explicit Nest(Source& src) : s(src) { ++s.depth; }
        ~Nest() { --s.depth; }
    } nest(src);
    WordPart part;
    part.kind = PartKind::param;
    part.pos = open;
    part.quoted = quoted;
    char c = src.peek();
    if (c == '{') {
        src.get();
        if (auto r = scan_braced(src, part, open); !r) return r;
    } else if (c == '(' && src.peek(1) == '(') {
        src.get();
        src.get();
        if (auto r = scan_arith(src, part, open); !r) return r;
    } else if (c == '(') {
        src.get();
        part.kind = PartKind::command;
        auto program = parse_command_substitution(src);
        if (!program) return std::unexpected(program.error());
        part.program = std::move(*program);
    } else if (is_name_start(c)) {
        while (is_name_char(src.peek())) part.text += src.get();
    } else if (std::isdigit(static_cast<unsigned char>(c)) || is_special_param(c)) {
        part.text = std::string(1, src.get());
    } else {
        add_literal(parts, open, "$", quoted);
        return {};
    }
    parts.push_back(std::move(part));
    return {};
}

// `...` (the opening backquote already read)
ParseResult<void> scan_backquote(Source& src, std::vector<WordPart>& parts, bool quoted)
{
    Pos open{src.pos.line, src.pos.column - 1};
    Pos inner = src.pos;
    std::string text;
    for (;;) {
        if (src.at_end()) return error(open, "unterminated backquote", true);
        char c = src.get();
        if (c == '`') break;
        if (c == '\\') {
            char n = src.peek();
            if (n == '$' || n == '`' || n == '\\' || (quoted && n == '"')) c = src.get();
        }
        text += c;
    }
    auto program = parse_backquoted(text, inner, src.depth, src.aliases);
    if (!program) return std::unexpected(program.error());
    WordPart part;
    part.kind = PartKind::command;
    part.pos = open;
    part.quoted = quoted;
    part.backquote = true;
    part.program = std::move(*program);
    parts.push_back(std::move(part));
    return {};
}

bool ends_word(char c, WordMode mode, int depth, const Source& src)
{
    switch (mode) {
        case WordMode::normal:
            return c != '\0' && std::strchr(" \t\n;&|<>()", c) != nullptr;  // a NUL byte is text
        case WordMode::brace:
            return c == '}';
        case WordMode::arith:
            return depth == 0 && c == ')' && src.peek(1) == ')';
        case WordMode::heredoc:
            return false;
    }
    return false;
}

// A backslash outside double quotes.
void scan_backslash(Source& src, std::vector<WordPart>& parts, WordMode mode, bool quoted)
{
    Pos pos = src.pos;
    src.get();
    char n = src.peek();
    if (n == '\n') {
        src.get();
        return;
    }
    if (src.at_end()) {
        add_literal(parts, pos, "\\", quoted);
        return;
    }
    bool escapes = mode == WordMode::normal || mode == WordMode::brace || n == '$' || n == '`' || n == '\\';
    if (mode == WordMode::brace && quoted && !(n == '$' || n == '`' || n == '\\' || n == '"' || n == '}')) {
        escapes = false;
    }
    if (!escapes) {
        add_literal(parts, pos, "\\", true);
        return;
    }
    add_literal(parts, pos, std::string(1, src.get()), true);
}

}  // namespace

ParseResult<std::vector<WordPart>> scan_parts(Source& src, WordMode mode, bool quoted)
{
    std::vector<WordPart> parts;
    int depth = 0;  // open parentheses inside $(( ))
    for (;;) {
        char c = src.peek();
        if (src.at_end()) {
            if (mode == WordMode::brace || mode == WordMode::arith) break;  // the caller reports it
            break;
        }
        if (ends_word(c, mode, depth, src)) break;
        Pos pos = src.pos;
        bool literal_quotes = mode == WordMode::heredoc || (mode == WordMode::brace && quoted);
        if (c == '\\') {
            scan_backslash(src, parts, mode, quoted);
        } else if (c == '\'' && !literal_quotes && mode != WordMode::arith) {
            src.get();
            if (auto r = scan_single_quoted(src, parts, pos); !r) return std::unexpected(r.error());
        } else if (c == '"' && mode != WordMode::heredoc) {
            src.get();
            if (auto r = scan_double_quoted(src, parts, pos); !r) return std::unexpected(r.error());
        } else if (c == '$') {
            src.get();
            if (auto r = scan_dollar(src, parts, quoted); !r) return std::unexpected(r.error());
        } else if (c == '`') {
            src.get();
            if (auto r = scan_backquote(src, parts, quoted); !r) return std::unexpected(r.error());
        } else {
            if (mode == WordMode::arith && c == '(') ++depth;
            if (mode == WordMode::arith && c == ')') --depth;
            add_literal(parts, pos, std::string(1, src.get()), quoted);
        }
    }
    return parts;
}

}  // namespace fleet::shell
