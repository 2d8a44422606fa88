// fleet shell — tab completion: builtins in command position, file names.
#include "line_editor.hpp"

#include <fleet/test/support.hpp>

#include <unistd.h>

TEST_CASE("completion offers builtins first, then files")
{
    fleet::test::TempDir dir;
    fleet::test::write_file(dir / "expfile", "");
    fleet::test::write_file(dir / "sub/inner", "");
    char old[4096];
    REQUIRE(::getcwd(old, sizeof old));
    REQUIRE(::chdir(dir.path().c_str()) == 0);
    std::vector<std::string> names = {"echo", "exit", "export"};
    auto c = fsh::complete("ex", names);
    CHECK(c == std::vector<std::string>{"exit", "expfile", "export"});
    CHECK(fsh::complete("echo ex", names) == std::vector<std::string>{"expfile"});
    CHECK(fsh::complete("cat s", names) == std::vector<std::string>{"sub/"});
    CHECK(fsh::complete("cat sub/i", names) == std::vector<std::string>{"sub/inner"});
    CHECK(fsh::complete("true | ec", names) == std::vector<std::string>{"echo"});
    // After a reserved word that a command follows, names again.
    for (const char* head : {"time ", "time -p ", "if ", "while true; do ", "! ", "{ "})
        CHECK(fsh::complete(std::string(head) + "ec", names) == std::vector<std::string>{"echo"});
    CHECK(fsh::complete("echo time ec", names).empty());  // an argument, only files
    CHECK(fsh::complete("ls -p ec", names).empty());
    REQUIRE(::chdir(old) == 0);
}
