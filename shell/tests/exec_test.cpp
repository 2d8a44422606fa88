// fleet shell — the executor against a fake runner: what reaches the
// runner, statuses, lookup order, builtins, control flow.
#include "support.hpp"

#include <regex>
#include <string>

using namespace fleet::shell;
using fleet::shell::test::TestShell;

TEST_CASE("commands go to the runner with the resolver's program, argv and environment")
{
    TestShell t;
    t.sh.set("EXPORTED", "e");
    t.sh.export_var("EXPORTED");
    t.sh.set("PRIVATE", "p");
    auto r = t.run("ONE=1 cmd a 'b c'");
    CHECK(r.status == 0);
    CHECK(r.out == "fake: cmd a b c\n");
    REQUIRE(t.runner.started.size() == 1);
    const auto& spec = t.runner.started[0];
    CHECK(spec.program == "/fake/cmd");
    CHECK(spec.argv == std::vector<std::string>{"cmd", "a", "b c"});
    auto has = [&](const std::string& e) { return std::find(spec.env.begin(), spec.env.end(), e) != spec.env.end(); };
    CHECK(has("ONE=1"));
    CHECK(has("EXPORTED=e"));
    CHECK_FALSE(has("PRIVATE=p"));
    CHECK(spec.process_group == -1);  // no job control in a script
    CHECK_FALSE(t.sh.get("ONE"));     // the assignment was the command's only
}

TEST_CASE("an unresolved name is 127, command not found")
{
    TestShell t;
    auto r = t.run("missing_thing arg; echo $?");
    CHECK(r.out == "127\n");
    CHECK(r.err == "fsh: missing_thing: command not found\n");
    CHECK(t.runner.started.empty());
}

TEST_CASE("the runner's exit status becomes $?")
{
    TestShell t;
    t.runner.exit_status = 7;
    auto r = t.run("cmd; echo $?; cmd | cmd; echo $?; ! cmd; echo $?");
    CHECK(r.out == "fake: cmd\n7\nfake: cmd\n7\nfake: cmd\n0\n");  // the first cmd of the pipe writes into the second
}

TEST_CASE("functions shadow builtins and commands; special builtins shadow functions")
{
    TestShell t;
    auto r = t.run(
        "echo() { printf 'fn %s\\n' \"$1\"; }; echo hi; cmd() { printf 'cmd fn\\n'; }; cmd; "
        "set() { printf 'never\\n'; }; set -- a; printf '%s\\n' \"$1\"");
    CHECK(r.out == "fn hi\ncmd fn\na\n");
    CHECK(t.runner.started.empty());
}

TEST_CASE("builtin output follows redirections, and they are undone afterwards")
{
    fleet::test::TempDir dir;
    TestShell t;
    auto r = t.run("echo to-file > " + (dir / "f") + "; echo to-stdout; echo err >&2");
    CHECK(fleet::test::read_file(dir / "f") == "to-file\n");
    CHECK(r.out == "to-stdout\n");
    CHECK(r.err == "err\n");
}

TEST_CASE("source is ., and hash checks that names resolve")
{
    fleet::test::TempDir dir;
    fleet::test::write_file(dir / "lib.sh", "LIBVAR=\"from $1\"\n");
    TestShell t;
    auto r = t.run("source " + (dir / "lib.sh") +
                   " arg; echo \"$LIBVAR\"; hash echo grep; echo $?; hash missing_x; echo $?");
    CHECK(r.out == "from arg\n0\n1\n");
    CHECK(r.err.find("hash: missing_x: not found") != std::string::npos);
}

TEST_CASE("time: a pipeline's real, user and sys times on stderr, its status kept")
{
    const std::string bash_form = R"(\nreal\t0m0\.\d{3}s\nuser\t0m0\.\d{3}s\nsys\t0m0\.\d{3}s\n)";
    const std::string posix_form = R"(real 0\.\d\d\nuser 0\.\d\d\nsys 0\.\d\d\n)";
    TestShell t;
    auto r = t.run("time false; echo $?; time ! false; echo $?");
    CHECK(r.out == "1\n0\n");
    CHECK(std::regex_match(r.err, std::regex(bash_form + bash_form)));
    r = t.run("time -p :; time");
    CHECK(std::regex_match(r.err, std::regex(posix_form + bash_form)));
    // Its own output goes where the shell's stderr goes, not the command's.
    r = t.run("time : 2>/dev/null");
    CHECK(std::regex_match(r.err, std::regex(bash_form)));
    r = t.run("{ time :; } 2>/dev/null; echo done");
    CHECK(r.err.empty());
    CHECK(r.out == "done\n");
    r = t.run("type time; command -v time");
    CHECK(r.out == "time is a shell keyword\ntime\n");
    // An alias may give it, as in bash; one named time replaces it.
    r = t.run("alias t='time -p'\nt :");
    CHECK(std::regex_match(r.err, std::regex(posix_form)));
    r = t.run("alias time=echo\ntime -p x");
    CHECK(r.out == "-p x\n");
    CHECK(r.err.empty());
}

TEST_CASE("getopts keeps its place in a word only while the word is still there")
{
    // set -- starts getopts over at the first argument, as dash does.
    TestShell t;
    auto r = t.run(
        "set -- -abc; getopts abc o; echo $o $OPTIND; set -- -x; getopts abcx o; echo $o $OPTIND $?; "
        "OPTIND=1; getopts abcx o; echo $o $OPTIND");
    CHECK(r.out == "a 2\nx 2 0\nx 2\n");
    // OPTIND set after set --: there, never mid-way into the old word.
    r = t.run("set -- -abc; getopts abc o; set -- -x; OPTIND=3; getopts abcx o; echo $o $OPTIND $?");
    CHECK(r.out == "? 3 1\n");
}

TEST_CASE("without router support, routers and router say so; ps lists no job VMs")
{
    for (const char* cmd : {"routers", "router x"}) {
        TestShell t;  // no RouterSession: what a library user gets without one
        auto r = t.run(cmd);
        INFO(cmd);
        CHECK(r.status == 1);
        CHECK(fleet::test::contains(r.err, "no router"));
    }
    TestShell t;
    auto r = t.run("ps");
    CHECK(r.status == 0);
    CHECK(r.out == "JOB  NAME  STATE  IMAGE\n");
    CHECK(t.run("ps -x").status == 2);
}

TEST_CASE("images prints the resolver's listing, and fails where there is none")
{
    TestShell t;  // the fake resolver has no catalog
    auto r = t.run("images");
    CHECK(r.status == 1);
    CHECK(fleet::test::contains(r.err, "no image catalog"));
    CHECK(t.run("images extra").status == 2);
}

TEST_CASE("control flow: loops, break, continue, return, exit and its trap")
{
    TestShell t;
    auto r = t.run(
        "for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done\n"
        "f() { return 4; echo no; }; f; echo f=$?\n"
        "trap 'echo bye $?' EXIT; exit 9; echo never");
    CHECK(r.out == "1\n3\nf=4\nbye 9\n");
    CHECK(r.status == 9);
}

TEST_CASE("set -e ends the script at a failing command, not in conditions")
{
    TestShell t;
    t.runner.exit_status = 3;
    auto r = t.run("set -e; cmd || echo handled; if cmd; then :; fi; cmd; echo never");
    CHECK(r.out == "fake: cmd\nhandled\nfake: cmd\nfake: cmd\n");
    CHECK(r.status == 3);
}

TEST_CASE("syntax errors are reported with the source name and position")
{
    TestShell t;
    auto r = t.run("echo ok\nif then\n");
    CHECK(r.out == "ok\n");
    CHECK(r.err == "fsh: test:2:4: syntax error: unexpected 'then' (expected a command)\n");
    CHECK(r.status == 2);
}

TEST_CASE("local variables and positional parameters belong to the call")
{
    TestShell t({"outer"});
    auto r = t.run("v=global; f() { local v=inner; echo \"$v $1 $#\"; }; f a b; echo \"$v $1 $#\"");
    CHECK(r.out == "inner a 2\nglobal outer 1\n");
}

TEST_CASE("eval, printf and read work together")
{
    TestShell t;
    auto r = t.run("eval 'x=$((6*7))'; printf '%s-%03d\\n' \"$x\" 5; echo 'a b c' | { read p q; echo \"$q\"; }");
    CHECK(r.out == "42-005\nb c\n");
}

TEST_CASE("background jobs and wait")
{
    TestShell t;
    t.runner.exit_status = 5;
    auto r = t.run("cmd & wait $!; echo $?; jobs");
    CHECK(r.out == "fake: cmd\n5\n");
}
