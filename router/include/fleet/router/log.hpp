// fleet-router — the daemon's log: one line per event, on stderr, as
// "fleet-router: ...". The parts take a Log rather than printing: the daemon
// gives the real one, tests one that collects lines.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace fleet::router {

struct Log {
    std::function<void(const std::string& line)> sink;  // empty: stderr
    bool verbose = false;                               // debug lines too

    void info(const std::string& line) const
    {
        if (sink) return sink(line);
        std::fprintf(stderr, "fleet-router: %s\n", line.c_str());
    }
    void debug(const std::string& line) const
    {
        if (verbose) info(line);
    }
};

}  // namespace fleet::router
