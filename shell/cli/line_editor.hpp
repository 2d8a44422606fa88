// fsh — line editing, history and tab completion (libedit).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fsh {

class LineEditor {
public:
    // words: what completes in command position besides file names (builtins).
    explicit LineEditor(std::vector<std::string> words);
    ~LineEditor();
    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    // One line without its newline; nullopt at end of input (Ctrl-D).
    // An interrupted read (Ctrl-C) gives an empty line and sets interrupted.
    std::optional<std::string> read(const std::string& prompt, bool& interrupted);
    void remember(const std::string& entry);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Completions of the word ending at the cursor: names (in command position)
// or file names. Exposed for tests.
std::vector<std::string> complete(const std::string& line_before_cursor, const std::vector<std::string>& names);

}  // namespace fsh
