// fleet-vmm — one function per command; commands() (commands.cpp) is their
// table. Starting VMs: commands.cpp; acting on one: control_cmds.cpp;
// reading: query_cmds.cpp; warm pools: pool_cmd.cpp.
#pragma once

#include "cli.hpp"
#include "launch.hpp"
#include "pool.hpp"

namespace fleet::cli {

int cmd_run(const Context& ctx, const Args& args);
int cmd_start(const Context& ctx, const Args& args);
int cmd_cmdline(const Context& ctx, const Args& args);

int cmd_stop(const Context& ctx, const Args& args);
int cmd_kill(const Context& ctx, const Args& args);
int cmd_pause(const Context& ctx, const Args& args);
int cmd_resume(const Context& ctx, const Args& args);
int cmd_wait(const Context& ctx, const Args& args);
int cmd_rm(const Context& ctx, const Args& args);
int cmd_console(const Context& ctx, const Args& args);

int cmd_ls(const Context& ctx, const Args& args);
int cmd_inspect(const Context& ctx, const Args& args);
int cmd_images(const Context& ctx, const Args& args);
int cmd_logs(const Context& ctx, const Args& args);

// A record's state as ls shows it ("exited (3)", "crashed", ...).
std::string state_word(const vmm::VmRecord& r);

}  // namespace fleet::cli
