// fleet — QEMU command-line building (see cmdline.hpp).
#include <fleet/vmm/cmdline.hpp>

#include <fleet/abi/guest.h>
#include <fleet/vmm/confine.hpp>
#include <fleet/vmm/net.hpp>

#include <cstdio>

namespace fleet::vmm {

namespace {

std::string hex(unsigned v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", v);
    return buf;
}

// An extra UART for an isa guest channel (<fleet/abi/guest.h>).
std::string isa_uart(const std::string& chardev, unsigned iobase, unsigned irq)
{
    return "isa-serial,chardev=" + chardev + ",iobase=" + hex(iobase) + ",irq=" + std::to_string(irq);
}

}  // namespace

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
        bool plain = !a.empty() && a.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-_./=:,+@%") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) {
            if (c == '\'')
                out += "'\\''";
            else
                out += c;
        }
        out += '\'';
    }
    return out;
}

std::vector<std::string> qemu_argv(const std::string& qemu, const VmSpec& spec, Accel accel, const Wiring& wiring)
{
    std::vector<std::string> a = {qemu};
    auto add = [&a](std::initializer_list<std::string> words) { a.insert(a.end(), words); };
    add({"-M", std::string(machine_options) + (spec.power_ctl ? ",acpi=off" : ",acpi=on")});
    add({"-accel", std::string(to_string(accel))});
    add({"-cpu", !spec.cpu.empty() ? spec.cpu : accel == Accel::kvm ? "host" : "max"});
    std::string memory = std::to_string(spec.memory_mib) + "M";
    add({"-m", memory, "-smp", std::to_string(spec.vcpus)});
    if (wiring.ram_fd >= 0)
        add({"-object",
             std::string("memory-backend-file,id=fleet-ram,share=") + (wiring.ram_private ? "off" : "on") +
                 ",size=" + memory + ",mem-path=/proc/self/fd/" + std::to_string(wiring.ram_fd),
             "-machine", "memory-backend=fleet-ram"});
    add({"-name", "guest=" + qemu_escape(spec.name)});
    add({"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"});
    add({"-sandbox", sandbox_options});
    for (auto [fd, set] : wiring.fd_sets) add({"-add-fd", "fd=" + std::to_string(fd) + ",set=" + std::to_string(set)});
    if (spec.start_paused) add({"-S"});
    add({"-kernel", spec.kernel});
    if (!spec.initrd.empty()) add({"-initrd", spec.initrd});
    std::string line = kernel_cmdline(spec);
    if (!wiring.exec_on_cmdline.empty())
        line += (line.empty() ? "" : " ") + std::string(FLEET_CMDLINE_EXEC) + wiring.exec_on_cmdline;
    if (!line.empty()) add({"-append", line});
    if (wiring.exec_fw_cfg_fd >= 0)
        add({"-fw_cfg",
             std::string("name=") + FLEET_FWCFG_EXEC + ",file=/proc/self/fd/" + std::to_string(wiring.exec_fw_cfg_fd)});

    // Guest channels (images/README.md).
    if (spec.stdio == StdioKind::isa) {
        // COM1 stdout+stdin, COM2 stderr, the UART at 0x3e8 the control lines.
        add({"-chardev", wiring.out + ",id=fleet-out", "-serial", "chardev:fleet-out"});
        add({"-chardev", wiring.err + ",id=fleet-err", "-device",
             isa_uart("fleet-err", FLEET_ISA_STDERR_PORT, FLEET_ISA_STDERR_IRQ)});
        add({"-chardev", wiring.ctl + ",id=fleet-ctl", "-device",
             isa_uart("fleet-ctl", FLEET_ISA_CTL_PORT, FLEET_ISA_CTL_IRQ) +
                 ",baudbase=" + std::to_string(FLEET_ISA_CTL_BAUDBASE)});
    } else {
        // COM1 the console; four named ports on one virtio-serial device.
        add({"-chardev", wiring.console + ",id=fleet-console", "-serial", "chardev:fleet-console"});
        const int max_ports = FLEET_VSERIAL_MAX_PORTS + static_cast<int>(wiring.hypervisor.size());
        add({"-device", "virtio-serial-device,max_ports=" + std::to_string(max_ports)});
        struct Port {
            const char* id;
            const char* name;
            int nr;
            const std::string* backend;
        };
        const Port ports[] = {{"fleet-stdin", FLEET_PORT_STDIN, FLEET_PORT_NR_STDIN, &wiring.in},
                              {"fleet-stdout", FLEET_PORT_STDOUT, FLEET_PORT_NR_STDOUT, &wiring.out},
                              {"fleet-stderr", FLEET_PORT_STDERR, FLEET_PORT_NR_STDERR, &wiring.err},
                              {"fleet-ctl", FLEET_PORT_CTL, FLEET_PORT_NR_CTL, &wiring.ctl}};
        for (const Port& port : ports) {
            std::string id = port.id;
            add({"-chardev", *port.backend + ",id=" + id, "-device",
                 "virtserialport,chardev=" + id + ",name=" + port.name + ",nr=" + std::to_string(port.nr)});
        }
        for (std::size_t i = 0; i < wiring.hypervisor.size(); ++i) {
            std::string id = "fleet-hypervisor" + (i ? "-" + std::to_string(i) : "");
            std::string name = FLEET_PORT_HYPERVISOR + (i ? "." + std::to_string(i) : "");
            add({"-chardev", wiring.hypervisor[i] + ",id=" + id, "-device",
                 "virtserialport,chardev=" + id + ",name=" + name +
                     ",nr=" + std::to_string(FLEET_PORT_NR_HYPERVISOR + static_cast<int>(i))});
        }
    }
    // Shared folders: virtio-9p, tag fleet-shareN (the guest mounts it where
    // the exec block says).
    for (std::size_t i = 0; i < spec.shares.size(); ++i) {
        const auto& s = spec.shares[i];
        std::string id = FLEET_SHARE_TAG + std::to_string(i);
        std::string model = s.read_only            ? ",security_model=none,readonly=on"
                            : wiring.mapped_shares ? ",security_model=mapped-xattr,fmode=0644,dmode=0755"
                                                   : ",security_model=none";
        add({"-fsdev", "local,id=" + id + ",path=" + qemu_escape(s.host_path) + model, "-device",
             "virtio-9p-device,fsdev=" + id + ",mount_tag=" + id});
    }
    // Disks and rng (block.cpp).
    for (auto& word : device_argv(spec)) a.push_back(std::move(word));
    // Network interfaces: each on a tap fd QEMU inherits (net.hpp).
    for (auto& word : net_qemu_args(spec.nets)) a.push_back(std::move(word));
    // isa-debug-exit: the fast way out for every guest.
    add({"-device",
         "isa-debug-exit,iobase=" + hex(FLEET_DEBUG_EXIT_PORT) + ",iosize=" + std::to_string(FLEET_DEBUG_EXIT_SIZE)});

    if (!wiring.qmp.empty()) add({"-chardev", wiring.qmp + ",id=fleet-qmp", "-mon", "chardev=fleet-qmp,mode=control"});
    if (wiring.qmp_public_fd >= 0)
        add({"-chardev", "socket,id=fleet-qmp-pub,server=on,wait=off,fd=" + std::to_string(wiring.qmp_public_fd),
             "-mon", "chardev=fleet-qmp-pub,mode=control"});
    else if (!wiring.qmp_public.empty())
        add({"-chardev", "socket,id=fleet-qmp-pub,server=on,wait=off,path=" + qemu_escape(wiring.qmp_public), "-mon",
             "chardev=fleet-qmp-pub,mode=control"});
    if (!wiring.incoming.empty()) add({"-incoming", wiring.incoming});
    return a;
}

}  // namespace fleet::vmm
