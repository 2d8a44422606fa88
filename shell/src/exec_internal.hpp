// fleet shell — what the executor's files share (private).
#pragma once

#include <fleet/shell/shell.hpp>

#include <string>
#include <utility>
#include <vector>

namespace fleet::shell {

// fds changed by redirections, put back when this goes out of scope.
class SavedFds {
public:
    SavedFds() = default;
    ~SavedFds() { restore(); }
    SavedFds(const SavedFds&) = delete;
    SavedFds& operator=(const SavedFds&) = delete;
    void save(int fd);
    void restore();

private:
    std::vector<std::pair<int, int>> saved_;  // fd -> its copy (-1: it was closed)
};

// Perform redirections; saved (if given) keeps what they replaced. On
// failure the message is printed and false returned.
bool apply_redirects(Shell& sh, const std::vector<Redirect>& redirects, SavedFds* saved);

// The fd a redirection changes; whether any of a command's changes fd.
int redirected_fd(const Redirect& r);
bool redirects_fd(const Command& command, int fd);

// A short text for a command, for `jobs` and messages.
std::string describe(const Pipeline& pipeline);
std::string describe(const AndOr& and_or);

// Write all of text to fd (retrying short writes); false on error.
bool write_all(int fd, std::string_view text);

// A wait status as sh reports it: the exit code, or 128 + the signal.
int status_of(int wait_status);

// Compound commands (exec_compound.cpp).
int execute_compound(Shell& sh, const Command& command);

}  // namespace fleet::shell

namespace fleet::shell {

// Signal names without SIG ("INT"), numbers as text, and EXIT (0). -1: unknown.
int signal_number(const std::string& name);
std::string signal_name(int signal);

// The interactive shell's SIGINT: set by the handler, taken by whoever
// returns to the prompt.
bool take_interrupt();
bool interrupt_seen();
void catch_interrupt();

}  // namespace fleet::shell
