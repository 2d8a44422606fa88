// fleet — a child's private mount namespace (SpawnOptions::mount_view),
// planned in the parent and entered between fork and exec.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/process.hpp>

#include <string>
#include <vector>

namespace fleet {

// Everything the child does, with every string made beforehand: a vfork
// child may only make system calls (it writes into `via`, made here).
// Sources are opened (O_PATH) in the child's new namespace before the
// staging folder (/tmp) is covered, and bound through /proc/self/fd/N, so a
// source below /tmp is still reachable.
struct MountPlan {
    struct Step {
        enum class Kind { mkdir, bind, bind_ro, symlink, touch } kind;
        std::string from;   // bind: the host path; symlink: the link's target
        std::string to;     // in the new root, staged under /tmp
        char via[32] = {};  // bind: "/proc/self/fd/N", filled in by the child
    };
    std::vector<Step> steps;
};

Result<MountPlan> plan_mount_view(const SpawnOptions::MountView& view);

// In the child, as root: a new mount namespace whose root is a small
// read-only tmpfs holding only the plan's folders and device nodes, and
// /proc. False (errno set) on any failure: the child must not exec.
bool enter_mount_view(MountPlan& plan);

}  // namespace fleet
