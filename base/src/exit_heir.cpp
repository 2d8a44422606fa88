// fleet — a process's exit without the wait for its memory's teardown
// (see process.hpp, spawn_exit_heir).
//
// The heir is a clone(2) child with CLONE_VM: it shares our address space
// and so holds a reference to it. Our exit then only drops our reference;
// the pages, page tables and mappings are freed when the heir dies, which
// the kernel makes happen right after (PR_SET_PDEATHSIG, sent while our
// exit notifies), and after our parent was told we ended. The heir runs
// none of our code but the loop below: raw system calls only, since it
// shares our thread's TLS (errno, glibc's state) and must write none of it.
#include <fleet/base/process.hpp>

#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace fleet {

namespace {

#if defined(__x86_64__)
#define FLEET_HAVE_HEIR 1
// A system call without libc: no errno, no cancellation point, nothing read
// or written through the thread pointer.
[[gnu::always_inline]] inline long raw_call(long n, long a = 0, long b = 0, long c = 0, long d = 0)
{
    long ret;
    register long r10 asm("r10") = d;
    asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define FLEET_HAVE_HEIR 1
[[gnu::always_inline]] inline long raw_call(long n, long a = 0, long b = 0, long c = 0, long d = 0)
{
    register long x8 asm("x8") = n;
    register long x0 asm("x0") = a;
    register long x1 asm("x1") = b;
    register long x2 asm("x2") = c;
    register long x3 asm("x3") = d;
    asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#else
#define FLEET_HAVE_HEIR 0
#endif

#if FLEET_HAVE_HEIR

struct HeirArgs {
    pid_t parent = 0;
    char name[16] = {};
    sched_param idle{};  // SCHED_IDLE's priority: 0
};
HeirArgs heir_args;
alignas(64) char heir_stack[16 * 1024];

// The heir: every signal blocked (SIGKILL cannot be), no open files, a
// name of its own, SIGKILL when its parent (the thread that cloned it)
// ends; then asleep until that SIGKILL.
[[gnu::no_sanitize_address, gnu::no_sanitize_undefined]] int heir_main(void* p)
{
    auto* a = static_cast<HeirArgs*>(p);
    unsigned long all = ~0UL;
    raw_call(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all), 0, sizeof all);
    // Out of the shared table into an empty one, without ever holding a
    // file of ours: a pipe we close is closed (its reader sees the end).
    if (raw_call(SYS_close_range, 0, ~0U, CLOSE_RANGE_UNSHARE) != 0) raw_call(SYS_exit, 0);
    raw_call(SYS_prctl, PR_SET_NAME, reinterpret_cast<long>(a->name));
    // Its teardown yields to all other work: several VMs ending at once
    // on few CPUs finish their ends first.
    raw_call(SYS_sched_setscheduler, 0, SCHED_IDLE, reinterpret_cast<long>(&a->idle));
    raw_call(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (raw_call(SYS_getppid) != a->parent) raw_call(SYS_exit, 0);  // it ended before the line above
#ifdef SYS_pause
    for (;;) raw_call(SYS_pause);
#else
    for (;;) raw_call(SYS_ppoll, 0, 0, 0, 0);  // no fds, no timeout: until a signal (aarch64 has no pause)
#endif
}

#endif

}  // namespace

Result<pid_t> spawn_exit_heir(const char* name)
{
#if FLEET_HAVE_HEIR
    static std::atomic<bool> spawned{false};
    if (spawned.exchange(true)) return fail("this process has an exit heir already", EEXIST);
    heir_args.parent = ::getpid();
    std::strncpy(heir_args.name, name, sizeof heir_args.name - 1);
    // Born with every signal blocked: no handler of ours ever runs on the
    // heir's stack. Exit signal 0: its end, if someone kills it first, is
    // nothing to us; once we have ended, the kernel makes it SIGCHLD for
    // the reaper it goes to.
    sigset_t all, old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    int pid = ::clone(heir_main, heir_stack + sizeof heir_stack, CLONE_VM | CLONE_FILES | CLONE_UNTRACED, &heir_args);
    int e = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) return fail("cannot start an exit heir", e);
    return pid;
#else
    (void)name;
    return fail("no exit heir on this architecture", ENOSYS);
#endif
}

}  // namespace fleet
