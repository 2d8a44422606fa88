// fleet shell — word expansion through a real shell state (fake runner).
#include "support.hpp"

#include <fleet/shell/expand.hpp>

using namespace fleet::shell;
using fleet::shell::test::TestShell;

namespace {

std::vector<std::string> fields(Shell& sh, const std::string& words)
{
    auto p = parse("x " + words);
    REQUIRE(p);
    const auto& s = std::get<SimpleCommand>(p->items.at(0).and_or.pipelines.at(0).commands.at(0)->node);
    std::vector<Word> w(s.words.begin() + 1, s.words.end());
    return expand_fields(sh, w);
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("parameters and their operators")
{
    TestShell t;
    Shell& sh = t.sh;
    sh.set("s", "value");
    sh.set("e", "");
    sh.set("p", "/a/b/c.tar.gz");
    CHECK(fields(sh, "${u-d} ${u:-d} ${e-d} ${e:-d} ${s:-d}") == V{"d", "d", "d", "value"});
    CHECK(fields(sh, "${u+a} ${e+a} ${e:+a} ${s:+a}") == V{"a", "a"});
    CHECK(fields(sh, "${u=set} $u") == V{"set", "set"});
    CHECK(fields(sh, "${p#*/} ${p##*/} ${p%.*} ${p%%.*}") == V{"a/b/c.tar.gz", "c.tar.gz", "/a/b/c.tar", "/a/b/c"});
    CHECK(fields(sh, "${#p} ${#e}") == V{"13", "0"});
    CHECK(fields(sh, "\"${p#\"/a\"}\"") == V{"/b/c.tar.gz"});
}

TEST_CASE("special parameters")
{
    TestShell t({"one", "two words"});
    Shell& sh = t.sh;
    sh.last_status = 3;
    CHECK(fields(sh, "$# $? $0") == V{"2", "3", "test"});
    CHECK(fields(sh, "\"$@\"") == V{"one", "two words"});
    CHECK(fields(sh, "$@") == V{"one", "two", "words"});
    CHECK(fields(sh, "\"$*\"") == V{"one two words"});
    CHECK(fields(sh, "\"x$@y\"") == V{"xone", "two wordsy"});
    CHECK(fields(sh, "$1$2") == V{"onetwo", "words"});
    CHECK(fields(sh, "${2} ${3-none}") == V{"two", "words", "none"});
    sh.positional.clear();
    CHECK(fields(sh, "\"$@\"").empty());
    CHECK(fields(sh, "\"\"\"$@\"") == V{""});
}

TEST_CASE("field splitting on IFS")
{
    TestShell t;
    Shell& sh = t.sh;
    sh.set("x", "  a  b  ");
    CHECK(fields(sh, "$x") == V{"a", "b"});
    CHECK(fields(sh, "\"$x\"") == V{"  a  b  "});
    sh.set("IFS", ":");
    sh.set("y", "a::b:");
    CHECK(fields(sh, "$y") == V{"a", "", "b"});
    sh.set("IFS", " :");
    sh.set("y", " : a : b");
    CHECK(fields(sh, "$y") == V{"", "a", "b"});
    sh.set("IFS", "");
    sh.set("y", "a b");
    CHECK(fields(sh, "$y") == V{"a b"});
    sh.set("e", "");
    CHECK(fields(sh, "$e \"$e\" ''") == V{"", ""});
}

TEST_CASE("arithmetic and command substitution in words")
{
    TestShell t;
    Shell& sh = t.sh;
    sh.set("n", "4");
    CHECK(fields(sh, "$((n * 2 + 1)) $(( $n ))") == V{"9", "4"});
    CHECK(fields(sh, "\"$(echo a; echo; echo)\"") == V{"a"});
    CHECK(fields(sh, "$(echo 'x  y')") == V{"x", "y"});
    CHECK(fields(sh, "`echo bq`") == V{"bq"});
}

TEST_CASE("tilde")
{
    TestShell t;
    t.sh.set("HOME", "/home/me");
    CHECK(fields(t.sh, "~ ~/x '~' a~") == V{"/home/me", "/home/me/x", "~", "a~"});
}

TEST_CASE("expansion errors end a script with a message")
{
    TestShell t;
    auto r = t.run("echo ${u:?is missing}; echo after");
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "fsh: u: is missing\n");
    TestShell u;
    r = u.run("set -u; echo $nope");
    CHECK(r.status == 2);
    CHECK(r.err == "fsh: nope: parameter not set\n");
    TestShell a;
    r = a.run("echo $((1/0))");
    CHECK(r.status == 2);
    CHECK(fleet::test::contains(r.err, "division by zero"));
}
