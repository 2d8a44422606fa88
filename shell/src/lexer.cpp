// fleet shell — tokens: operators, words, IO_NUMBERs, newlines, here-documents.
#include <fleet/shell/lexer.hpp>

#include <array>
#include <cctype>
#include <cstring>

namespace fleet::shell {
namespace {

// Longest first, so the greedy match below finds "<<-" before "<<" and "<".
constexpr std::array<std::string_view, 16> operators = {
    "<<-", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", "|", "&", ";", "<", ">", "(",
};

bool is_operator_start(char c)
{
    return c != '\0' && std::strchr("&|;<>()", c) != nullptr;
}

bool all_digits(const std::string& s)
{
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

}  // namespace

char Source::get()
{
    char c = text[offset++];
    if (c == '\n') {
        ++pos.line;
        pos.column = 1;
    } else {
        ++pos.column;
    }
    return c;
}

void Lexer::skip_blanks_and_comment()
{
    for (;;) {
        char c = src_.peek();
        if (c == ' ' || c == '\t') {
            src_.get();
        } else if (c == '\\' && src_.peek(1) == '\n') {
            src_.get();
            src_.get();
        } else {
            break;
        }
    }
    if (src_.peek() == '#') {
        while (!src_.at_end() && src_.peek() != '\n') src_.get();
    }
}

ParseResult<Token> Lexer::next()
{
    skip_blanks_and_comment();
    Token tok;
    tok.pos = src_.pos;
    if (src_.at_end()) {
        if (!pending_.empty()) {
            return std::unexpected(ParseError{tok.pos, "here-document without its body", true});
        }
        tok.kind = TokenKind::end;
        return tok;
    }
    if (src_.peek() == '\n') {
        src_.get();
        tok.kind = TokenKind::newline;
        tok.text.push_back('\n');
        if (auto r = read_heredocs(); !r) return std::unexpected(r.error());
        return tok;
    }
    if (is_operator_start(src_.peek())) return operator_token(tok.pos);
    return word_token(tok.pos);
}

ParseResult<Token> Lexer::operator_token(Pos pos)
{
    Token tok;
    tok.kind = TokenKind::op;
    tok.pos = pos;
    std::string_view rest = src_.text.substr(src_.offset);
    for (std::string_view op : operators) {
        if (rest.starts_with(op)) {
            tok.text = std::string(op);
            break;
        }
    }
    if (tok.text.empty()) tok.text = std::string(1, src_.peek());  // ")"
    for (std::size_t i = 0; i < tok.text.size(); ++i) src_.get();
    return tok;
}

ParseResult<Token> Lexer::word_token(Pos pos)
{
    std::size_t start = src_.offset;
    auto parts = scan_parts(src_, WordMode::normal, false);
    if (!parts) return std::unexpected(parts.error());
    Token tok;
    tok.kind = TokenKind::word;
    tok.pos = pos;
    tok.text = std::string(src_.text.substr(start, src_.offset - start));
    tok.word.pos = pos;
    tok.word.raw = tok.text;
    tok.word.parts = std::move(*parts);
    const auto& ps = tok.word.parts;
    tok.plain = ps.size() == 1 && ps[0].kind == PartKind::literal && !ps[0].quoted;
    if (tok.plain) tok.text = ps[0].text;
    char next = src_.peek();
    if (tok.plain && all_digits(tok.text) && (next == '<' || next == '>')) tok.kind = TokenKind::io_number;
    return tok;
}

// The lines after a newline, for each here-document opened on the line it ends.
ParseResult<void> Lexer::read_heredocs()
{
    while (!pending_.empty()) {
        auto doc = std::move(pending_.front());
        pending_.pop_front();
        Pos start = src_.pos;
        std::string body;
        bool ended = false;
        while (!ended) {
            if (src_.at_end()) {
                return std::unexpected(
                    ParseError{start, "here-document has no line '" + doc->delimiter + "' to end it", true});
            }
            std::string line;
            while (!src_.at_end() && src_.peek() != '\n') line += src_.get();
            if (!src_.at_end()) src_.get();
            if (doc->strip_tabs) {
                std::size_t tabs = 0;
                while (tabs < line.size() && line[tabs] == '\t') ++tabs;
                line = line.substr(tabs);
            }
            if (line == doc->delimiter) {
                ended = true;
                break;
            }
            body += line;
            body += '\n';
        }
        doc->body.pos = start;
        if (!doc->expand) {
            WordPart p;
            p.pos = start;
            p.quoted = true;
            p.text = body;
            doc->body.parts.push_back(std::move(p));
            continue;
        }
        Source sub{body, 0, start};
        auto parts = scan_parts(sub, WordMode::heredoc, true);
        if (!parts) return std::unexpected(parts.error());
        doc->body.parts = std::move(*parts);
    }
    return {};
}

ParseResult<std::vector<Token>> tokenize(std::string_view text)
{
    Source src{text, 0, {}};
    Lexer lexer(src);
    std::vector<Token> out;
    for (;;) {
        auto tok = lexer.next();
        if (!tok) return std::unexpected(tok.error());
        bool end = tok->kind == TokenKind::end;
        out.push_back(std::move(*tok));
        if (end) return out;
    }
}

}  // namespace fleet::shell
