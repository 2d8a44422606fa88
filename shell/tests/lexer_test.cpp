// fleet shell — lexer: token kinds, operators, IO_NUMBER, positions, word parts.
#include <fleet/shell/lexer.hpp>
#include <fleet/test/support.hpp>

using namespace fleet::shell;

namespace {

std::vector<Token> tokens(std::string_view text)
{
    auto t = tokenize(text);
    REQUIRE(t);
    return *t;
}

}  // namespace

TEST_CASE("operators are taken greedily")
{
    auto t = tokens("a&&b||c;;d<<-E >>f 2>&1 <>g >|h");
    std::vector<std::string> texts;
    for (const auto& tok : t) texts.push_back(tok.text);
    CHECK(texts == std::vector<std::string>{"a", "&&", "b", "||", "c", ";;", "d", "<<-", "E", ">>", "f", "2", ">&", "1",
                                            "<>", "g", ">|", "h", ""});
    CHECK(t[11].kind == TokenKind::io_number);
    CHECK(t.back().kind == TokenKind::end);
}

TEST_CASE("a number not followed by a redirection is a word")
{
    auto t = tokens("echo 2 > x");
    CHECK(t[1].kind == TokenKind::word);
    auto u = tokens("echo 2>x");
    CHECK(u[1].kind == TokenKind::io_number);
}

TEST_CASE("tokens carry line and column")
{
    auto t = tokens("echo a\n  foo 'b'\n");
    CHECK(t[0].pos.line == 1);
    CHECK(t[1].pos.column == 6);
    CHECK(t[3].pos.line == 2);
    CHECK(t[3].pos.column == 3);
    CHECK(t[4].pos.column == 7);
}

TEST_CASE("comments run to the end of the line; # inside a word is literal")
{
    auto t = tokens("a#b # c d\ne");
    REQUIRE(t.size() == 4);
    CHECK(t[0].text == "a#b");
    CHECK(t[1].kind == TokenKind::newline);
    CHECK(t[2].text == "e");
}

TEST_CASE("quoting marks parts quoted and words not plain")
{
    auto t = tokens("plain 'sq' \"dq $x\" a\\ b");
    CHECK(t[0].plain);
    CHECK_FALSE(t[1].plain);
    REQUIRE(t[1].word.parts.size() == 1);
    CHECK(t[1].word.parts[0].quoted);
    CHECK(t[1].word.parts[0].text == "sq");
    const auto& dq = t[2].word.parts;
    REQUIRE(dq.size() == 2);
    CHECK(dq[0].text == "dq ");
    CHECK(dq[1].kind == PartKind::param);
    CHECK(dq[1].quoted);
    CHECK(t[3].word.parts.size() == 3);
}

TEST_CASE("parameter operators are recognised")
{
    auto t = tokens("${x:-d} ${y#p} ${z%%s} ${#w} ${#} ${10}");
    CHECK(t[0].word.parts[0].op == ParamOp::use_default);
    CHECK(t[0].word.parts[0].colon);
    CHECK(t[1].word.parts[0].op == ParamOp::remove_small_prefix);
    CHECK(t[2].word.parts[0].op == ParamOp::remove_large_suffix);
    CHECK(t[3].word.parts[0].op == ParamOp::length);
    CHECK(t[3].word.parts[0].text == "w");
    CHECK(t[4].word.parts[0].text == "#");
    CHECK(t[5].word.parts[0].text == "10");
}

TEST_CASE("command substitution and arithmetic nest")
{
    auto t = tokens("$(echo $(echo a) \")\") $((1 + (2 * 3))) `echo b`");
    REQUIRE(t.size() == 4);
    CHECK(t[0].word.parts[0].kind == PartKind::command);
    CHECK(t[1].word.parts[0].kind == PartKind::arith);
    CHECK(t[2].word.parts[0].backquote);
}

TEST_CASE("a here-document body is read after the newline")
{
    Source src{"cat <<E; echo\nbody $x\nE\nnext\n", 0, {}};
    Lexer lexer(src);
    std::vector<Token> t;
    auto doc = std::make_shared<HereDoc>();
    doc->delimiter = "E";
    for (int i = 0; i < 3; ++i) t.push_back(*lexer.next());
    lexer.add_heredoc(doc);
    auto semi = lexer.next();
    auto echo = lexer.next();
    auto nl = lexer.next();
    REQUIRE(nl);
    CHECK(nl->kind == TokenKind::newline);
    REQUIRE(doc->body.parts.size() == 3);
    CHECK(doc->body.parts[0].text == "body ");
    CHECK(doc->body.parts[1].text == "x");
    CHECK(lexer.next()->text == "next");
}

TEST_CASE("unterminated quotes are incomplete errors with the quote's position")
{
    for (const char* text : {"echo 'abc", "echo \"abc", "echo `abc", "echo $(abc", "echo ${x", "echo $((1"}) {
        auto t = tokenize(text);
        INFO(text);
        REQUIRE_FALSE(t);
        CHECK(t.error().incomplete);
        if (std::string_view(text).find("$(") == std::string_view::npos) CHECK(t.error().pos.column == 6);
    }
}

TEST_CASE("bad substitutions are errors, not incomplete")
{
    auto t = tokenize("echo ${x!y}");
    REQUIRE_FALSE(t);
    CHECK_FALSE(t.error().incomplete);
    CHECK(t.error().message == "bad substitution");
}

TEST_CASE("deep nesting is refused, not a stack overflow")
{
    std::string deep;
    for (int i = 0; i < 5000; ++i) deep += "${x:-";
    auto t = tokenize(deep);
    REQUIRE_FALSE(t);
    CHECK(t.error().message == "nesting too deep");
}

TEST_CASE("a NUL byte is part of a word, not the end of the text")
{
    auto t = tokens(std::string_view("a\0b c", 5));
    REQUIRE(t.size() == 3);
    CHECK(t[0].text == std::string("a\0b", 3));
}
