// fleet shell — pattern matching and pathname expansion.
#include <fleet/shell/pattern.hpp>
#include <fleet/test/support.hpp>

using namespace fleet::shell;

namespace {

bool match(std::string_view p, std::string_view s)
{
    return pattern_match(Pattern::unquoted(p), s);
}

}  // namespace

TEST_CASE("* ? and brackets")
{
    CHECK(match("*", ""));
    CHECK(match("a*c", "abbbc"));
    CHECK_FALSE(match("a*c", "abbbd"));
    CHECK(match("*.tar.*", "x.tar.gz"));
    CHECK(match("?", "x"));
    CHECK_FALSE(match("?", ""));
    CHECK(match("[abc]x", "bx"));
    CHECK(match("[!abc]x", "dx"));
    CHECK_FALSE(match("[^abc]x", "ax"));
    CHECK(match("[a-z][0-9]", "q7"));
    CHECK(match("[]]", "]"));
    CHECK(match("[[:digit:]]*", "7up"));
    CHECK_FALSE(match("[[:alpha:]]", "1"));
    CHECK(match("[ab", "[ab"));  // no closing bracket: literal
    CHECK(match("*a*b*c*", "xxaxxbxxcxx"));
}

TEST_CASE("quoted characters are literal")
{
    Pattern p{"*x", {true, false}};
    CHECK(pattern_match(p, "*x"));
    CHECK(pattern_match(p,
                        "*"
                        "yx") == false);
    CHECK_FALSE(has_glob_chars(Pattern::literal("a*b")));
    CHECK(has_glob_chars(Pattern::unquoted("a*b")));
    CHECK(pattern_match(Pattern::literal("[a]"), "[a]"));
}

TEST_CASE("globbing lists matching paths, sorted, hiding dot files")
{
    fleet::test::TempDir dir;
    for (const char* f : {"b.txt", "a.txt", "c.log", ".hidden.txt", "sub/x.c", "sub/y.h"}) {
        fleet::test::write_file(dir / f, "");
    }
    auto g = [&](const std::string& p) { return glob_paths(Pattern::unquoted(dir.path() + "/" + p)); };
    CHECK(g("*.txt") == std::vector<std::string>{dir / "a.txt", dir / "b.txt"});
    CHECK(g(".*.txt") == std::vector<std::string>{dir / ".hidden.txt"});
    CHECK(g("*/*.c") == std::vector<std::string>{dir / "sub/x.c"});
    CHECK(g("su?/") == std::vector<std::string>{dir / "sub/"});
    CHECK(g("*.none").empty());
    CHECK(glob_paths(Pattern::literal(dir / "a.txt")).empty());  // nothing to expand
}
