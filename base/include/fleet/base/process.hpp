// fleet — starting and inspecting processes (QEMU, supervisors).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fleet {

struct SpawnOptions {
    std::vector<std::string> argv;              // argv[0] is a path (see find_program)
    std::vector<std::pair<int, int>> pass_fds;  // parent fd -> fd number in the child
    int stdin_fd = -1;                          // -1: /dev/null
    int stdout_fd = -1;
    int stderr_fd = -1;
    bool new_session = false;     // setsid(): no controlling terminal, own process group
    int parent_death_signal = 0;  // signal the child gets when its parent dies
    // Run the program as this user, group and supplementary groups, with
    // no capabilities (bounding and ambient sets cleared too) and
    // PR_SET_NO_NEW_PRIVS. Needs root (CAP_SETUID, CAP_SETGID, CAP_SETPCAP).
    struct Credentials {
        uid_t uid;
        gid_t gid;
        std::vector<gid_t> groups;
    };
    std::optional<Credentials> run_as;
    // A private mount namespace (needs root; applied before run_as): the
    // root is an empty read-only tmpfs showing only these host folders
    // (read-only; a symbolic link such as /lib -> usr/lib stays a link),
    // these device nodes, and /proc, each at its own path. Missing ones are
    // left out. The child starts in "/".
    struct MountView {
        std::vector<std::string> folders;
        std::vector<std::string> devices;
    };
    std::optional<MountView> mount_view;
    // Environment variables ("NAME=VALUE") set in the child, replacing any
    // of the same name; the rest of the environment is inherited.
    std::vector<std::string> env;
};

struct Child {
    pid_t pid = -1;
    Fd pidfd;  // readable once the process has exited
};

// fork + exec; an exec failure comes back as an error here, not as a child
// that exits 127.
Result<Child> spawn(const SpawnOptions& options);

// `name` itself if it has a slash, else its first executable match on PATH.
Result<std::string> find_program(const std::string& name);

// Collect a child's exit: the waitid(2) status. Call once its pidfd is readable.
struct ExitStatus {
    bool signaled = false;
    int code = 0;  // exit code, or signal number if signaled
};
Result<ExitStatus> reap(const Child& child);

// What /proc says about a process. nullopt: no such process.
struct ProcInfo {
    char state = '?';              // R, S, D, Z, ...
    std::uint64_t start_time = 0;  // clock ticks since boot (stat field 22)
    std::uint64_t rss_kib = 0;
    uid_t uid = static_cast<uid_t>(-1);  // owner of /proc/PID: the effective uid
};
std::optional<ProcInfo> proc_info(pid_t pid);

// A process's proportional set size (/proc/PID/smaps_rollup "Pss"), KiB:
// its private pages, and each page it shares with N processes as 1/N. What
// one more such process costs, where RSS counts the shared libraries and
// program text once in each. nullopt: gone, or not ours to read.
std::optional<std::uint64_t> proc_pss_kib(pid_t pid);

// True if pid is a live (not zombie) process started at start_time. The
// start time guards against a reused pid. Never kill(pid, 0): a zombie
// passes that test.
bool process_alive(pid_t pid, std::uint64_t start_time);

// pidfd_open(2) for a process we did not start (not our child).
Result<Fd> open_pidfd(pid_t pid);

// A pidfd for the live process `pid` that started at start_time (stat
// field 22), for a process known from a record: the pidfd is opened first
// and the start time checked after, so the process checked is the one the
// pidfd holds. A pid reused by another process in between fails the
// check; a process that ends after it makes every signal through the
// pidfd ESRCH, never a signal to whoever has the number next. Signal
// through it (send_signal, queue_signal), never by pid.
Result<Fd> pin_process(pid_t pid, std::uint64_t start_time);

// Make this process's exit quick for whoever waits on it: its address
// space is torn down after its parent (or a pidfd) has been told it
// ended, not before. Tearing down a process's memory (a few MB of program
// text and heap for a supervisor) takes ~0.2 ms; a VM's end waits for it.
// Spawns a child that shares our memory (CLONE_VM) and nothing else (no
// files, every signal blocked, SCHED_IDLE so that the teardown yields to
// other work), named `name` (15 characters), and dies
// by SIGKILL when the calling thread ends: call it from the main thread,
// once, and never exec after (the heir would keep the old image). It is
// our child with no exit signal; after our end, the reaper's. Its pid, or
// an error (nothing is changed then).
Result<pid_t> spawn_exit_heir(const char* name);

// pidfd_send_signal(2) of sig: 0 or errno (ESRCH: it has ended).
int send_signal(int pidfd, int sig);

// Tear down the memory of a dying process (killed, or in its own exit)
// here and now, alongside its own exit (process_mrelease(2), Linux 5.15):
// its exit then has less to unmap, and its end (the pidfd, a parent's
// wait) comes sooner when a CPU is free. Takes 1-3 ms for a VM's QEMU.
// 0 or errno: ENOSYS (an older kernel), EINVAL (not dying), ESRCH (gone),
// EAGAIN (part was left to its own exit); none is harmful.
int release_memory(int pidfd);

// A pidfd for each of a process's threads but its main one, each readable
// once that thread has ended (PIDFD_THREAD, Linux 6.9). A dying process's
// threads end at once, but the process (its pidfd, its parent's wait) only
// after its last thread has torn its memory down. Empty where the kernel
// has no thread pidfds, or the process is gone. At most `max` of them (the
// process decides how many threads it has).
std::vector<Fd> open_thread_pidfds(pid_t pid, std::size_t max);

// Wait until the process a pidfd holds has ended, up to timeout_ms (-1:
// for ever), through EINTR. True once it has; false at the timeout.
bool wait_ended(int pidfd, int timeout_ms);

// sigqueue(3) through a pidfd: sig with value to the very process the
// pidfd was opened for, never to another that reused its pid. 0 or errno
// (ESRCH: it has ended).
int queue_signal(int pidfd, int sig, int value);

}  // namespace fleet
