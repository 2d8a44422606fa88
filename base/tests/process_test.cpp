// Starting and inspecting processes: spawn, reap, find_program, /proc.
#include <fleet/test/support.hpp>

#include <fleet/base/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace fleet;
using fleet::Fd;
using fleet::test::contains;
using namespace std::chrono_literals;

namespace {

Child start(std::vector<std::string> argv, std::vector<std::pair<int, int>> pass = {}, int out = -1)
{
    SpawnOptions o;
    o.argv = std::move(argv);
    o.pass_fds = std::move(pass);
    o.stdout_fd = out;
    auto c = spawn(o);
    INFO((c ? std::string() : c.error().what()));
    REQUIRE(c);
    return std::move(*c);
}

struct Pipe {
    Fd r, w;
};

Pipe make_pipe()
{
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    return {Fd(p[0]), Fd(p[1])};
}

std::string read_all(int fd)
{
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

// Spawn o with its stdout on a pipe; all it printed, once it has ended.
std::string stdout_of(SpawnOptions o)
{
    Pipe out = make_pipe();
    o.stdout_fd = out.w.get();
    auto c = spawn(o);
    REQUIRE(c);
    out.w.reset();
    std::string printed = read_all(out.r.get());
    REQUIRE(reap(*c));
    return printed;
}

// A child that waits until the parent closes go's write end, then exits 0;
// `name`: its thread name, if given.
pid_t fork_waiting(Pipe& go, const char* name = nullptr)
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        go.w.reset();
        if (name) ::pthread_setname_np(::pthread_self(), name);
        char c;
        (void)!::read(go.r.get(), &c, 1);
        ::_exit(0);
    }
    return pid;
}

}  // namespace

TEST_CASE("process: exit codes come back through reap", "[process]")
{
    Child c = start({"/bin/sh", "-c", "exit 3"});
    CHECK(c.pid > 0);
    REQUIRE(c.pidfd);
    // The pidfd becomes readable when it exits.
    pollfd p{c.pidfd.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    auto s = reap(c);
    REQUIRE(s);
    CHECK_FALSE(s->signaled);
    CHECK(s->code == 3);

    Child ok = start({"/bin/true"});
    auto s0 = reap(ok);
    REQUIRE(s0);
    CHECK(s0->code == 0);
    // Reaped once: a second reap is an error, not a hang.
    auto again = reap(ok);
    REQUIRE_FALSE(again);
    CHECK(again.error().sys_errno == ECHILD);
}

TEST_CASE("process: a signal death", "[process]")
{
    Child c = start({"/bin/sh", "-c", "kill -KILL $$"});
    auto s = reap(c);
    REQUIRE(s);
    CHECK(s->signaled);
    CHECK(s->code == SIGKILL);
}

TEST_CASE("process: spawn failures are errors, not children", "[process]")
{
    SpawnOptions o;
    auto empty = spawn(o);
    REQUIRE_FALSE(empty);
    CHECK(contains(empty.error().message, "nothing to run"));

    o.argv = {"/nonexistent/program", "x"};
    auto missing = spawn(o);
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().message, "cannot run '/nonexistent/program'"));
    CHECK(missing.error().sys_errno == ENOENT);

    fleet::test::TempDir tmp;
    fleet::test::write_file(tmp / "plain.txt", "not a program\n");
    o.argv = {tmp / "plain.txt"};  // not executable
    auto noexec = spawn(o);
    REQUIRE_FALSE(noexec);
    CHECK(noexec.error().sys_errno == EACCES);

    o.argv = {"/bin/true"};
    o.pass_fds = {{1, 2}};  // may not land on stdio
    CHECK_FALSE(spawn(o));
    o.pass_fds = {{1, 200}};
    CHECK_FALSE(spawn(o));
    o.pass_fds = {{-1, 5}};
    CHECK_FALSE(spawn(o));

    // No zombie is left behind by a failed exec.
    errno = 0;
    CHECK(::waitpid(-1, nullptr, WNOHANG) <= 0);
}

TEST_CASE("process: pass_fds lands an fd at its number in the child", "[process]")
{
    Pipe p = make_pipe();
    Child c = start({"/bin/sh", "-c", "echo hi >&5"}, {{p.w.get(), 5}});
    p.w.reset();
    CHECK(read_all(p.r.get()) == "hi\n");
    auto s = reap(c);
    REQUIRE(s);
    CHECK(s->code == 0);
}

TEST_CASE("process: passed fds may swap places", "[process]")
{
    // Parent fd a goes to b's number and the other way round: the lift to
    // 200+ keeps one from clobbering the other.
    Pipe x = make_pipe(), y = make_pipe();
    int want_x = y.w.get(), want_y = x.w.get();
    std::string script = "echo to-x >&" + std::to_string(want_x) + "; echo to-y >&" + std::to_string(want_y);
    Child c = start({"/bin/sh", "-c", script}, {{x.w.get(), want_x}, {y.w.get(), want_y}});
    x.w.reset();
    y.w.reset();
    CHECK(read_all(x.r.get()) == "to-x\n");
    CHECK(read_all(y.r.get()) == "to-y\n");
    REQUIRE(reap(c));
}

TEST_CASE("process: stdio and what the child does not inherit", "[process]")
{
    Pipe out = make_pipe();
    Pipe secret = make_pipe();  // close-on-exec, not passed
    std::string script = "read line; echo \"[$line]\"; ls /proc/self/fd | sort -n | tr '\\n' ' '";
    Child c = start({"/bin/sh", "-c", script}, {}, out.w.get());
    out.w.reset();
    std::string got = read_all(out.r.get());
    REQUIRE(reap(c));
    // stdin was /dev/null: read gets nothing.
    CHECK(got.starts_with("[]\n"));
    // Only 0, 1, 2 and the fd ls opened for the listing.
    CHECK_FALSE(contains(got, " " + std::to_string(secret.r.get()) + " "));
}

TEST_CASE("process: env sets variables in the child, replacing the inherited ones", "[process]")
{
    ::setenv("FLEET_SPAWN_TEST_A", "inherited", 1);
    ::setenv("FLEET_SPAWN_TEST_B", "kept", 1);
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "env | grep '^FLEET_SPAWN_TEST_' | sort | tr '\\n' ' '"};
    o.env = {"FLEET_SPAWN_TEST_A=set", "FLEET_SPAWN_TEST_C=new"};
    std::string got = stdout_of(o);
    CHECK(got == "FLEET_SPAWN_TEST_A=set FLEET_SPAWN_TEST_B=kept FLEET_SPAWN_TEST_C=new ");
    ::unsetenv("FLEET_SPAWN_TEST_A");
    ::unsetenv("FLEET_SPAWN_TEST_B");

    o.env = {"NOT_AN_ASSIGNMENT"};
    auto bad = spawn(o);
    REQUIRE_FALSE(bad);
    CHECK(contains(bad.error().what(), "NAME=VALUE"));
}

TEST_CASE("process: find_program", "[process]")
{
    auto sh = find_program("sh");
    REQUIRE(sh);
    CHECK(sh->ends_with("/sh"));
    CHECK(::access(sh->c_str(), X_OK) == 0);
    CHECK(find_program("/bin/sh").value() == "/bin/sh");
    auto none = find_program("fleet-no-such-program-anywhere");
    REQUIRE_FALSE(none);
    CHECK(contains(none.error().message, "not found in PATH"));
    fleet::test::TempDir tmp;
    fleet::test::write_file(tmp / "plain.txt", "not a program\n");
    auto not_exec = find_program(tmp / "plain.txt");
    REQUIRE_FALSE(not_exec);
    CHECK(contains(not_exec.error().message, "cannot be executed"));
}

TEST_CASE("process: proc_info of this process", "[process]")
{
    auto me = proc_info(::getpid());
    REQUIRE(me);
    CHECK(me->state == 'R');
    CHECK(me->start_time > 0);
    CHECK(me->rss_kib > 0);
    CHECK(process_alive(::getpid(), me->start_time));
    CHECK_FALSE(process_alive(::getpid(), me->start_time + 1));  // a reused pid
    CHECK_FALSE(proc_info(0));
    CHECK_FALSE(proc_info(-1));
    CHECK(proc_info(1));  // init, or the container's first process
}

TEST_CASE("process: proc_pss_kib counts a page shared by two as half", "[process]")
{
    std::vector<char> block(8u << 20, 1);  // 8 MiB, every page touched
    auto before = proc_pss_kib(::getpid());
    REQUIRE(before);
    CHECK(*before <= proc_info(::getpid())->rss_kib + 64);  // never more than RSS (the two are read apart)
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::pause();  // shares every page of ours, copy-on-write, until killed
        ::_exit(0);
    }
    auto after = proc_pss_kib(::getpid());
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    REQUIRE(after);
    CHECK(*after + 3 * 1024 < *before);  // the block is now half ours: ~4 MiB less
    CHECK(block[block.size() / 2] == 1);
    CHECK_FALSE(proc_pss_kib(0));
    CHECK_FALSE(proc_pss_kib(-1));
}

TEST_CASE("process: a zombie is not alive", "[process]")
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(0);
    // Not reaped: it stays a zombie. Wait for the state to show.
    std::optional<ProcInfo> info;
    for (int i = 0; i < 500; ++i) {
        info = proc_info(pid);
        if (info && info->state == 'Z') break;
        std::this_thread::sleep_for(2ms);
    }
    REQUIRE(info);
    CHECK(info->state == 'Z');
    CHECK(::kill(pid, 0) == 0);  // the test that a zombie passes
    CHECK_FALSE(process_alive(pid, info->start_time));
    REQUIRE(::waitpid(pid, nullptr, 0) == pid);
    CHECK_FALSE(proc_info(pid));
    CHECK_FALSE(process_alive(pid, info->start_time));
}

TEST_CASE("process: queue_signal carries a value to the pidfd's process, and only to it", "[process]")
{
    // A child that waits for one queued real-time signal and exits with its value.
    const int sig = SIGRTMIN + 1;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, sig);
    REQUIRE(::sigprocmask(SIG_BLOCK, &set, &old) == 0);  // inherited: none is lost before sigwaitinfo
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        siginfo_t info{};
        ::_exit(::sigwaitinfo(&set, &info) == sig && info.si_code == SI_QUEUE ? info.si_value.sival_int : 99);
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    auto fd = open_pidfd(pid);
    REQUIRE(fd);
    CHECK(queue_signal(fd->get(), sig, 42) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 42);
    CHECK(queue_signal(fd->get(), sig, 1) == ESRCH);  // reaped: the pidfd reaches nobody, not a new owner of its pid
}

TEST_CASE("process: a command name with spaces and parentheses", "[process]")
{
    // /proc/PID/stat puts the name in parentheses; it may contain ") (".
    Pipe go = make_pipe();
    pid_t pid = fork_waiting(go, "a) (b c) d");
    std::optional<ProcInfo> info;
    for (int i = 0; i < 500; ++i) {
        info = proc_info(pid);
        std::string comm = fleet::test::read_file("/proc/" + std::to_string(pid) + "/comm");
        if (comm.starts_with("a) (b")) break;
        std::this_thread::sleep_for(2ms);
    }
    REQUIRE(info);
    CHECK(info->state != '?');
    CHECK(info->start_time > 0);
    CHECK(process_alive(pid, info->start_time));
    go.w.reset();
    REQUIRE(::waitpid(pid, nullptr, 0) == pid);
}

TEST_CASE("process: open_pidfd", "[process]")
{
    auto self = open_pidfd(::getpid());
    REQUIRE(self);
    CHECK(self->valid());
    auto none = open_pidfd(0x7ffffff0);
    REQUIRE_FALSE(none);
    CHECK(none.error().sys_errno == ESRCH);
}

TEST_CASE("process: pin_process holds the process a record names, or refuses", "[process]")
{
    Pipe go = make_pipe();
    pid_t pid = fork_waiting(go);
    auto info = proc_info(pid);
    REQUIRE(info);
    // Another start time: another process that had the number.
    auto other = pin_process(pid, info->start_time + 1);
    REQUIRE_FALSE(other);
    CHECK(other.error().sys_errno == ESRCH);
    CHECK_FALSE(pin_process(0, 0));
    auto pinned = pin_process(pid, info->start_time);
    REQUIRE(pinned);
    go.w.reset();
    REQUIRE(::waitpid(pid, nullptr, 0) == pid);
    // Ended and reaped: its number is free, and the pidfd reaches nobody.
    CHECK(send_signal(pinned->get(), SIGTERM) == ESRCH);
    CHECK_FALSE(pin_process(pid, info->start_time));
}

TEST_CASE("process: send_signal through a pidfd", "[process]")
{
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    auto info = proc_info(pid);
    REQUIRE(info);
    auto pinned = pin_process(pid, info->start_time);
    REQUIRE(pinned);
    CHECK(send_signal(pinned->get(), SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

// run_as: the program runs as that user with no group, no capability
// anywhere and no_new_privs (QEMU under a root router; docs/SECURITY.md).
TEST_CASE("process: run_as drops to a user with no capabilities", "[process][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: dropping to another user needs root");
        return;
    }
    SpawnOptions o;
    o.argv = {"/bin/cat", "/proc/self/status"};
    o.run_as = SpawnOptions::Credentials{65534, 65534, {}};
    std::string status = stdout_of(o);
    CHECK(contains(status, "Uid:\t65534\t65534\t65534\t65534"));
    CHECK(contains(status, "Gid:\t65534\t65534\t65534\t65534"));
    CHECK((contains(status, "Groups:\t\n") || contains(status, "Groups:\t \n")));
    CHECK(contains(status, "CapEff:\t0000000000000000"));
    CHECK(contains(status, "CapPrm:\t0000000000000000"));
    CHECK(contains(status, "CapBnd:\t0000000000000000"));
    CHECK(contains(status, "CapAmb:\t0000000000000000"));
    CHECK(contains(status, "NoNewPrivs:\t1"));
}

// A change of credentials clears the parent-death signal: run_as sets it
// again, or a confined QEMU would outlive its supervisor.
TEST_CASE("process: run_as keeps the parent-death signal", "[process][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: dropping to another user needs root");
        return;
    }
    SpawnOptions o;
    o.argv = {"/usr/bin/python3", "-c",
              "import ctypes; v = ctypes.c_int(); ctypes.CDLL(None).prctl(2, ctypes.byref(v)); print(v.value)"};
    o.parent_death_signal = SIGKILL;
    o.run_as = SpawnOptions::Credentials{65534, 65534, {}};
    std::string printed = stdout_of(o);
    CHECK(printed == std::to_string(SIGKILL) + "\n");
}

// mount_view: the child sees only the folders and device nodes it was
// given (and /proc), read-only, in a namespace of its own; the caller's
// mounts are untouched.
TEST_CASE("process: mount_view shows the child only what it was given", "[process][root]")
{
    if (::geteuid() != 0) {
        WARN("skipped: a mount namespace needs root");
        return;
    }
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c",
              "ls -a /; test -e /root || echo no-root; test -e /home || echo no-home; "
              "echo x > /usr/fleet-probe 2>/dev/null || echo usr-read-only; "
              "echo x > /dev/null && echo null-works; pwd"};
    o.run_as = SpawnOptions::Credentials{65534, 65534, {}};
    o.mount_view = SpawnOptions::MountView{{"/usr", "/bin", "/lib", "/lib64", "/no/such/folder"}, {"/dev/null"}};
    std::string seen = stdout_of(o);
    CHECK(seen == ".\n..\nbin\ndev\nlib\nlib64\nproc\nusr\nno-root\nno-home\nusr-read-only\nnull-works\n/\n");
    std::ifstream mine("/proc/self/mountinfo");
    std::stringstream text;
    text << mine.rdbuf();
    CHECK_FALSE(contains(text.str(), "fleet-root"));
}

namespace {

std::string status_field(pid_t pid, const std::string& key)
{
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with(key + ":")) return line.substr(line.find_first_not_of(" \t", key.size() + 1));
    return {};
}

// Wait until the heir sleeps for good (its set-up done): the system call
// it blocks in, /proc/PID/syscall's first field.
bool heir_settled(pid_t pid)
{
#ifdef SYS_pause
    const long sleeping_in = SYS_pause;
#else
    const long sleeping_in = SYS_ppoll;
#endif
    for (int i = 0; i < 500; ++i) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/syscall");
        long nr = -1;
        if (f >> nr && nr == sleeping_in) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

}  // namespace

// spawn_exit_heir: a child that shares the caller's memory and nothing
// else, and ends with it, however the caller ends.
TEST_CASE("process: an exit heir shares our memory, holds none of our files, and ends with us", "[process]")
{
    const bool killed = GENERATE(false, true);
    INFO((killed ? "the caller is killed" : "the caller exits"));
    Pipe report = make_pipe(), go = make_pipe(), held = make_pipe();
    pid_t caller = ::fork();
    REQUIRE(caller >= 0);
    if (caller == 0) {
        report.r.reset();
        go.w.reset();
        held.r.reset();
        auto heir = spawn_exit_heir("fleet-test-heir");
        auto again = spawn_exit_heir("fleet-test-heir");
        int msg[2] = {heir ? *heir : -1, again ? 0 : again.error().sys_errno};
        held.w.reset();  // closed: only a copy in the heir could keep it open
        if (::write(report.w.get(), msg, sizeof msg) != sizeof msg) ::_exit(2);
        char c = 0;
        (void)::read(go.r.get(), &c, 1);
        ::_exit(0);
    }
    report.w.reset();
    go.r.reset();
    held.w.reset();
    int msg[2] = {-1, 0};
    REQUIRE(::read(report.r.get(), msg, sizeof msg) == sizeof msg);
    const pid_t heir = msg[0];
    REQUIRE(heir > 0);
    CHECK(msg[1] == EEXIST);  // one per process

    // The pipe's write end, closed by the caller, is closed.
    pollfd p{held.r.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    char c;
    CHECK(::read(held.r.get(), &c, 1) == 0);

    REQUIRE(heir_settled(heir));
    CHECK(status_field(heir, "Name") == "fleet-test-heir");
    CHECK(::sched_getscheduler(heir) == SCHED_IDLE);  // its teardown yields to other work
    CHECK(status_field(heir, "PPid") == std::to_string(caller));
    // Every signal blocked but the two that cannot be (SIGKILL, SIGSTOP).
    CHECK(std::stoull(status_field(heir, "SigBlk"), nullptr, 16) ==
          ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1))));
    std::size_t fds = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(heir) + "/fd"))
        ++fds;
    CHECK(fds == 0);
    long same_vm = ::syscall(SYS_kcmp, caller, heir, 1 /* KCMP_VM */, 0, 0);
    long same_files = ::syscall(SYS_kcmp, caller, heir, 2 /* KCMP_FILES */, 0, 0);
    if (same_vm < 0) {
        WARN("kcmp(2) unavailable: the shared memory is not checked");
    } else {
        CHECK(same_vm == 0);
        CHECK(same_files != 0);
    }

    auto heir_fd = open_pidfd(heir);
    REQUIRE(heir_fd);
    if (killed)
        ::kill(caller, SIGKILL);
    else
        go.w.reset();
    int st = 0;
    REQUIRE(::waitpid(caller, &st, 0) == caller);
    CHECK((killed ? WIFSIGNALED(st) : WIFEXITED(st) && WEXITSTATUS(st) == 0));
    CHECK(wait_ended(heir_fd->get(), 5000));
}

// Is the running kernel at least major.minor?
bool kernel_at_least(int major, int minor)
{
    utsname u{};
    int ma = 0, mi = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

// A dying process's other threads end at once; the process itself only
// once its last thread has torn its memory down, which its killer can do
// too, alongside (a VM's end: vm_impl.hpp).
TEST_CASE("process: a killed process's threads are seen to end, and its memory is released from here", "[process]")
{
    Pipe report = make_pipe();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        report.r.reset();
        // Memory to tear down (64 MiB, touched) and two more threads.
        std::size_t size = std::size_t{64} << 20;
        auto* mem = static_cast<char*>(::malloc(size));
        if (!mem) ::_exit(2);
        for (std::size_t i = 0; i < size; i += 4096) mem[i] = 1;
        for (int i = 0; i < 2; ++i) {
            pthread_t t;
            if (::pthread_create(
                    &t, nullptr,
                    [](void*) -> void* {
                        for (;;) ::pause();
                    },
                    nullptr) != 0)
                ::_exit(2);
        }
        if (::write(report.w.get(), "r", 1) != 1) ::_exit(2);
        for (;;) ::pause();
    }
    report.w.reset();
    char c = 0;
    REQUIRE(::read(report.r.get(), &c, 1) == 1);
    auto pidfd = open_pidfd(pid);
    REQUIRE(pidfd);

    // Alive and not dying: nothing to release, and nothing is done.
    int alive = release_memory(pidfd->get());
    if (alive == ENOSYS) WARN("process_mrelease(2) unavailable: the release is not checked");
    if (kernel_at_least(5, 15)) CHECK(alive == EINVAL);
    CHECK(send_signal(pidfd->get(), 0) == 0);

    auto threads = open_thread_pidfds(pid, 8);
    if (threads.empty()) WARN("no thread pidfds: the threads' ends are not checked");
    if (kernel_at_least(6, 9)) CHECK(threads.size() == 2);  // every thread but the main one
    CHECK(open_thread_pidfds(0x7ffffff0, 8).empty());
    CHECK(open_thread_pidfds(pid, 1).size() == (threads.empty() ? 0u : 1u));  // at most max

    REQUIRE(send_signal(pidfd->get(), SIGKILL) == 0);
    for (const Fd& t : threads) {
        pollfd p{t.get(), POLLIN, 0};
        CHECK(::poll(&p, 1, 5000) == 1);
    }
    if (alive != ENOSYS) {
        int dying = release_memory(pidfd->get());
        INFO("release_memory: " << std::strerror(dying));
        CHECK((dying == 0 || dying == ESRCH));  // ESRCH: it was quicker than us
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    CHECK(release_memory(pidfd->get()) == ESRCH);
}
