// fleet runtime: receiving the exec block at boot (exec.cpp).
#pragma once

namespace rt {

struct Exec {
    int argc;
    char** argv;  // argv[0] is the program's name, then the block's arguments
    char** envp;
};

// From the kernel command line when it carries the block (a raw QEMU line),
// else from ctl ("waiting", then the block). A bad block: a message on
// stderr and exit 125, never a wait for bytes that cannot come.
Exec exec_receive(const char* cmdline);

}  // namespace rt
