// fleet-router — the registry's definitions: lookups, define, undefine,
// and loading what was defined before.
#include <fleet/router/registry.hpp>

#include <algorithm>

namespace fleet::router {

namespace {

std::unexpected<DomainError> no_domain(const std::string& what)
{
    return domain_fail(Errc::not_found, what);
}

std::unexpected<DomainError> taken(const std::string& name, const Uuid& uuid)
{
    return domain_fail(Errc::exists, "domain '" + name + "' already exists with uuid " + format_uuid(uuid));
}

}  // namespace

std::string_view to_string(Lifecycle e)
{
    switch (e) {
        case Lifecycle::defined_added:
            return "defined_added";
        case Lifecycle::defined_updated:
            return "defined_updated";
        case Lifecycle::undefined:
            return "undefined";
        case Lifecycle::started:
            return "started";
        case Lifecycle::suspended:
            return "suspended";
        case Lifecycle::resumed:
            return "resumed";
        case Lifecycle::stopped_shutdown:
            return "stopped_shutdown";
        case Lifecycle::stopped_destroyed:
            return "stopped_destroyed";
        case Lifecycle::stopped_crashed:
            return "stopped_crashed";
        case Lifecycle::stopped_failed:
            return "stopped_failed";
    }
    return "?";
}

DomainRegistry::DomainRegistry(Loop& loop, Launcher& launcher, DefinitionStore defs, RegistryOptions options, Log log)
    : loop_(loop), launcher_(launcher), defs_(std::move(defs)), o_(std::move(options)), log_(std::move(log))
{
    o_.quotas = o_.quotas.resolved();
}

DomainRegistry::~DomainRegistry() = default;

void DomainRegistry::emit(const Domain& d, Lifecycle event)
{
    log_.debug("event: domain '" + d.def.name + "' " + std::string(to_string(event)));
    if (observer_) observer_(d, event);
}

// ---- Lookups ---------------------------------------------------------------------

DomainResult<DomainPtr> DomainRegistry::by_name(const std::string& name) const
{
    auto it = domains_.find(name);
    if (it == domains_.end()) return no_domain("no domain with matching name '" + name + "'");
    return it->second;
}

DomainResult<DomainPtr> DomainRegistry::by_uuid(const Uuid& uuid) const
{
    for (const auto& [name, d] : domains_)
        if (d->def.uuid == uuid) return d;
    return no_domain("no domain with matching uuid '" + format_uuid(uuid) + "'");
}

DomainResult<DomainPtr> DomainRegistry::by_id(int id) const
{
    for (const auto& [name, d] : domains_)
        if (d->active() && d->id == id) return d;
    return no_domain("no domain with matching id " + std::to_string(id));
}

DomainResult<DomainPtr> DomainRegistry::lookup(const Uuid& uuid, const std::string& name) const
{
    auto d = by_uuid(uuid);
    if (!d) return no_domain("no domain with matching uuid '" + format_uuid(uuid) + "' (" + name + ")");
    return d;
}

std::vector<DomainPtr> DomainRegistry::all() const
{
    std::vector<DomainPtr> v;
    for (const auto& [name, d] : domains_) v.push_back(d);
    return v;
}

std::unexpected<DomainError> definition_error(const Error& e)
{
    return domain_fail(is_unsupported_configuration(e) ? Errc::unsupported_config : Errc::bad_definition, e.message);
}

// ---- Define / undefine -------------------------------------------------------------

DomainResult<DomainPtr> DomainRegistry::define(const std::string& xml, const Principal& by)
{
    auto def = parse_domain_xml(xml);
    if (!def) return definition_error(def.error());
    for (const auto& [name, other] : domains_) {
        if (other->def.uuid == def->uuid && name != def->name) return taken(name, def->uuid);
    }
    auto it = domains_.find(def->name);
    if (it != domains_.end() && it->second->def.uuid != def->uuid) return taken(def->name, it->second->def.uuid);
    bool known = it != domains_.end();
    if (known) {
        if (auto ok = may_change(*it->second, by); !ok) return std::unexpected(ok.error());
    } else if (auto q = check_user_domains(by); !q) {
        return std::unexpected(q.error());
    }
    if (!known || !it->second->persistent)
        if (auto q = check_definitions(); !q) return std::unexpected(q.error());
    // The owner is on disk before the definition: a definition never stands
    // without the record of whose it is.
    const Principal owner = known ? it->second->owner : by;
    if (auto o = save_owner(def->name, owner, false); !o) return std::unexpected(o.error());
    if (auto s = defs_.save(*def); !s) return domain_fail(Errc::failed, s.error().what());
    bool added = !known || !it->second->persistent;
    DomainPtr d;
    if (!known) {
        d = std::make_shared<Domain>();
        d->def = *def;
        d->owner = owner;
        domains_[def->name] = d;
    } else {
        d = it->second;
        if (d->active())
            d->next_def = *def;  // the running VM keeps its configuration
        else
            d->def = *def;
    }
    d->persistent = true;
    if (d->active()) save_live(*d);
    emit(*d, added ? Lifecycle::defined_added : Lifecycle::defined_updated);
    return d;
}

DomainResult<> DomainRegistry::undefine(const DomainPtr& d)
{
    if (!d->persistent) return domain_fail(Errc::invalid_state, "cannot undefine transient domain");
    if (auto r = defs_.remove(d->def.name); !r) return domain_fail(Errc::failed, r.error().what());
    drop_owner(d->def.name, false);
    auto names = read_manifest();
    if (std::erase(names, d->def.name) > 0) (void)write_manifest(names);
    d->persistent = false;
    d->next_def.reset();
    emit(*d, Lifecycle::undefined);
    if (d->active())
        save_live(*d);
    else
        domains_.erase(d->def.name);
    return {};
}

// A transient domain never takes over a name or uuid in use (running, or
// defined).
DomainResult<> DomainRegistry::check_new(const DomainDef& def) const
{
    if (auto it = domains_.find(def.name); it != domains_.end()) return taken(def.name, it->second->def.uuid);
    for (const auto& [name, other] : domains_)
        if (other->def.uuid == def.uuid) return taken(name, def.uuid);
    return {};
}

void DomainRegistry::load_definitions()
{
    auto loaded = defs_.load_all();
    if (!loaded) {
        log_.info("cannot read definitions: " + loaded.error().what());
        return;
    }
    for (const auto& bad : loaded->bad) log_.info("skipping a definition that does not parse: " + bad);
    for (auto& def : loaded->defs) {
        auto d = std::make_shared<Domain>();
        d->def = std::move(def);
        d->owner = load_owner(defs_.dir(), d->def.name);
        d->persistent = true;
        domains_[d->def.name] = d;
    }
}

void DomainRegistry::stop()
{
    stopping_ = true;
    launcher_.detach();
}

}  // namespace fleet::router
