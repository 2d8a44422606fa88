// fleet shell — the AST dump against golden files (tests/golden/NAME.sh
// and NAME.ast). FSH_UPDATE_GOLDEN=1 rewrites the .ast files.
#include <fleet/shell/dump.hpp>
#include <fleet/shell/parser.hpp>
#include <fleet/test/support.hpp>

#include <cstdlib>
#include <filesystem>

using namespace fleet::shell;

TEST_CASE("dump_ast matches the golden files")
{
    std::filesystem::path dir = FLEET_SHELL_GOLDEN;
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".sh") continue;
        auto program = parse(fleet::test::read_file(entry.path()));
        REQUIRE(program);
        std::string text = dump_ast(*program);
        auto golden = std::filesystem::path(entry.path()).replace_extension(".ast");
        if (std::getenv("FSH_UPDATE_GOLDEN")) fleet::test::write_file(golden, text);
        INFO(entry.path());
        CHECK(text == fleet::test::read_file(golden));
        ++checked;
    }
    CHECK(checked >= 3);
}

TEST_CASE("the dump escapes control bytes and keeps one node a line")
{
    auto program = parse("echo 'a\nb\x01'");
    REQUIRE(program);
    CHECK(fleet::test::contains(dump_ast(*program), "literal 1:6 quoted \"a\\nb\\x01\"\n"));
}
