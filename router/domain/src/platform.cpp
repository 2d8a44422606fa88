// fleet — the machine around the program, as libvirt clients describe it:
// <features>, <cpu>, <clock> and its timers, <pm>. fleet's microvm is one
// fixed machine, so these are checked against what it is and kept as
// written (canonical XML text) for dumpxml; what it cannot be is refused
// with the reason (docs/domain-xml.md).
#include "parse.hpp"
#include "xml.hpp"

#include <array>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;
using xml::unsupported_at;

namespace {

// The attribute, when present, is one of `allowed`.
Result<> one_of(pugi::xml_node node, const std::string& path, const char* name,
                std::initializer_list<std::string_view> allowed, const std::string& why = {})
{
    const pugi::xml_attribute a = node.attribute(name);
    if (!a) return {};
    for (std::string_view ok : allowed)
        if (ok == a.value()) return {};
    std::string list;
    for (std::string_view ok : allowed) list += (list.empty() ? "" : ", ") + std::string(ok);
    return unsupported_at(path, std::string(name) + "=" + quote(a.value()) + " is not supported" +
                                    (why.empty() ? " (use " + list + ")" : " (" + why + ")"));
}

// ---- <features> ----

Result<> keep_feature(pugi::xml_node node, ParseState& st)
{
    st.def.features.push_back(xml::canonical(node));
    return {};
}

Result<> parse_plain_feature(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::check_leaf(node, path); !r) return r;
    return keep_feature(node, st);
}

Result<> parse_vmport(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::check_leaf(node, path, {"state"}); !r) return r;
    if (auto r = one_of(node, path, "state", {"off"}, "fleet's microvm has no VMware port"); !r) return r;
    if (!node.attribute("state")) return fail_at(path, "missing attribute state (fleet's microvm has no VMware port)");
    return keep_feature(node, st);
}

constexpr std::array<xml::Rule<ParseState>, 4> feature_rules{{
    {"acpi", false, parse_plain_feature},  // always a power button (ACPI's, or ctl's for power=ctl images)
    {"apic", false, parse_plain_feature},  // every x86_64 VM has its local APIC
    {"pae", false, parse_plain_feature},   // a 64-bit CPU has PAE
    {"vmport", false, parse_vmport},
}};

// ---- <cpu> ----

Result<> parse_cpu_model(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::check_leaf(node, path, {"fallback"}); !r)
        return unsupported_at(path, "named CPU models are not supported (use mode='host-passthrough' or 'maximum')");
    return one_of(node, path, "fallback", {"allow", "forbid"});
}

constexpr std::array<xml::Rule<ParseState>, 1> cpu_rules{{{"model", false, parse_cpu_model}}};

// ---- <clock> ----

Result<> check_timer(pugi::xml_node node, const std::string& path)
{
    if (auto r = xml::check_leaf(node, path, {"name", "present", "tickpolicy", "track"}); !r) return r;
    auto name = xml::required_attr(node, path, "name");
    if (!name) return std::unexpected(name.error());
    if (auto r = one_of(node, path, "name", {"rtc", "pit", "hpet", "kvmclock", "tsc"}); !r) return r;
    if (auto r = one_of(node, path, "present", {"yes", "no"}); !r) return r;
    if (auto r = one_of(node, path, "tickpolicy", {"delay", "catchup", "merge", "discard"}); !r) return r;
    if (node.attribute("track")) {
        if (*name != "rtc") return fail_at(path, "track is for the rtc timer only");
        if (auto r = one_of(node, path, "track", {"guest", "wall", "realtime"}); !r) return r;
    }
    const bool absent_on_microvm = *name == "hpet" || *name == "pit";
    if (absent_on_microvm && std::string_view(node.attribute("present").value()) == "yes")
        return unsupported_at(path, "fleet's microvm has no " + *name + " (present='no')");
    return {};
}

Result<> parse_timer(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = check_timer(node, path); !r) return r;
    st.def.timers.push_back(xml::canonical(node));
    return {};
}

constexpr std::array<xml::Rule<ParseState>, 1> clock_rules{{{"timer", true, parse_timer}}};

// ---- <pm> ----

Result<> parse_suspend(pugi::xml_node node, const std::string& path, ParseState&)
{
    if (auto r = xml::check_leaf(node, path, {"enabled"}); !r) return r;
    return one_of(node, path, "enabled", {"no"}, "fleet's VMs cannot suspend");
}

constexpr std::array<xml::Rule<ParseState>, 2> pm_rules{{
    {"suspend-to-mem", false, parse_suspend},
    {"suspend-to-disk", false, parse_suspend},
}};

}  // namespace

Result<> detail::parse_features(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    return xml::walk(node, path, std::span(feature_rules), st);
}

Result<> detail::parse_cpu(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"mode", "match", "check", "migratable"}); !r) return r;
    if (!node.attribute("mode"))
        return unsupported_at(path, "mode 'custom' is not supported (use host-passthrough, host-model or maximum)");
    if (auto r = one_of(node, path, "mode", {"host-passthrough", "host-model", "maximum"}); !r) return r;
    if (auto r = one_of(node, path, "match", {"exact", "minimum", "strict"}); !r) return r;
    if (auto r = one_of(node, path, "check", {"none", "partial", "full"}); !r) return r;
    if (auto r = one_of(node, path, "migratable", {"on", "off"}); !r) return r;
    if (auto r = xml::walk(node, path, std::span(cpu_rules), st); !r) return r;
    st.def.cpu = xml::canonical(node);
    return {};
}

Result<> detail::parse_clock(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {"offset"}); !r) return r;
    const std::string_view offset = node.attribute("offset").as_string("utc");
    if (offset != "utc") return unsupported_at(path, "offset " + quote(offset) + " is not supported (use utc)");
    st.def.clock = true;
    return xml::walk(node, path, std::span(clock_rules), st);
}

Result<> detail::parse_pm(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    if (auto r = xml::walk(node, path, std::span(pm_rules), st); !r) return r;
    st.def.pm = xml::canonical(node);
    return {};
}

}  // namespace fleet::router
