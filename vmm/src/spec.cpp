// fleet — VM spec parsing and validation (see spec.hpp).
#include <fleet/vmm/spec.hpp>

#include <fleet/base/terminal.hpp>
#include <fleet/vmm/net.hpp>

#include "elf.hpp"

#include <fleet/abi/guest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <charconv>

namespace fleet::vmm {

std::string_view to_string(Accel a)
{
    switch (a) {
        case Accel::automatic:
            return "auto";
        case Accel::kvm:
            return "kvm";
        case Accel::tcg:
            return "tcg";
    }
    return "?";
}

Result<Accel> parse_accel(std::string_view text)
{
    if (text == "auto") return Accel::automatic;
    if (text == "kvm") return Accel::kvm;
    if (text == "tcg") return Accel::tcg;
    return fail("unknown accelerator '" + std::string(text) + "' (use auto, kvm or tcg)");
}

std::string_view to_string(StdioKind k)
{
    return k == StdioKind::virtio ? "virtio" : "isa";
}

Result<StdioKind> parse_stdio(std::string_view text)
{
    if (text == "isa") return StdioKind::isa;
    if (text == "virtio") return StdioKind::virtio;
    return fail("unknown stdio kind '" + std::string(text) + "' (use isa or virtio)");
}

Result<std::uint64_t> parse_memory(std::string_view text)
{
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::string bad = "bad memory size '" + std::string(text) + "' (use e.g. 64M or 1G)";
    if (ec != std::errc() || end == text.data()) return fail(bad);
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "M" || unit == "MiB" || unit == "m" || unit == "MB")
        scale = 1;
    else if (unit == "G" || unit == "GiB" || unit == "g" || unit == "GB")
        scale = 1024;
    else
        return fail(bad);
    std::string range = "memory size '" + std::string(text) + "' out of range (2M to 1024G)";
    if (value > max_memory_mib / scale) return fail(range);  // also keeps value * scale from overflowing
    std::uint64_t mib = value * scale;
    if (mib < min_memory_mib) return fail(range);
    return mib;
}

bool is_valid_name(std::string_view name)
{
    auto ok_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
               c == '-';
    };
    bool ok =
        !name.empty() && name.size() <= 64 && ok_char(name[0]) && name[0] != '.' && name[0] != '-' && name[0] != '_';
    for (char c : name) ok = ok && ok_char(c);
    return ok;
}

Result<> validate_name(std::string_view name)
{
    if (!is_valid_name(name)) return fail("bad VM name '" + std::string(name) + "' (" + name_rule + ")");
    return {};
}

bool is_linux_guest(const VmSpec& spec)
{
    return spec.stdio == StdioKind::virtio && !spec.initrd.empty();
}

Result<> validate(const VmSpec& spec)
{
    if (auto r = validate_name(spec.name); !r) return r;
    if (spec.memory_mib < min_memory_mib || spec.memory_mib > max_memory_mib)
        return fail("memory " + std::to_string(spec.memory_mib) + " MiB out of range (2M to 1024G)");
    if (spec.vcpus < 1 || spec.vcpus > max_vcpus)
        return fail("bad vCPU count " + std::to_string(spec.vcpus) + " (1 to " + std::to_string(max_vcpus) + ")");
    if (spec.boot_timeout.count() <= 0) return fail("boot timeout must be positive");
    if (spec.kernel.empty()) return fail("no kernel given");
    if (auto r = check_pvh_kernel(spec.kernel); !r) return r;
    if (!spec.initrd.empty() && ::access(spec.initrd.c_str(), R_OK) != 0)
        return fail_errno("initrd '" + spec.initrd + "' cannot be read");
    for (const auto& a : spec.args)
        if (a.find('\0') != std::string::npos) return fail("an argument contains a NUL byte");
    for (const auto& e : spec.env)
        if (auto r = validate_env(e); !r) return r;
    if (!spec.workdir.empty()) {
        bool on_share = false;
        for (const auto& s : spec.shares) {
            const std::string& g = s.guest_path;
            on_share = on_share || spec.workdir == g || (spec.workdir.starts_with(g) && spec.workdir[g.size()] == '/');
        }
        if (spec.workdir[0] != '/' || spec.workdir.find('\0') != std::string::npos)
            return fail("working folder '" + spec.workdir + "' is not an absolute path");
        if (!on_share)
            return fail("working folder '" + spec.workdir + "' is not on a shared folder (--share HOST:GUEST)");
    }
    std::size_t len = kernel_cmdline(spec).size();
    if (len > FLEET_CMDLINE_MAX)
        return fail("kernel command line too long (" + std::to_string(len) + " bytes, at most " +
                    std::to_string(FLEET_CMDLINE_MAX) + ")");
    if (auto n = validate_nets(spec.nets); !n) return n;
    if (auto r = validate_devices(spec); !r) return r;
    if (spec.hypervisor_fds.size() > FLEET_HYPERVISOR_PORTS)
        return fail("a hypervisor channel has at most " + std::to_string(FLEET_HYPERVISOR_PORTS) + " ports");
    if (!spec.hypervisor_fds.empty() && spec.stdio != StdioKind::virtio)
        return fail("a hypervisor channel needs a virtio guest (a runtime or Linux image); this image is stdio=isa");
    if (spec.tty && spec.stdio != StdioKind::virtio)
        return fail("a terminal for the program needs a Linux image; this image is stdio=isa");
    if (!spec.shares.empty() && spec.stdio != StdioKind::virtio)
        return fail("shared folders need a virtio guest (a Linux image); this image is stdio=isa");
    if (spec.shares.size() > FLEET_MAX_SHARES)
        return fail("at most " + std::to_string(FLEET_MAX_SHARES) + " shared folders");
    for (const auto& s : spec.shares) {
        if (!is_mount_point(s.guest_path))
            return fail("shared folder '" + s.host_path + "': mount point '" + s.guest_path +
                        "': " + std::string(mount_point_rule));
        struct stat st {};
        if (::stat(s.host_path.c_str(), &st) != 0) return fail_errno("shared folder '" + s.host_path + "'");
        if (!S_ISDIR(st.st_mode)) return fail("shared folder '" + s.host_path + "' is not a folder");
    }
    return {};
}

bool is_mount_point(std::string_view path)
{
    return !path.empty() && path[0] == '/' && path.find_first_of(std::string_view(":\0", 2)) == path.npos;
}

Result<SharedFolder> parse_share(std::string_view text)
{
    SharedFolder s;
    std::string t(text);
    auto take_mode = [&](const char* suffix, bool ro) {
        if (t.size() > 3 && t.ends_with(suffix)) {
            s.read_only = ro;
            t.resize(t.size() - 3);
        }
    };
    take_mode(":ro", true);
    take_mode(":rw", false);
    auto colon = t.find(':');
    s.host_path = t.substr(0, colon);
    if (colon != std::string::npos) s.guest_path = t.substr(colon + 1);
    std::string bad = "bad --share '" + std::string(text) + "' (use HOST[:GUEST][:ro|:rw])";
    if (s.host_path.empty()) return fail(bad);
    if (s.guest_path.empty()) {
        std::string base = s.host_path;
        while (base.size() > 1 && base.back() == '/') base.pop_back();
        auto slash = base.rfind('/');
        base = slash == std::string::npos ? base : base.substr(slash + 1);
        if (base.empty() || base == "/" || base == "." || base == "..") base = "share";
        s.guest_path = "/mnt/" + base;
    }
    if (!is_mount_point(s.guest_path)) return fail(bad + ": " + std::string(mount_point_rule));
    return s;
}

std::string kernel_cmdline(const VmSpec& spec)
{
    // The drain request goes before the image's line; the shares' mount
    // points and the interfaces' addresses travel in the exec block
    // (<fleet/abi/guest.h>).
    std::string line;
    if (spec.drain && spec.stdio == StdioKind::virtio) line += FLEET_CMDLINE_DRAIN " ";
    if (!spec.hypervisor_fds.empty()) line += FLEET_CMDLINE_HYPERVISOR " ";
    line += spec.extra_cmdline;
    if (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

Result<> validate_env(std::string_view var)
{
    auto eq = var.find('=');
    if (eq == 0 || eq == std::string_view::npos || var.find('\0') != std::string_view::npos)
        return fail("bad environment variable '" + std::string(var.substr(0, 64)) + "' (use NAME=VALUE)");
    return {};
}

bool in_front_of_terminal()
{
    return ::isatty(0) && ::isatty(1) && ::tcgetpgrp(0) == ::getpgrp();
}

Terminal terminal_here()
{
    Terminal t;
    if (auto size = terminal_size(0)) {
        t.rows = static_cast<std::uint16_t>(std::min<unsigned>(size->rows, FLEET_TTY_MAX));
        t.cols = static_cast<std::uint16_t>(std::min<unsigned>(size->cols, FLEET_TTY_MAX));
    }
    t.stderr_too = ::isatty(2);
    return t;
}

}  // namespace fleet::vmm
