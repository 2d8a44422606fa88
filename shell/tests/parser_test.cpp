// fleet shell — parser: the tree's shape, positions, and syntax errors.
#include <fleet/shell/parser.hpp>
#include <fleet/test/support.hpp>

using namespace fleet::shell;

namespace {

Program must_parse(std::string_view text)
{
    auto p = parse(text);
    INFO(text << " -> " << (p ? std::string("ok") : p.error().message));
    REQUIRE(p);
    return *p;
}

ParseError must_fail(std::string_view text)
{
    auto p = parse(text);
    INFO(text);
    REQUIRE_FALSE(p);
    return p.error();
}

const Command& first_command(const Program& p)
{
    return *p.items.at(0).and_or.pipelines.at(0).commands.at(0);
}

}  // namespace

TEST_CASE("lists, and-or lists and pipelines")
{
    auto p = must_parse("a | b && ! c || d & e; f\ng");
    REQUIRE(p.items.size() == 4);
    const auto& ao = p.items[0].and_or;
    CHECK(p.items[0].async);
    REQUIRE(ao.pipelines.size() == 3);
    CHECK(ao.pipelines[0].commands.size() == 2);
    CHECK(ao.pipelines[1].bang);
    CHECK(ao.ops == std::vector<AndOrOp>{AndOrOp::and_if, AndOrOp::or_if});
    CHECK_FALSE(p.items[1].async);
}

TEST_CASE("assignments before the name, words after")
{
    auto p = must_parse("A=1 B=$x cmd C=3 arg");
    const auto& s = std::get<SimpleCommand>(first_command(p).node);
    REQUIRE(s.assignments.size() == 2);
    CHECK(s.assignments[0].name == "A");
    CHECK(s.assignments[1].value.parts.at(0).kind == PartKind::param);
    CHECK(s.words.size() == 3);
}

TEST_CASE("redirections with and without fd numbers")
{
    auto p = must_parse("cmd <in >out 2>>err 3<&0 4>&- 5<>rw");
    const auto& r = first_command(p).redirects;
    REQUIRE(r.size() == 6);
    CHECK(r[0].op == RedirOp::in);
    CHECK(r[0].fd == -1);
    CHECK(r[2].op == RedirOp::append);
    CHECK(r[2].fd == 2);
    CHECK(r[3].op == RedirOp::dup_in);
    CHECK(r[4].op == RedirOp::dup_out);
    CHECK(r[5].op == RedirOp::read_write);
}

TEST_CASE("compound commands")
{
    auto p = must_parse(
        "if a; then b; elif c; then d; else e; fi\n"
        "while a; do b; done\nuntil a; do b; done\n"
        "for x in 1 2; do b; done\nfor y; do :; done\n"
        "case $z in a|b) x;; (c) ;; *) y; esac\n"
        "{ a; } > f\n( a )\nf() { a; }\n");
    REQUIRE(p.items.size() == 9);
    auto cmd = [&](int i) -> const Command& {
        return *p.items[static_cast<std::size_t>(i)].and_or.pipelines[0].commands[0];
    };
    const auto& i = std::get<IfClause>(cmd(0).node);
    CHECK(i.branches.size() == 2);
    CHECK(i.else_body.has_value());
    CHECK_FALSE(std::get<LoopClause>(cmd(1).node).until);
    CHECK(std::get<LoopClause>(cmd(2).node).until);
    CHECK(std::get<ForClause>(cmd(3).node).words.size() == 2);
    CHECK_FALSE(std::get<ForClause>(cmd(4).node).has_in);
    const auto& c = std::get<CaseClause>(cmd(5).node);
    REQUIRE(c.items.size() == 3);
    CHECK(c.items[0].patterns.size() == 2);
    CHECK(c.items[1].body.items.empty());
    CHECK(cmd(6).redirects.size() == 1);
    CHECK(std::holds_alternative<Subshell>(cmd(7).node));
    CHECK(std::get<FunctionDef>(cmd(8).node).name == "f");
}

TEST_CASE("reserved words are reserved only in command position")
{
    auto p = must_parse("echo if then fi done");
    CHECK(std::get<SimpleCommand>(first_command(p).node).words.size() == 5);
    must_parse("'if' true");  // quoted: an ordinary command name
}

TEST_CASE("time is reserved at a pipeline's start only")
{
    auto p = must_parse("time -p ! a | b; time; time c 2>f; echo time; d | time e; time=1 f; 'time' g");
    auto pipeline = [&](std::size_t i) -> const Pipeline& { return p.items.at(i).and_or.pipelines.at(0); };
    CHECK(pipeline(0).timed == Timed::posix);
    CHECK(pipeline(0).bang);
    CHECK(pipeline(0).commands.size() == 2);
    CHECK(pipeline(1).timed == Timed::yes);  // bare: no command
    CHECK(pipeline(1).commands.empty());
    CHECK(pipeline(2).timed == Timed::yes);
    CHECK(std::get<SimpleCommand>(pipeline(2).commands.at(0)->node).words.size() == 1);
    for (std::size_t i : {3, 4, 5, 6}) {
        INFO(i);
        CHECK(pipeline(i).timed == Timed::no);
    }
    CHECK(std::get<SimpleCommand>(pipeline(4).commands.at(1)->node).words.at(0).raw == "time");
    CHECK(pipeline(6).commands.size() == 1);
    // Before a compound command, a redirection, and bare at a list's end.
    CHECK(must_parse("time { a; }").items.at(0).and_or.pipelines.at(0).timed == Timed::yes);
    CHECK(must_parse("time >f a").items.at(0).and_or.pipelines.at(0).commands.size() == 1);
    CHECK(must_parse("if time; then :; fi").items.size() == 1);
    CHECK(must_parse("a && time").items.at(0).and_or.pipelines.at(1).commands.empty());
    must_fail("time |");
}

TEST_CASE("nodes carry positions")
{
    auto p = must_parse("echo a\n  if true; then\n    x=1 cmd\n  fi\n");
    CHECK(p.items[1].and_or.pos.line == 2);
    CHECK(p.items[1].and_or.pos.column == 3);
    const auto& i = std::get<IfClause>(p.items[1].and_or.pipelines[0].commands[0]->node);
    const auto& inner = *i.branches[0].body.items[0].and_or.pipelines[0].commands[0];
    CHECK(inner.pos.line == 3);
    CHECK(inner.pos.column == 5);
    const auto& s = std::get<SimpleCommand>(inner.node);
    CHECK(s.words[0].pos.column == 9);
}

TEST_CASE("syntax errors name line and column")
{
    auto e = must_fail("echo a\nif true; then\n  b; fi fi\n");
    CHECK(e.pos.line == 3);
    CHECK(e.pos.column == 9);
    CHECK(format_parse_error(e, "script.sh") == "script.sh:3:9: syntax error: unexpected 'fi'");
    CHECK(must_fail("if true; then\nfi").message == "unexpected 'fi' (expected a command)");
    CHECK(must_fail("a | | b").pos.column == 5);
    CHECK(must_fail(";").message == "unexpected ';'");
    CHECK(must_fail("f() echo").message.starts_with("unexpected 'echo'"));
    CHECK(must_fail("for 1 in a; do :; done").message.starts_with("unexpected '1'"));
    CHECK(must_fail("case a in a) b;; c) d e").incomplete);
    CHECK_FALSE(must_fail("echo )").incomplete);
}

TEST_CASE("missing closers are incomplete (an interactive shell asks for more)")
{
    for (const char* text :
         {"if true; then", "while :; do", "{ a;", "( a", "a &&", "a |", "cat <<E\nbody", "case x in"}) {
        INFO(text);
        CHECK(must_fail(text).incomplete);
    }
}

TEST_CASE("next_command parses one line at a time")
{
    Parser parser("echo 1\necho 2; echo 3\nfi\n");
    auto one = parser.next_command();
    REQUIRE(one);
    REQUIRE(*one);
    CHECK((*one)->items.size() == 1);
    auto two = parser.next_command();
    REQUIRE(two);
    CHECK((*two)->items.size() == 2);
    auto bad = parser.next_command();
    REQUIRE_FALSE(bad);
    CHECK(bad.error().pos.line == 3);
}

TEST_CASE("here-document delimiters: quoting turns expansion off")
{
    auto p = must_parse("cat <<'E' <<-\"F\" <<G\n$x\nE\n\t$y\n\tF\n$z\nG\n");
    const auto& r = first_command(p).redirects;
    REQUIRE(r.size() == 3);
    CHECK_FALSE(r[0].here->expand);
    CHECK(r[0].here->body.parts.at(0).text == "$x\n");
    CHECK(r[1].here->strip_tabs);
    CHECK(r[1].here->body.parts.at(0).text == "$y\n");
    CHECK(r[2].here->expand);
    CHECK(r[2].here->body.parts.at(0).kind == PartKind::param);
}

TEST_CASE("aliases: substituted in command position, bounded, errors at the alias's word")
{
    Aliases aliases = {
        {"ll", "ls -l"}, {"grow", "grow2 grow2 "}, {"grow2", "grow grow "}, {"q", "echo 'open"}, {"e", "echo "}};
    auto words_of = [&](std::string_view text) {
        Parser parser(text, &aliases);
        auto c = parser.next_command();
        REQUIRE(c);
        REQUIRE(*c);
        const auto& simple = std::get<SimpleCommand>((*c)->items.at(0).and_or.pipelines.at(0).commands.at(0)->node);
        std::vector<std::string> out;
        for (const auto& w : simple.words) out.push_back(w.parts.at(0).text);
        return out;
    };
    CHECK(words_of("ll /tmp") == std::vector<std::string>{"ls", "-l", "/tmp"});
    CHECK(words_of("echo ll") == std::vector<std::string>{"echo", "ll"});     // not in command position
    CHECK(words_of("e ll") == std::vector<std::string>{"echo", "ls", "-l"});  // after a value ending in a blank
    CHECK(words_of("'ll'") == std::vector<std::string>{"ll"});                // quoted: never an alias
    // Each alias stops at itself, so this grows a little and ends.
    CHECK(words_of("grow x").size() < 20);
    Parser open("q\necho next\n", &aliases);
    auto bad = open.next_command();
    REQUIRE_FALSE(bad);
    CHECK(bad.error().pos.line == 1);
    CHECK(bad.error().message.find("in alias q") != std::string::npos);
}
