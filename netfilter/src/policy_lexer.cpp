// fleet netfilter — the policy lexer.
#include "policy_lexer.hpp"

#include <cstdio>

namespace fleet::netfilter::detail {

namespace {

bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

}  // namespace

Token Lexer::next()
{
    while (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c == ' ' || c == '\t' || c == '\r') {
            ++pos_;
        } else if (c == '#') {
            while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        } else {
            break;
        }
    }
    Token t;
    t.line = line_;
    t.column = static_cast<int>(pos_ - line_start_) + 1;
    if (pos_ >= text_.size()) return t;  // end
    const std::size_t start = pos_;
    const char c = text_[pos_];
    auto single = [&](Token::Kind kind) {
        t.kind = kind;
        t.text = text_.substr(start, 1);
        ++pos_;
        return t;
    };
    if (c == '\n') {
        single(Token::Kind::newline);
        ++line_;
        line_start_ = pos_;
        return t;
    }
    if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') {
        pos_ += 2;
        t.kind = Token::Kind::arrow;
        t.text = text_.substr(start, 2);
        return t;
    }
    if (word_char(c)) {
        while (pos_ < text_.size() && word_char(text_[pos_]) &&
               !(text_[pos_] == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>'))
            ++pos_;
        t.kind = Token::Kind::word;
        t.text = text_.substr(start, pos_ - start);
        return t;
    }
    switch (c) {
        case ',':
            return single(Token::Kind::comma);
        case '=':
            return single(Token::Kind::equals);
        case ':':
            return single(Token::Kind::colon);
        case '/':
            return single(Token::Kind::slash);
        case '*':
            return single(Token::Kind::star);
        default:
            return single(Token::Kind::bad);
    }
}

std::string describe(const Token& token)
{
    switch (token.kind) {
        case Token::Kind::end:
            return "the end of the file";
        case Token::Kind::newline:
            return "the end of the line";
        case Token::Kind::bad: {
            const auto u = static_cast<unsigned char>(token.text[0]);
            if (u > ' ' && u < 0x7f) return "'" + std::string(token.text) + "'";
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", u);
            return std::string("the byte ") + hex;
        }
        default: {
            std::string text(token.text.substr(0, 40));
            if (token.text.size() > 40) text += "...";
            return "'" + text + "'";
        }
    }
}

}  // namespace fleet::netfilter::detail
