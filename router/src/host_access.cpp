// fleet-router — may_open and file_credentials (principal.hpp): whether a
// client could open a host path itself, and whom its files are opened as.
#include <fleet/router/principal.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <vector>

namespace fleet::router {

namespace {

// uid's primary group and supplementary groups (none for an unknown uid).
std::vector<gid_t> groups_of(uid_t uid, gid_t* primary = nullptr)
{
    std::array<char, 4096> buf{};
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
    if (primary) *primary = pw.pw_gid;
    std::vector<gid_t> groups(64);
    int n = static_cast<int>(groups.size());
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<std::size_t>(n));
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) return {pw.pw_gid};
    }
    groups.resize(static_cast<std::size_t>(n));
    return groups;
}

// Whether uid (in groups) has the access bits want (r=4, w=2, x=1) on st.
bool allowed(const struct stat& st, uid_t uid, const std::vector<gid_t>& groups, unsigned want)
{
    unsigned mode = st.st_mode;
    if (st.st_uid == uid) return ((mode >> 6) & want) == want;
    if (std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()) return ((mode >> 3) & want) == want;
    return (mode & want) == want;
}

}  // namespace

bool may_open(const Principal& who, const std::string& path, bool write)
{
    if (who.administrator()) return true;
    if (who.kind != Principal::Kind::local || path.empty() || path.front() != '/') return false;
    // The path as the kernel would walk it: symbolic links resolved, so a
    // link in the client's folder to a file it cannot read gains nothing.
    char real[PATH_MAX];
    if (!::realpath(path.c_str(), real)) return false;
    std::string p = real;
    auto groups = groups_of(who.uid);
    struct stat st {};
    if (::stat("/", &st) != 0 || !allowed(st, who.uid, groups, 1)) return false;
    for (std::size_t at = p.find('/', 1); at != std::string::npos; at = p.find('/', at + 1))
        if (::stat(p.substr(0, at).c_str(), &st) != 0 || !allowed(st, who.uid, groups, 1)) return false;
    if (::stat(p.c_str(), &st) != 0) return false;
    unsigned want = (S_ISDIR(st.st_mode) ? 5u : 4u) | (write ? 2u : 0u);
    return allowed(st, who.uid, groups, want);
}

std::optional<SpawnOptions::Credentials> file_credentials(const Principal& who)
{
    if (::geteuid() != 0 || who.administrator()) return std::nullopt;
    constexpr uid_t nobody = 65534;
    if (who.kind != Principal::Kind::local) return SpawnOptions::Credentials{nobody, nobody, {}};
    // A uid without a passwd entry: its own uid, the nobody group, no others.
    gid_t primary = nobody;
    auto groups = groups_of(who.uid, &primary);
    return SpawnOptions::Credentials{who.uid, primary, std::move(groups)};
}

}  // namespace fleet::router
