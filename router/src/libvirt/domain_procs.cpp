// fleet-router — the procedures that change domains: define, create,
// start, shut down, destroy, pause, undefine, autostart, and the refused
// reboot and reset (the `domains`
// group of wire/procedures.def). Each asks the DomainRegistry; answers that
// wait for a VM come later, if the client is still there.
#include "dispatch.hpp"

namespace fleet::router::libvirt {

using namespace fleet::wire;

namespace {

void define_from(const Call& call, const std::string& xml)
{
    auto d = call.registry().define(xml, call.caller());
    if (!d) return call.fail(d.error());
    call.reply(DomainRet{ref(**d)});
}

void start_existing(const Call& call, const NonnullDomain& dom, std::uint32_t f, bool with_dom)
{
    with_domain(call, dom, [&](const DomainPtr& d) {
        call.registry().start(d, (f & flags::create_paused) != 0, [call, d, with_dom](DomainResult<> r) {
            if (!r) return call.fail(r.error());
            if (with_dom)
                call.reply(DomainRet{ref(*d)});
            else
                call.reply(Void{});
        });
    });
}

void shut_down(const Call& call, const NonnullDomain& dom)
{
    with_domain(call, dom, [&](const DomainPtr& d) { call.answer(call.registry().shutdown(d)); });
}

void destroy_now(const Call& call, const NonnullDomain& dom)
{
    with_domain(call, dom,
                [&](const DomainPtr& d) { call.registry().destroy(d, [call](DomainResult<> r) { call.answer(r); }); });
}

void pause_or_resume(const Call& call, const NonnullDomain& dom, bool pause)
{
    with_domain(call, dom, [&](const DomainPtr& d) {
        call.registry().suspend(d, pause, [call](DomainResult<> r) { call.answer(r); });
    });
}

void undefine_one(const Call& call, const NonnullDomain& dom)
{
    with_domain(call, dom, [&](const DomainPtr& d) { call.answer(call.registry().undefine(d)); });
}

}  // namespace

void domain_define_xml(const Call& call, const DomainDefineXmlArgs& a)
{
    define_from(call, a.xml);
}

void domain_define_xml_flags(const Call& call, const DomainDefineXmlFlagsArgs& a)
{
    define_from(call, a.xml);
}

void domain_create_xml(const Call& call, const DomainCreateXmlArgs& a)
{
    call.registry().create(
        a.xml_desc, (a.flags & flags::create_paused) != 0,
        [call](DomainResult<DomainPtr> r) {
            if (!r) return call.fail(r.error());
            call.reply(DomainRet{ref(**r)});
        },
        call.caller());
}

void domain_create(const Call& call, const DomainArgs& a)
{
    start_existing(call, a.dom, 0, false);
}

void domain_create_with_flags(const Call& call, const DomainFlagsArgs& a)
{
    start_existing(call, a.dom, a.flags, true);
}

void domain_shutdown(const Call& call, const DomainArgs& a)
{
    shut_down(call, a.dom);
}

void domain_shutdown_flags(const Call& call, const DomainFlagsArgs& a)
{
    shut_down(call, a.dom);
}

void domain_destroy(const Call& call, const DomainArgs& a)
{
    destroy_now(call, a.dom);
}

void domain_destroy_flags(const Call& call, const DomainFlagsArgs& a)
{
    destroy_now(call, a.dom);
}

void domain_suspend(const Call& call, const DomainArgs& a)
{
    pause_or_resume(call, a.dom, true);
}

void domain_resume(const Call& call, const DomainArgs& a)
{
    pause_or_resume(call, a.dom, false);
}

// Neither a reboot nor a reset can be honoured by any fleet guest kind
// (docs/domain-xml.md, "Reboot and reset"): each runs the one program its
// exec block names, given once at launch, and QEMU runs with -no-reboot,
// so a reset ends QEMU. The answer says so, for a running domain; a
// stopped one gets libvirt's "not running" first, as from libvirtd.
void domain_reboot(const Call& call, const DomainFlagsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        call.fail(LibvirtError{err::no_support,
                               "this function is not supported by the connection driver: virDomainReboot "
                               "(a fleet guest runs one program once; use shutdown and start)"});
    });
}

void domain_reset(const Call& call, const DomainFlagsArgs& a)
{
    with_domain(call, a.dom, [&](const DomainPtr& d) {
        if (!d->active()) return call.fail(not_running());
        call.fail(LibvirtError{err::no_support,
                               "this function is not supported by the connection driver: virDomainReset "
                               "(a fleet guest runs one program once and QEMU runs with -no-reboot; use "
                               "destroy and start)"});
    });
}

void domain_undefine(const Call& call, const DomainArgs& a)
{
    undefine_one(call, a.dom);
}

void domain_undefine_flags(const Call& call, const DomainFlagsArgs& a)
{
    undefine_one(call, a.dom);
}

void domain_set_autostart(const Call& call, const DomainSetAutostartArgs& a)
{
    with_domain(call, a.dom,
                [&](const DomainPtr& d) { call.answer(call.registry().set_autostart(d, a.autostart != 0)); });
}

FLEET_SERVE_GROUP(domains)

}  // namespace fleet::router::libvirt
