// fleet-router — a domain definition -> what the launcher's supervisor
// needs to run it (vm_options.cpp).
#pragma once

#include <fleet/router/domain.hpp>
#include <fleet/router/domain_error.hpp>
#include <fleet/router/supervisor_launcher.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fleet::router {

// owner: the credentials the files def names are opened with
// (file_credentials, principal.hpp); nullopt: the router's own.
DomainResult<vmm::SupervisorOptions> supervisor_options(const DomainDef& def, const std::vector<std::string>& catalog,
                                                        const LauncherOptions& o,
                                                        const std::optional<SpawnOptions::Credentials>& owner);

}  // namespace fleet::router
