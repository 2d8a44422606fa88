// fleet — opening files with another user's rights.
//
// A root launcher opens the files a client named (a kernel, a disk, a
// shared folder) as that client would: whatever the path is by the time
// of the open, the kernel checks it against the client's uid and groups,
// so a path swapped after the router's checks to a file the client may
// not read is refused (docs/SECURITY.md).
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/process.hpp>

#include <string>
#include <vector>

namespace fleet {

struct OpenRequest {
    std::string path;
    int flags = 0;           // O_RDONLY, O_RDWR (O_CLOEXEC, O_NOCTTY added)
    bool directory = false;  // a folder (O_DIRECTORY); else a regular file or block device
    bool writable = false;   // a folder the user may also write into
};

// Open each path as `who` (uid, gid and supplementary groups; no
// capabilities), in order. Needs root. Done in a short-lived forked child
// that becomes `who` for good and sends the fds back over a socket
// (SCM_RIGHTS): the caller's own credentials never change, whatever its
// threads do meanwhile. An error names the first path that could not be
// opened; each answer must come within `timeout_ms` (a path on a stuck
// network or FUSE file system), else the child is killed.
Result<std::vector<Fd>> open_as(const SpawnOptions::Credentials& who, const std::vector<OpenRequest>& files,
                                int timeout_ms = 10000);

}  // namespace fleet
