// fleet-router — owners on disk: <state>/domains/<name>.owner beside each
// definition, <runtime>/router/live/<name>.owner beside each live record,
// one line (Principal::record). Written before the definition, removed
// after it: a definition never outlives the record of who owns it, so it
// can never fall to another owner. A definition without one (written
// before owners were recorded, or its owner file lost) belongs to the
// router's own user.
#include <fleet/base/file.hpp>
#include <fleet/router/registry.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fleet::router {

DomainResult<> DomainRegistry::save_owner(const std::string& name, const Principal& owner, bool live) const
{
    auto w = live ? replace_file(o_.live_dir, name + ".owner", owner.record() + "\n", Sync::no)
                  : replace_file(defs_.dir(), name + ".owner", owner.record() + "\n", Sync::yes);
    if (!w) return domain_fail(Errc::failed, "cannot record the owner of domain '" + name + "': " + w.error().what());
    return {};
}

void DomainRegistry::drop_owner(const std::string& name, bool live) const
{
    ::unlink(((live ? o_.live_dir : defs_.dir()) + "/" + name + ".owner").c_str());
}

Principal DomainRegistry::load_owner(const std::string& dir, const std::string& name) const
{
    std::ifstream in(dir + "/" + name + ".owner");
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in && ss.str().empty()) return Principal::router();
    auto p = Principal::from_record(ss.str());
    if (!p) {
        log_.info("the owner record of domain '" + name + "' does not parse; it belongs to the router's user");
        return Principal::router();
    }
    return *p;
}

}  // namespace fleet::router
