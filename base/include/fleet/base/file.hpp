// fleet — replacing a small file atomically: the one implementation the
// launcher's records, the router's definitions, boot manifest and live
// records share.
#pragma once

#include <fleet/base/error.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>

namespace fleet {

// Sync::yes for state that must survive power loss (definitions, the boot
// manifest); Sync::no for runtime folders, which are tmpfs and rebuilt each
// boot, where only the atomic replacement matters.
enum class Sync { no, yes };

// Replace dir/name with text: written to ".NAME.tmp-XXXXXX" (mode 0600)
// beside it, then renamed over it, so a reader sees the old file or the new
// one, never a torn one. With Sync::yes the file is fsynced before the
// rename and the folder after it. On failure the temp file is removed.
Result<> replace_file(const std::string& dir, const std::string& name, std::string_view text, Sync sync);

// All of data written to fd, across short writes and EINTR; the error says
// "cannot write " + what and keeps errno.
Result<> write_all(int fd, std::string_view data, const std::string& what);

// A folder only this user may change, created (with its parents) if missing:
// a runtime or state folder another local user must not be able to
// pre-create, replace with a symlink or write into. An existing folder must
// be a real folder (not a symlink) owned by the effective user; group and
// other write bits are cleared, and `mode` is applied to a new one. Anything
// else is an error that names the folder and what is wrong with it.
Result<> ensure_private_dir(const std::string& path, mode_t mode = 0700);

// The marker in the temp files replace_file leaves behind if it is killed.
inline constexpr std::string_view temp_file_marker = ".tmp-";

}  // namespace fleet
