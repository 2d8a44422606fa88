// fleet-net — the command line: parsed arguments and the command table.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace fleet::netfilter::cli {

struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // "--bridge x" -> {"bridge", "x"}; flags -> ""
    std::vector<std::string> command;            // what follows "--"

    [[nodiscard]] bool has(const std::string& key) const { return options.contains(key); }
    [[nodiscard]] std::string get(const std::string& key, const std::string& fallback) const
    {
        auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    }
};

struct Command {
    const char* name;
    const char* usage;
    const char* summary;
    int (*run)(const Args& args);
};

const std::vector<Command>& commands();

// Prints "fleet-net: MESSAGE" and returns 1.
int report(const std::string& message);

using Clock = std::chrono::steady_clock;

// With --timing, prints "WHAT: MS ms" (since `start`) on stderr.
void timing(const Args& args, const char* what, Clock::time_point start);

}  // namespace fleet::netfilter::cli
