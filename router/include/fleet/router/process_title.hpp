// fleet-router — what ps shows for a process the router forks (a VM's
// supervisor): its argv area is overwritten in place.
#pragma once

#include <string>

namespace fleet::router {

// Remember the argv area (main calls it first thing): argv's strings are
// contiguous, and that is what ps reads.
void init_process_title(int argc, char** argv);
// Overwrite it (no-op before init_process_title), and set the thread name.
void set_process_title(const std::string& title);

}  // namespace fleet::router
