// fleet — QEMU command-line building (see cmdline.hpp).
#include <fleet/vmm/cmdline.hpp>

namespace fleet::vmm {

std::string qemu_escape(const std::string& value)
{
    std::string out;
    for (char c : value) {
        out += c;
        if (c == ',') out += ',';
    }
    return out;
}

std::string shell_join(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_./=:,+@%") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) {
            if (c == '\'') out += "'\\''";
            else out += c;
        }
        out += '\'';
    }
    return out;
}

std::vector<std::string> qemu_argv(const std::string& qemu, const VmSpec& spec, Accel accel, const Wiring& wiring)
{
    std::vector<std::string> a = {qemu};
    auto add = [&a](std::initializer_list<std::string> words) { a.insert(a.end(), words); };
    add({"-M", machine_options});
    add({"-accel", std::string(to_string(accel))});
    add({"-cpu", !spec.cpu.empty() ? spec.cpu : accel == Accel::kvm ? "host" : "max"});
    add({"-m", std::to_string(spec.memory_mib) + "M", "-smp", std::to_string(spec.vcpus)});
    add({"-name", "guest=" + qemu_escape(spec.name)});
    add({"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"});
    if (spec.start_paused) add({"-S"});
    add({"-kernel", spec.kernel});
    if (!spec.initrd.empty()) add({"-initrd", spec.initrd});
    std::string line = kernel_cmdline(spec);
    if (!line.empty()) add({"-append", line});

    // Guest channels (images/README.md).
    if (spec.stdio == StdioKind::isa) {
        // COM1 stdout+stdin, COM2 stderr, the UART at 0x3e8 the control lines.
        add({"-chardev", wiring.out + ",id=fleet-out", "-serial", "chardev:fleet-out"});
        add({"-chardev", wiring.err + ",id=fleet-err", "-device", "isa-serial,chardev=fleet-err,iobase=0x2f8,irq=3"});
        add({"-chardev", wiring.ctl + ",id=fleet-ctl", "-device", "isa-serial,chardev=fleet-ctl,iobase=0x3e8,irq=6"});
    } else {
        // COM1 the console; four named ports on one virtio-serial device.
        add({"-chardev", wiring.console + ",id=fleet-console", "-serial", "chardev:fleet-console"});
        add({"-device", "virtio-serial-device,max_ports=5"});
        const std::pair<const char*, const std::string*> ports[] = {
            {"stdin", &wiring.in}, {"stdout", &wiring.out}, {"stderr", &wiring.err}, {"ctl", &wiring.ctl}};
        int nr = 1;
        for (auto [port, backend] : ports) {
            std::string id = std::string("fleet-") + port;
            add({"-chardev", *backend + ",id=" + id, "-device",
                 "virtserialport,chardev=" + id + ",name=fleet." + port + ",nr=" + std::to_string(nr++)});
        }
    }
    // Shared folders: virtio-9p, tag fleet-shareN (the guest mounts it where
    // fleet.shareN= on its command line says).
    for (std::size_t i = 0; i < spec.shares.size(); ++i) {
        const auto& s = spec.shares[i];
        std::string id = "fleet-share" + std::to_string(i);
        add({"-fsdev", "local,id=" + id + ",path=" + qemu_escape(s.host_path) + ",security_model=none" +
                           (s.read_only ? ",readonly=on" : ""),
             "-device", "virtio-9p-device,fsdev=" + id + ",mount_tag=" + id});
    }
    // isa-debug-exit: the fast way out for every guest.
    add({"-device", "isa-debug-exit,iobase=0xf4,iosize=4"});

    if (!wiring.qmp.empty())
        add({"-chardev", wiring.qmp + ",id=fleet-qmp", "-mon", "chardev=fleet-qmp,mode=control"});
    if (!wiring.qmp_public.empty())
        add({"-chardev", "socket,id=fleet-qmp-pub,server=on,wait=off,path=" + qemu_escape(wiring.qmp_public),
             "-mon", "chardev=fleet-qmp-pub,mode=control"});
    return a;
}

}  // namespace fleet::vmm
