// fleet-router — the boot manifest: <state>/boot, one domain name per line,
// in boot order; '#' starts a comment. `virsh autostart NAME` appends,
// `--disable` removes. At start the router boots them one at a time.
#include <fleet/base/file.hpp>
#include <fleet/router/registry.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>

namespace fleet::router {

std::vector<std::string> DomainRegistry::read_manifest() const
{
    std::vector<std::string> names;
    std::ifstream in(o_.state_dir + "/boot");
    std::string line;
    while (std::getline(in, line)) {
        if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
        auto b = line.find_first_not_of(" \t\r");
        auto e = line.find_last_not_of(" \t\r");
        if (b == std::string::npos) continue;
        line = line.substr(b, e - b + 1);
        if (std::find(names.begin(), names.end(), line) == names.end()) names.push_back(line);
    }
    return names;
}

DomainResult<> DomainRegistry::write_manifest(const std::vector<std::string>& names) const
{
    std::string text = "# fleet-router boot manifest: domains started when the router starts, in order.\n";
    for (const auto& n : names) text += n + "\n";
    if (auto w = replace_file(o_.state_dir, "boot", text, Sync::yes); !w)
        return domain_fail(Errc::failed, w.error().what());
    return {};
}

bool DomainRegistry::autostart(const Domain& d) const
{
    auto names = read_manifest();
    return std::find(names.begin(), names.end(), d.def.name) != names.end();
}

DomainResult<> DomainRegistry::set_autostart(const DomainPtr& d, bool on)
{
    if (!d->persistent) return domain_fail(Errc::invalid_state, "cannot set autostart for transient domain");
    auto names = read_manifest();
    bool has = std::find(names.begin(), names.end(), d->def.name) != names.end();
    if (on == has) return {};
    if (on)
        names.push_back(d->def.name);
    else
        std::erase(names, d->def.name);
    return write_manifest(names);
}

void DomainRegistry::boot_manifest()
{
    auto names = std::make_shared<std::vector<std::string>>(read_manifest());
    if (names->empty()) return;
    log_.info("boot: " + std::to_string(names->size()) + " domain(s) in " + o_.state_dir + "/boot");
    boot_next(names, 0);
}

// One at a time, each after the previous is ready (or has failed).
void DomainRegistry::boot_next(std::shared_ptr<std::vector<std::string>> names, std::size_t i)
{
    if (stopping_ || i >= names->size()) return;
    const std::string& name = (*names)[i];
    auto d = by_name(name);
    if (!d || !(*d)->persistent) {
        log_.info("boot: '" + name + "' is not a defined domain; skipped");
        return boot_next(names, i + 1);
    }
    if ((*d)->active()) return boot_next(names, i + 1);
    auto t0 = std::chrono::steady_clock::now();
    start(*d, false, [this, names, i, t0, name](DomainResult<> r) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        if (r)
            log_.info("boot: '" + name + "' ready in " + std::to_string(ms) + " ms" +
                      (i == 0 ? " (the first VM)" : ""));
        else
            log_.info("boot: " + r.error().message + "; going on");
        loop_.defer([this, names, i] { boot_next(names, i + 1); });
    });
}

}  // namespace fleet::router
