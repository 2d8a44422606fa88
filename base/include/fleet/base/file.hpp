// fleet — replacing a small file atomically: the one implementation the
// launcher's records, the router's definitions, boot manifest and live
// records share.
#pragma once

#include <fleet/base/error.hpp>

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

// The marker in the temp files replace_file leaves behind if it is killed.
inline constexpr std::string_view temp_file_marker = ".tmp-";

}  // namespace fleet
