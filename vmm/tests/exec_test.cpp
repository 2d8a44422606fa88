// The exec block: built by the launcher, checked by the guests' own C code
// from <fleet/abi/guest.h>, here on the host.
#include <fleet/abi/guest.h>
#include <fleet/test/support.hpp>
#include <fleet/vmm/exec.hpp>

#include <cstring>
#include <string_view>

using namespace fleet::vmm;

namespace {

struct Parsed {
    std::vector<std::string> args, env, shares, nets;
    std::string workdir;
};

// What a guest does: header, checks, then walks the strings.
Parsed guest_parse(const std::string& block)
{
    REQUIRE(block.size() >= sizeof(fleet_exec_header));
    fleet_exec_header h;
    std::memcpy(&h, block.data(), sizeof h);
    REQUIRE(fleet_exec_check_header(&h) == nullptr);
    REQUIRE(block.size() == sizeof h + h.size);
    const char* s = block.data() + sizeof h;
    REQUIRE(fleet_exec_check_strings(&h, s) == nullptr);
    Parsed p;
    for (uint32_t i = 0; i < h.argc + h.envc + 1 + h.sharec + h.netc; ++i) {
        std::string str(s);
        s += str.size() + 1;
        if (i < h.argc)
            p.args.push_back(str);
        else if (i < h.argc + h.envc)
            p.env.push_back(str);
        else if (i == h.argc + h.envc)
            p.workdir = str;
        else if (i <= h.argc + h.envc + h.sharec)
            p.shares.push_back(str);
        else
            p.nets.push_back(str);
    }
    return p;
}

}  // namespace

TEST_CASE("exec block: any bytes but NUL survive the round trip", "[exec]")
{
    VmSpec s;
    s.args = {"a b", "", "it's \"quoted\"", "line\nbreak", "h\xc3\xa9llo \xe2\x9c\x93", "\t", "--"};
    s.env = {"A=1", "EMPTY=", "SP=x y=z"};
    s.workdir = "/mnt/src/sub dir";
    auto block = exec_block(s);
    REQUIRE(block);
    Parsed p = guest_parse(*block);
    CHECK(p.args == s.args);
    CHECK(p.env == s.env);
    CHECK(p.workdir == s.workdir);
}

TEST_CASE("exec block: nothing at all is a valid block", "[exec]")
{
    auto block = exec_block(VmSpec{});
    REQUIRE(block);
    CHECK(block->size() == sizeof(fleet_exec_header) + 1);
    Parsed p = guest_parse(*block);
    CHECK(p.args.empty());
    CHECK(p.workdir.empty());
}

TEST_CASE("exec block: 4096 arguments and a 120 KiB one fit; the limits are clear", "[exec]")
{
    VmSpec s;
    for (int i = 0; i < 4096; ++i) s.args.push_back(std::to_string(i));
    s.args.push_back(std::string(120 * 1024, 'x'));
    auto block = exec_block(s);
    REQUIRE(block);
    CHECK(guest_parse(*block).args.size() == 4097);

    VmSpec big;
    big.args = {std::string(FLEET_EXEC_MAX_SIZE, 'x')};
    auto over = exec_block(big);
    REQUIRE_FALSE(over);
    CHECK(over.error().what().find("at most") != std::string::npos);

    VmSpec many;
    many.args.assign(FLEET_EXEC_MAX_STRINGS + 1, "a");
    CHECK_FALSE(exec_block(many));
}

TEST_CASE("exec block: the guest's checks refuse bad blocks", "[exec]")
{
    VmSpec s;
    s.args = {"x"};
    s.env = {"A=1"};
    auto good = exec_block(s);
    REQUIRE(good);
    fleet_exec_header h;
    std::memcpy(&h, good->data(), sizeof h);
    const char* strings = good->data() + sizeof h;

    fleet_exec_header bad = h;
    bad.magic ^= 1;
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    bad = h;
    bad.version = 1;
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    bad = h;
    bad.size = FLEET_EXEC_MAX_SIZE + 1;
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    bad = h;
    bad.argc = 0xffffffffu;
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    bad = h;
    bad.argc = 2;  // the counts do not match the strings
    CHECK(fleet_exec_check_strings(&bad, strings) != nullptr);
    std::string novalue = std::string("x\0A\0\0", 5);
    bad = h;
    bad.size = static_cast<uint32_t>(novalue.size());
    CHECK(fleet_exec_check_strings(&bad, novalue.data()) != nullptr);  // "A" is not NAME=VALUE
}

TEST_CASE("exec block: the shares' mount points follow the working folder", "[exec]")
{
    VmSpec s;
    s.args = {"ls"};
    s.workdir = "/home/me/src dir";
    s.shares = {SharedFolder{"/home/me/src dir", "/home/me/src dir", true}, SharedFolder{"/srv/out", "/out", false}};
    auto block = exec_block(s);
    REQUIRE(block);
    Parsed p = guest_parse(*block);
    CHECK(p.workdir == "/home/me/src dir");
    CHECK(p.shares == std::vector<std::string>{"/home/me/src dir", "/out:rw"});

    fleet_exec_header h;
    std::memcpy(&h, block->data(), sizeof h);
    CHECK(h.sharec == 2);
    const char* strings = block->data() + sizeof h;
    fleet_exec_header bad = h;
    bad.sharec = FLEET_MAX_SHARES + 1;
    CHECK(std::string_view(fleet_exec_check_header(&bad)) == "too many shared folders");
    bad = h;
    bad.sharec = 1;  // one string left over
    CHECK(fleet_exec_check_strings(&bad, strings) != nullptr);
    std::string relative = std::string("ls\0\0out\0", 8);
    bad = h;
    bad.sharec = 1;
    bad.size = static_cast<uint32_t>(relative.size());
    CHECK(std::string_view(fleet_exec_check_strings(&bad, relative.data())) == "a mount point is not an absolute path");

    VmSpec nine = s;
    nine.shares.assign(FLEET_MAX_SHARES + 1, SharedFolder{"/srv", "/srv", true});
    CHECK_FALSE(exec_block(nine));
    VmSpec rel = s;
    rel.shares = {SharedFolder{"/srv", "srv", true}};
    CHECK_FALSE(exec_block(rel));
}

TEST_CASE("exec block: the network interfaces follow the mount points", "[exec]")
{
    VmSpec s;
    s.args = {"ping"};
    s.shares = {SharedFolder{"/srv/out", "/out", false}};
    s.nets = {
        NetInterface{
            .tap_fd = 3, .tap_name = "t0", .mac = "0e:00:00:00:00:01", .ipv4 = "10.77.0.2/24", .gateway = "10.77.0.1"},
        NetInterface{.tap_fd = 4, .tap_name = "t1", .mac = "0e:00:00:00:00:02", .ipv4 = "", .gateway = ""}};
    auto block = exec_block(s);
    REQUIRE(block);
    Parsed p = guest_parse(*block);
    CHECK(p.shares == std::vector<std::string>{"/out:rw"});
    CHECK(p.nets == std::vector<std::string>{"0e:00:00:00:00:01,10.77.0.2/24,10.77.0.1", "0e:00:00:00:00:02"});

    fleet_exec_header h;
    std::memcpy(&h, block->data(), sizeof h);
    CHECK(h.netc == 2);
    fleet_exec_header bad = h;
    bad.netc = FLEET_MAX_NETS + 1;
    CHECK(std::string_view(fleet_exec_check_header(&bad)) == "too many network interfaces");
    bad = h;
    bad.netc = 1;  // one string left over
    CHECK(fleet_exec_check_strings(&bad, block->data() + sizeof h) != nullptr);
    std::string empty = std::string("ping\0\0\0", 7);
    bad = h;
    bad.sharec = 0;
    bad.netc = 1;
    bad.size = static_cast<uint32_t>(empty.size());
    CHECK(std::string_view(fleet_exec_check_strings(&bad, empty.data())) == "a network interface is empty");

    VmSpec five = s;
    five.nets.assign(FLEET_MAX_NETS + 1, s.nets[0]);
    CHECK_FALSE(exec_block(five));
}

TEST_CASE("exec block: the host trailer (seed and clock) follows the strings", "[exec]")
{
    VmSpec s;
    s.args = {"sh", "-c", "true"};
    s.env = {"A=1"};
    auto host = host_trailer();
    REQUIRE(host);
    CHECK(host->seed.size() == FLEET_EXEC_SEED_SIZE);
    auto other = host_trailer();
    REQUIRE(other);
    CHECK(host->seed != other->seed);
    auto block = exec_block(s, &*host);
    REQUIRE(block);
    fleet_exec_header h;
    std::memcpy(&h, block->data(), sizeof h);
    CHECK(h.flags == FLEET_EXEC_F_HOST);
    CHECK(h.size == 16 + FLEET_EXEC_HOST_SIZE);  // "sh", "-c", "true", "A=1", "" and the trailer
    CHECK(fleet_exec_check_header(&h) == nullptr);
    CHECK(fleet_exec_check_strings(&h, block->data() + sizeof h) == nullptr);
    fleet_exec_host t;
    std::memcpy(&t, block->data() + sizeof h + fleet_exec_strings_size(&h), sizeof t);
    CHECK(std::string_view(reinterpret_cast<const char*>(t.seed), sizeof t.seed) == host->seed);
    CHECK(t.realtime_ns == host->realtime_ns);
    fleet_exec_header bad = h;
    bad.flags = 8;  // an unknown flag
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    bad = h;
    bad.size = FLEET_EXEC_HOST_SIZE - 1;  // no room for the trailer
    CHECK(fleet_exec_check_header(&bad) != nullptr);
    static_assert(sizeof(fleet_exec_host) == FLEET_EXEC_HOST_SIZE);
}

TEST_CASE("exec block: the terminal trailer comes before the host's", "[exec]")
{
    VmSpec s;
    s.args = {"vi", "notes"};
    s.tty = Terminal{40, 120, true};
    auto host = host_trailer();
    REQUIRE(host);
    auto block = exec_block(s, &*host);
    REQUIRE(block);
    fleet_exec_header h;
    std::memcpy(&h, block->data(), sizeof h);
    CHECK(h.flags == (FLEET_EXEC_F_TTY | FLEET_EXEC_F_HOST));
    CHECK(h.size == 10 + FLEET_EXEC_TTY_SIZE + FLEET_EXEC_HOST_SIZE);  // "vi", "notes", "" and both trailers
    CHECK(fleet_exec_strings_size(&h) == 10);
    const char* strings = block->data() + sizeof h;
    REQUIRE(fleet_exec_check_header(&h) == nullptr);
    REQUIRE(fleet_exec_check_strings(&h, strings) == nullptr);
    fleet_exec_tty t = fleet_exec_tty_of(&h, strings);
    CHECK(t.rows == 40);
    CHECK(t.cols == 120);
    CHECK(t.flags == FLEET_TTY_STDERR);
    fleet_exec_host ht;
    std::memcpy(&ht, strings + fleet_exec_host_offset(&h), sizeof ht);
    CHECK(ht.realtime_ns == host->realtime_ns);
    static_assert(sizeof(fleet_exec_tty) == FLEET_EXEC_TTY_SIZE);

    // What the guest refuses: a size out of range, unknown terminal flags.
    std::string bytes(strings, h.size);
    std::size_t at = fleet_exec_strings_size(&h);
    std::string zero_rows = bytes;
    zero_rows[at] = zero_rows[at + 1] = 0;
    CHECK(fleet_exec_check_strings(&h, zero_rows.data()) != nullptr);
    std::string wide = bytes;
    wide[at + 3] = 0x7f;  // cols 0x7f78
    CHECK(fleet_exec_check_strings(&h, wide.data()) != nullptr);
    std::string flags = bytes;
    flags[at + 4] = 2;
    CHECK(fleet_exec_check_strings(&h, flags.data()) != nullptr);

    s.tty = Terminal{24, FLEET_TTY_MAX + 1, true};
    CHECK_FALSE(exec_block(s));  // the launcher never sends one
}

TEST_CASE("exec block: a rehearsal runs true with a fresh host trailer", "[exec]")
{
    auto block = rehearsal_block();
    REQUIRE(block);
    fleet_exec_header h;
    std::memcpy(&h, block->data(), sizeof h);
    CHECK(h.flags == (FLEET_EXEC_F_REHEARSE | FLEET_EXEC_F_HOST));
    CHECK(h.argc == 1);
    CHECK(h.envc == 0);
    CHECK(h.sharec == 0);
    CHECK(h.netc == 0);
    const char* strings = block->data() + sizeof h;
    REQUIRE(fleet_exec_check_header(&h) == nullptr);
    REQUIRE(fleet_exec_check_strings(&h, strings) == nullptr);
    CHECK(std::string(strings, fleet_exec_strings_size(&h)) == std::string("true\0\0", 6));
    auto other = rehearsal_block();
    REQUIRE(other);
    CHECK(block->substr(block->size() - FLEET_EXEC_HOST_SIZE, FLEET_EXEC_SEED_SIZE) !=
          other->substr(other->size() - FLEET_EXEC_HOST_SIZE, FLEET_EXEC_SEED_SIZE));  // a seed of its own
}

TEST_CASE("percent encoding round-trips through the guests' decoder", "[exec]")
{
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    std::string enc = percent_encode(all);
    CHECK(enc.find_first_of(" \"'\n%") == enc.find('%'));  // only escapes carry a '%'
    CHECK(enc.find(' ') == std::string::npos);
    std::string buf = enc;
    long n = fleet_pct_decode(buf.data(), buf.size());
    REQUIRE(n == 256);
    CHECK(buf.substr(0, 256) == all);
    std::string broken = "ab%4";
    CHECK(fleet_pct_decode(broken.data(), broken.size()) == -1);
    std::string nothex = "%zz";
    CHECK(fleet_pct_decode(nothex.data(), nothex.size()) == -1);
}
