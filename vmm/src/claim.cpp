// fleet — the claim socket's messages (see claim.hpp).
#include <fleet/vmm/claim.hpp>

#include <fleet/vmm/exec.hpp>
#include <fleet/vmm/spec.hpp>
#include <fleet/vmm/supervisor.hpp>

#include <fleet/abi/guest.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace fleet::vmm {

namespace {

constexpr std::uint32_t claim_magic = 0x51434c46u;  // "FLCQ"
constexpr std::uint32_t claim_version = 1;
constexpr std::uint32_t flag_stdin = 1, flag_remove = 2, flag_detached = 4;
constexpr std::chrono::milliseconds claim_deadline_max{86400000};  // a day
constexpr std::size_t claim_body_max = 64 + sizeof(fleet_exec_header) + FLEET_EXEC_MAX_SIZE;

void put_u32(std::string& out, std::uint32_t v)
{
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(std::string_view in, std::size_t at)
{
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    return v;
}

// "123" -> 123 within [lo, hi], the whole text.
std::optional<int> number(std::string_view text, int lo, int hi)
{
    int v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) return std::nullopt;
    return v;
}

// The next space-separated word of `line`, removed from it.
std::string_view word(std::string_view& line)
{
    auto sp = line.find(' ');
    std::string_view w = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    return w;
}

}  // namespace

ClaimRequest claim_request(const SupervisorOptions& o, bool detached)
{
    return ClaimRequest{.name = o.spec.name,
                        .args = o.spec.args,
                        .env = o.spec.env,
                        .workdir = o.spec.workdir,
                        .tty = o.spec.tty,
                        .forward_stdin = o.forward_stdin,
                        .auto_remove = o.auto_remove,
                        .detached = detached,
                        .stop_deadline = o.stop_deadline};
}

Result<std::string> encode_claim(const ClaimRequest& r)
{
    VmSpec program;
    program.args = r.args;
    program.env = r.env;
    program.workdir = r.workdir;
    program.tty = r.tty;
    auto block = exec_block(program);
    if (!block) return std::unexpected(block.error());
    std::string body = r.name + std::string(1, '\0') + *block;
    std::string out;
    put_u32(out, claim_magic);
    put_u32(out, claim_version);
    put_u32(out,
            (r.forward_stdin ? flag_stdin : 0) | (r.auto_remove ? flag_remove : 0) | (r.detached ? flag_detached : 0));
    put_u32(out,
            static_cast<std::uint32_t>(std::clamp<long long>(r.stop_deadline.count(), 0, claim_deadline_max.count())));
    put_u32(out, static_cast<std::uint32_t>(body.size()));
    return out + body;
}

Result<std::size_t> claim_body_size(std::string_view header)
{
    if (header.size() < claim_header_size) return fail("claim: a short header");
    if (get_u32(header, 0) != claim_magic) return fail("claim: bad magic");
    if (get_u32(header, 4) != claim_version) return fail("claim: unsupported version");
    std::size_t size = get_u32(header, 16);
    if (size > claim_body_max) return fail("claim: too large");
    return size;
}

Result<ClaimRequest> decode_claim(std::string_view bytes)
{
    auto size = claim_body_size(bytes);
    if (!size) return std::unexpected(size.error());
    if (bytes.size() != claim_header_size + *size) return fail("claim: the size does not match");
    ClaimRequest r;
    std::uint32_t flags = get_u32(bytes, 8);
    if (flags & ~(flag_stdin | flag_remove | flag_detached)) return fail("claim: unknown flags");
    r.forward_stdin = flags & flag_stdin;
    r.auto_remove = flags & flag_remove;
    r.detached = flags & flag_detached;
    r.stop_deadline = std::chrono::milliseconds(get_u32(bytes, 12));
    if (r.stop_deadline > claim_deadline_max) return fail("claim: a stop deadline over a day");
    std::string_view body = bytes.substr(claim_header_size);
    auto nul = body.find('\0');
    if (nul == std::string_view::npos) return fail("claim: no name");
    r.name = std::string(body.substr(0, nul));
    if (auto v = validate_name(r.name); !v) return fail("claim: " + v.error().message);
    std::string_view block = body.substr(nul + 1);
    fleet_exec_header h;
    if (block.size() < sizeof h) return fail("claim: a short exec block");
    std::memcpy(&h, block.data(), sizeof h);
    if (const char* why = fleet_exec_check_header(&h)) return fail(std::string("claim: exec block: ") + why);
    std::string_view s = block.substr(sizeof h);
    if (s.size() != h.size) return fail("claim: exec block: the size does not match");
    if (const char* why = fleet_exec_check_strings(&h, s.data())) return fail(std::string("claim: exec block: ") + why);
    if (h.sharec != 0) return fail("claim: exec block: shared folders (a pooled VM has none)");
    if (h.netc != 0) return fail("claim: exec block: network interfaces (a pooled VM has none)");
    if (h.flags & FLEET_EXEC_F_TTY) {
        fleet_exec_tty t = fleet_exec_tty_of(&h, s.data());
        r.tty = Terminal{t.rows, t.cols, (t.flags & FLEET_TTY_STDERR) != 0};
    }
    for (std::uint32_t i = 0; i < h.argc + h.envc + 1; ++i) {
        std::string str(s.data());  // the checks above guarantee a NUL
        s.remove_prefix(str.size() + 1);
        if (i < h.argc)
            r.args.push_back(std::move(str));
        else if (i < h.argc + h.envc)
            r.env.push_back(std::move(str));
        else
            r.workdir = std::move(str);
    }
    return r;
}

std::string format_event(const ClaimEvent& e)
{
    if (e.kind == ClaimEvent::ready) return "ready\n";
    if (e.kind == ClaimEvent::stopped) return "stopped\n";
    std::string msg;
    for (char c : e.message) msg += c == '\n' ? ' ' : c;
    std::string line = "exit " + std::to_string(e.status) + (e.report ? " 1 " : " 0 ") + msg;
    if (line.size() >= claim_line_max) line.resize(claim_line_max - 1);
    return line + "\n";
}

Result<ClaimEvent> parse_event(std::string_view line)
{
    ClaimEvent e;
    if (line == "ready") return e;
    if (line == "stopped") return ClaimEvent{ClaimEvent::stopped, 0, false, {}};
    if (word(line) != "exit") return fail("claim: unknown line from the pooled VM");
    auto status = number(word(line), 0, 255);
    auto report = number(word(line), 0, 1);
    if (!status || !report) return fail("claim: a bad exit line from the pooled VM");
    return ClaimEvent{ClaimEvent::exit, *status, *report == 1, std::string(line)};
}

std::string format_signal(const ClaimSignal& s)
{
    return "signal " + std::to_string(s.sig) + " " + std::to_string(s.value) + "\n";
}

Result<ClaimSignal> parse_signal_line(std::string_view line)
{
    if (word(line) != "signal") return fail("claim: unknown line from the claimant");
    auto sig = number(word(line), 1, 64);
    auto value = number(word(line), -1, 0x7fffffff);
    if (!sig || !value || !line.empty()) return fail("claim: a bad signal line");
    return ClaimSignal{*sig, *value};
}

}  // namespace fleet::vmm
