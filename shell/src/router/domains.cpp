// fleet shell — the router's domains as `ps -a` lists them (router_client.hpp).
#include <fleet/shell/router_client.hpp>
#include <fleet/wire/connect_messages.hpp>
#include <fleet/wire/domain_messages.hpp>
#include <fleet/wire/libvirt_enums.hpp>

#include <algorithm>

namespace fleet::shell {

namespace {

// virsh's words for virDomainState.
std::string state_word(std::int32_t state)
{
    static constexpr const char* words[] = {"no state",    "running",  "idle",    "paused",
                                            "in shutdown", "shut off", "crashed", "pmsuspended"};
    if (state < 0 || state > 7) return "state " + std::to_string(state);
    return words[state];
}

// The text of the first element named `tag` (any namespace prefix) in xml.
std::string element_text(const std::string& xml, const std::string& tag)
{
    for (std::size_t at = xml.find(tag + ">"); at != std::string::npos; at = xml.find(tag + ">", at + 1)) {
        std::size_t open = xml.rfind('<', at);
        if (open == std::string::npos || xml[open + 1] == '/') continue;
        std::string_view name(xml.data() + open + 1, at - open - 1);
        if (!name.empty() && (name.back() != ':' || name.find_first_of(" /\"'") != std::string_view::npos)) continue;
        std::size_t start = at + tag.size() + 1;
        std::size_t end = xml.find('<', start);
        if (end == std::string::npos) return {};
        return xml.substr(start, end - start);
    }
    return {};
}

// What the domain runs: its fleet:image, else its kernel's file name.
std::string image_of(const std::string& xml)
{
    if (auto image = element_text(xml, "image"); !image.empty()) return image;
    auto kernel = element_text(xml, "kernel");
    if (kernel.empty()) return "-";
    auto slash = kernel.rfind('/');
    return slash == std::string::npos ? kernel : kernel.substr(slash + 1);
}

}  // namespace

Result<std::string> RouterClient::hostname()
{
    auto ret = call<wire::ConnectGetHostnameRet>(wire::RemoteProc::connect_get_hostname, wire::Void{});
    if (!ret) return std::unexpected(ret.error());
    return ret->hostname;
}

Result<std::vector<RouterDomain>> RouterClient::domains()
{
    auto all = call<wire::ConnectListAllDomainsRet>(wire::RemoteProc::connect_list_all_domains,
                                                    wire::ConnectListAllDomainsArgs{1, 0});
    if (!all) return std::unexpected(all.error());
    std::vector<RouterDomain> out;
    for (const auto& d : all->domains) {
        RouterDomain r{d.name, d.id, "-", "-"};
        // A domain may go away between the list and these calls: it is
        // then shown as gone rather than failing the whole listing.
        if (auto st = call<wire::DomainGetStateRet>(wire::RemoteProc::domain_get_state, wire::DomainFlagsArgs{d, 0}))
            r.state = state_word(st->state);
        else
            r.state = "gone";
        if (auto xml = call<wire::StringRet>(wire::RemoteProc::domain_get_xml_desc, wire::DomainFlagsArgs{d, 0}))
            r.image = image_of(xml->value);
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const RouterDomain& a, const RouterDomain& b) {
        if ((a.id >= 0) != (b.id >= 0)) return a.id >= 0;
        return a.name < b.name;
    });
    return out;
}

}  // namespace fleet::shell
