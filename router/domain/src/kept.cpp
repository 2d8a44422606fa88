// fleet — devices that libvirt clients add to every x86_64 domain and that
// fleet's microvm has no place for: USB and virtio-serial controllers and
// ps2 inputs are kept as written (nothing fleet accepts would sit on them);
// displays are refused, with the reason (docs/domain-xml.md).
#include "parse.hpp"
#include "xml.hpp"

#include <array>

namespace fleet::router {

using detail::ParseState;
using xml::fail_at;
using xml::quote;
using xml::unsupported_at;

namespace {

const std::string no_display =
    "fleet's VMs have no display: microvm has no graphics device (use the serial console; virt-install --graphics "
    "none)";

Result<> parse_master(pugi::xml_node node, const std::string& path, ParseState&)
{
    return xml::check_leaf(node, path, {"startport"});
}

constexpr std::array<xml::Rule<ParseState>, 1> usb_rules{{{"master", false, parse_master}}};

Result<> keep(pugi::xml_node node, ParseState& st)
{
    st.def.kept_devices.push_back(xml::canonical(node));
    return {};
}

}  // namespace

// <controller type='usb' index= model= ports=> and <controller
// type='virtio-serial' index= ports= vectors=>; no <address> (microvm has
// no PCI bus to put one on).
Result<> detail::parse_controller(pugi::xml_node node, const std::string& path, ParseState& st)
{
    auto type = xml::required_attr(node, path, "type");
    if (!type) return std::unexpected(type.error());
    if (*type == "usb") {
        if (auto r = xml::only_attrs(node, path, {"type", "index", "model", "ports"}); !r) return r;
        if (auto r = xml::walk(node, path, std::span(usb_rules), st); !r) return r;
        return keep(node, st);
    }
    if (*type == "virtio-serial") {
        if (auto r = xml::check_leaf(node, path, {"type", "index", "ports", "vectors"}); !r) return r;
        return keep(node, st);
    }
    if (*type == "pci") return unsupported_at(path, "type 'pci' is not supported (fleet's microvm has no PCI bus)");
    return unsupported_at(
        path, "type " + quote(*type) +
                  " is not supported (fleet's microvm has only virtio-mmio devices; usb and virtio-serial are kept)");
}

// libvirt's implicit ps2 mouse and keyboard; anything else wants a display.
Result<> detail::parse_input(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::check_leaf(node, path, {"type", "bus"}); !r) return r;
    auto type = xml::required_attr(node, path, "type");
    if (!type) return std::unexpected(type.error());
    const std::string_view bus = node.attribute("bus").as_string("ps2");
    if ((*type != "mouse" && *type != "keyboard") || bus != "ps2")
        return unsupported_at(path, "type " + quote(*type) + " bus " + quote(bus) + " is not supported: " + no_display);
    return keep(node, st);
}

Result<> detail::parse_graphics(pugi::xml_node node, const std::string& path, ParseState&)
{
    return unsupported_at(path, "type " + quote(node.attribute("type").value()) + " is not supported: " + no_display);
}

Result<> detail::parse_video(pugi::xml_node node, const std::string& path, ParseState& st)
{
    if (auto r = xml::only_attrs(node, path, {}); !r) return r;
    pugi::xml_node model = node.child("model");
    const std::string_view type = model.attribute("type").value();
    const bool none = model && type == "none" && !model.next_sibling() && !model.previous_sibling() &&
                      !model.first_child() && std::distance(model.attributes_begin(), model.attributes_end()) == 1;
    if (!none)
        return unsupported_at(path, (model ? "model " + quote(type) : std::string("a video device")) +
                                        " is not supported: " + no_display + "; <model type='none'/> is accepted");
    return keep(node, st);
}

}  // namespace fleet::router
