// fleet-router — live records and adoption: each running domain's live XML
// (<runtime>/router/live/<name>.xml, with its id) is what the next router
// reads to adopt the VMs this one leaves running.
#include <fleet/base/file.hpp>
#include <fleet/router/registry.hpp>

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fleet::router {

namespace {

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> live_names(const std::string& dir)
{
    std::vector<std::string> names;
    DIR* dp = ::opendir(dir.c_str());
    if (!dp) return names;
    while (dirent* e = ::readdir(dp)) {
        std::string f = e->d_name;
        if (f.size() > 4 && f.ends_with(".xml")) names.push_back(f.substr(0, f.size() - 4));
    }
    ::closedir(dp);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::string DomainRegistry::live_path(const std::string& name, std::string_view suffix) const
{
    return o_.live_dir + "/" + name + std::string(suffix);
}

// The live record of a running domain: its XML with the id, and whether it
// is persistent; what the next router adopts.
void DomainRegistry::save_live(const Domain& d) const
{
    auto w = replace_file(o_.live_dir, d.def.name + ".xml", format_domain_xml(d.def, d.id), Sync::no);
    if (w && d.run_stage) w = replace_file(o_.live_dir, d.def.name + ".run", "", Sync::no);
    if (!w) log_.info("cannot save live state: " + w.error().what());
}

void DomainRegistry::drop_live(const std::string& name) const
{
    ::unlink(live_path(name).c_str());
    ::unlink(live_path(name, ".run").c_str());
    drop_owner(name, true);
}

// Running VMs of an earlier router: their live records, checked by the
// launcher. Live ones are adopted; ended ones cleared.
void DomainRegistry::adopt()
{
    for (const auto& name : live_names(o_.live_dir)) {
        if (auto d = adopt_one(name))
            log_.info("adopted running domain '" + name + "' (id " + std::to_string(d->id) + ")");
    }
}

DomainPtr DomainRegistry::adopt_one(const std::string& name)
{
    std::string text = read_text(live_path(name));
    auto def = parse_domain_xml(text);
    if (!def) {
        launcher_.clear(name);
        drop_live(name);
        return nullptr;
    }
    // The domain object first: the launcher's watch holds on to it.
    std::shared_ptr<Domain> d;
    auto it = domains_.find(name);
    bool known = it != domains_.end() && it->second->def.uuid == def->uuid;
    d = known ? it->second : std::make_shared<Domain>();
    auto adopted = launcher_.adopt(name, watch(d));
    if (!adopted) {
        drop_live(name);
        log_.info("domain '" + name + "' ended while no router was running");
        return nullptr;
    }
    // The id is in the live XML's root element.
    int id = -1;
    if (auto p = text.find(" id='"); p != std::string::npos && p < text.find('>')) id = std::atoi(text.c_str() + p + 5);
    if (id <= 0) id = next_id_;
    next_id_ = std::max(next_id_, id + 1);
    if (known) {
        if (d->def != *def) d->next_def = d->def;  // the definition changed meanwhile
    } else {
        d->owner = load_owner(o_.live_dir, name);
        domains_[name] = d;
    }
    d->def = *def;
    d->id = id;
    d->state = adopted->paused ? RunState::paused : RunState::running;
    d->reason = adopted->paused ? Reason::user : Reason::booted;
    // A stage of a run: its client's connection went with the earlier
    // router, and nobody reads its ends any more.
    if (::access(live_path(name, ".run").c_str(), F_OK) == 0) {
        d->run_stage = true;
        d->stop_ = Domain::Stop::destroy;
        (void)launcher_.kill(name);
        log_.info("domain '" + name + "' was a stage of a run whose client has gone: destroying it");
    }
    return d;
}

}  // namespace fleet::router
