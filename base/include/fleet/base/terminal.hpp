// fleet — a terminal put in raw mode for a while, and its size.
#pragma once

#include <termios.h>

#include <optional>

namespace fleet {

// Raw mode on `fd` (a terminal) while active: bytes pass as typed, no echo,
// no line editing. With keep_suspend, the terminal's suspend key (Ctrl-Z)
// still stops the foreground group, as in a shell; Ctrl-C and Ctrl-\ pass
// through as bytes. Restored by restore() or the destructor; apply()
// again after a stop. Does nothing when `fd` is not a terminal, or while
// the calling process's group is not the terminal's foreground group.
class RawTerminal {
public:
    explicit RawTerminal(int fd, bool keep_suspend = false);
    ~RawTerminal() { restore(); }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

    bool apply();
    void restore();
    [[nodiscard]] bool active() const { return active_; }

private:
    int fd_;
    bool keep_suspend_;
    bool saved_ok_ = false, active_ = false;
    termios saved_{};
};

struct TerminalSize {
    unsigned short rows = 0, cols = 0;
};
// The size of the terminal on `fd`; nullopt when it is not one or has none (0x0).
std::optional<TerminalSize> terminal_size(int fd);

}  // namespace fleet
