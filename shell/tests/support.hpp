// fleet shell tests — a shell with a fake runner, and output capture.
#pragma once

#include <fleet/shell/parser.hpp>
#include <fleet/shell/shell.hpp>
#include <fleet/test/support.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace fleet::shell::test {

// Records every command it is asked to start; each "runs" as a child that
// prints "fake:ARGV..." on its stdout and exits with the status the test set.
class FakeRunner : public CommandRunner {
public:
    std::vector<CommandSpec> started;
    int exit_status = 0;

    Result<pid_t> start(const CommandSpec& spec) override
    {
        started.push_back(spec);
        pid_t pid = ::fork();
        if (pid == 0) {
            std::string line = "fake:";
            for (const auto& a : spec.argv) line += " " + a;
            line += "\n";
            ssize_t n = ::write(1, line.data(), line.size());
            (void)n;
            ::_exit(exit_status);
        }
        return pid;
    }
};

// Every name resolves to "/fake/NAME".
class FakeResolver : public CommandResolver {
public:
    std::optional<std::string> resolve(const std::string& name, const std::string&) override
    {
        if (name.starts_with("missing")) return std::nullopt;
        return "/fake/" + name;
    }
};

struct Run {
    int status;
    std::string out;
    std::string err;
};

// A fresh shell on the fakes (or the given runner), running text with fds 1
// and 2 captured.
class TestShell {
public:
    FakeRunner runner;
    FakeResolver resolver;
    Shell sh;

    explicit TestShell(std::vector<std::string> args = {}) : sh(settings(args)) {}

    Run run(const std::string& text)
    {
        int out = ::memfd_create("out", MFD_CLOEXEC), err = ::memfd_create("err", MFD_CLOEXEC);
        int saved_out = ::fcntl(1, F_DUPFD_CLOEXEC, 10), saved_err = ::fcntl(2, F_DUPFD_CLOEXEC, 10);
        ::dup2(out, 1);
        ::dup2(err, 2);
        int status = sh.run_main(text, "test");
        ::dup2(saved_out, 1);
        ::dup2(saved_err, 2);
        ::close(saved_out);
        ::close(saved_err);
        Run r{status, slurp(out), slurp(err)};
        ::close(out);
        ::close(err);
        return r;
    }

private:
    Shell::Settings settings(std::vector<std::string> args)
    {
        Shell::Settings s;
        s.runner = &runner;
        s.resolver = &resolver;
        s.arg0 = "test";
        s.args = std::move(args);
        return s;
    }

    static std::string slurp(int fd)
    {
        std::string s;
        ::lseek(fd, 0, SEEK_SET);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
        return s;
    }
};

}  // namespace fleet::shell::test
