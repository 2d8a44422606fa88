// fleet — the exec block (see exec.hpp).
#include <fleet/vmm/exec.hpp>

#include <fleet/abi/guest.h>
#include <fleet/vmm/net.hpp>

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace fleet::vmm {

namespace {

void put_u32(std::string& out, std::size_t at, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

Result<ExecHost> host_trailer()
{
    ExecHost h;
    h.seed.resize(FLEET_EXEC_SEED_SIZE);
    for (std::size_t got = 0; got < h.seed.size();) {
        ssize_t n = ::getrandom(h.seed.data() + got, h.seed.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read random bytes");
        got += static_cast<std::size_t>(n);
    }
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    h.realtime_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
    return h;
}

Result<std::string> exec_block(const VmSpec& spec, const ExecHost* host)
{
    std::size_t strings = spec.args.size() + spec.env.size();
    if (strings > FLEET_EXEC_MAX_STRINGS)
        return fail("too many arguments and variables (" + std::to_string(strings) + ", at most " +
                    std::to_string(FLEET_EXEC_MAX_STRINGS) + ")");
    std::string body;
    for (const auto* list : {&spec.args, &spec.env})
        for (const auto& s : *list) body.append(s).push_back('\0');
    body.append(spec.workdir).push_back('\0');
    if (spec.shares.size() > FLEET_MAX_SHARES)
        return fail("at most " + std::to_string(FLEET_MAX_SHARES) + " shared folders");
    for (const auto& share : spec.shares) {
        if (!is_mount_point(share.guest_path))
            return fail("shared folder's mount point '" + share.guest_path + "': " + std::string(mount_point_rule));
        body.append(share.guest_path).append(share.read_only ? "" : FLEET_SHARE_RW).push_back('\0');
    }
    if (spec.nets.size() > FLEET_MAX_NETS)
        return fail("at most " + std::to_string(FLEET_MAX_NETS) + " network interfaces");
    for (const auto& n : spec.nets) body.append(net_exec_string(n)).push_back('\0');
    if (body.size() > FLEET_EXEC_MAX_SIZE)
        return fail("arguments, environment, working folder, mount points and interfaces take " +
                    std::to_string(body.size()) + " bytes, at most " + std::to_string(FLEET_EXEC_MAX_SIZE));
    std::string block(sizeof(fleet_exec_header), '\0');
    put_u32(block, offsetof(fleet_exec_header, magic), FLEET_EXEC_MAGIC);
    put_u32(block, offsetof(fleet_exec_header, version), FLEET_ABI_VERSION);
    put_u32(block, offsetof(fleet_exec_header, argc), static_cast<std::uint32_t>(spec.args.size()));
    put_u32(block, offsetof(fleet_exec_header, envc), static_cast<std::uint32_t>(spec.env.size()));
    put_u32(block, offsetof(fleet_exec_header, sharec), static_cast<std::uint32_t>(spec.shares.size()));
    put_u32(block, offsetof(fleet_exec_header, netc), static_cast<std::uint32_t>(spec.nets.size()));
    std::uint32_t flags = 0;
    if (spec.tty) {
        const Terminal& t = *spec.tty;
        if (t.rows < 1 || t.rows > FLEET_TTY_MAX || t.cols < 1 || t.cols > FLEET_TTY_MAX)
            return fail("a terminal of " + std::to_string(t.rows) + "x" + std::to_string(t.cols) +
                        " (rows and columns are 1.." + std::to_string(FLEET_TTY_MAX) + ")");
        std::string trailer(FLEET_EXEC_TTY_SIZE, '\0');
        trailer[0] = static_cast<char>(t.rows & 0xff);
        trailer[1] = static_cast<char>(t.rows >> 8);
        trailer[2] = static_cast<char>(t.cols & 0xff);
        trailer[3] = static_cast<char>(t.cols >> 8);
        put_u32(trailer, 4, t.stderr_too ? FLEET_TTY_STDERR : 0);
        body += trailer;
        flags |= FLEET_EXEC_F_TTY;
    }
    if (host) {
        if (host->seed.size() != FLEET_EXEC_SEED_SIZE) return fail("a seed of the wrong size");
        body += host->seed;
        for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((host->realtime_ns >> (8 * i)) & 0xff));
        flags |= FLEET_EXEC_F_HOST;
    }
    put_u32(block, offsetof(fleet_exec_header, flags), flags);
    put_u32(block, offsetof(fleet_exec_header, size), static_cast<std::uint32_t>(body.size()));
    return block + body;
}

Result<std::string> rehearsal_block()
{
    auto host = host_trailer();
    if (!host) return std::unexpected(host.error());
    VmSpec rehearsal;
    rehearsal.args = {"true"};
    auto block = exec_block(rehearsal, &*host);
    if (!block) return block;
    put_u32(*block, offsetof(fleet_exec_header, flags), FLEET_EXEC_F_HOST | FLEET_EXEC_F_REHEARSE);
    return block;
}

std::string percent_encode(std::string_view bytes)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.' ||
                     u == '_' || u == '/' || u == '-';
        if (plain) {
            out += c;
            continue;
        }
        out += '%';
        out += hex[u >> 4];
        out += hex[u & 15];
    }
    return out;
}

}  // namespace fleet::vmm
