// fleet-vmm — shared pieces of the command-line front end.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/vmm/store.hpp>

#include <string>
#include <vector>

namespace fleet::cli {

// Exit status of fleet-vmm's own failures (podman's convention): the guest's
// statuses pass through untouched, 125 means fleet-vmm itself failed.
inline constexpr int exit_failure = 125;

struct Context {
    std::string runtime_dir;  // resolved
    std::string images;       // --images flag (may be empty)
    std::string qemu;         // QEMU binary name or path
    std::string program = "fleet-vmm";
};

using Args = std::vector<std::string>;

struct Command {
    const char* name;
    const char* usage;    // after "fleet-vmm NAME "
    const char* summary;  // one line
    int (*run)(const Context&, const Args&);
};

// The command table (commands.cpp); main dispatches on it.
const std::vector<Command>& commands();

// Print "fleet-vmm: MESSAGE" on stderr and return exit_failure.
int report(const Error& e);
int report(const std::string& message);

// Attach the terminal to a VM's console socket until the VM ends or the
// user types Ctrl-] (terminal.cpp). Returns 0, or an error.
// resize: a pidfd of the supervisor of a VM whose program has a terminal,
// told this terminal's size at once and at each SIGWINCH
// (terminal_size_request); none: no such program.
Result<> attach_console(const std::string& socket_path, const std::string& name, Fd resize);

}  // namespace fleet::cli
