// QmpReader: recorded QEMU 7.2 transcripts (vmm/tests/data), split every
// way, and everything a broken or hostile peer could send.
#include <fleet/test/support.hpp>

#include <fleet/vmm/qmp.hpp>

#include <string>
#include <vector>

using namespace fleet::vmm;
using fleet::test::contains;
using T = QmpMessage::Type;

namespace {

std::string transcript(const std::string& name)
{
    return fleet::test::read_file(fleet::test::data_path(name));
}

// Everything, in one call; the stream must end cleanly.
std::vector<QmpMessage> read_all(const std::string& bytes)
{
    QmpReader r;
    auto msgs = r.feed(bytes);
    REQUIRE(msgs);
    REQUIRE(r.finish());
    return *msgs;
}

// A compact fingerprint of a message, to compare two readings.
std::string describe(const QmpMessage& m)
{
    std::string s = std::to_string(static_cast<int>(m.type)) + "|";
    s += m.id ? std::to_string(*m.id) : "-";
    s += "|" + m.event + "|" + m.error_class + "|" + m.error_desc + "|" + m.value.dump();
    return s;
}

std::vector<std::string> describe(const std::vector<QmpMessage>& ms)
{
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(describe(m));
    return out;
}

const char* const transcripts[] = {"qmp_noreboot_reset.jsonl", "qmp_powerdown.jsonl", "qmp_quit.jsonl",
                                   "qmp_guest_panicked.jsonl"};

}  // namespace

TEST_CASE("qmp: the greeting of QEMU 7.2", "[qmp]")
{
    auto m = QmpReader::parse(
        R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}})");
    REQUIRE(m);
    CHECK(m->type == T::greeting);
    CHECK_FALSE(m->id);
    CHECK(m->value["version"]["qemu"]["major"] == 7);
    CHECK(m->value["version"]["qemu"]["minor"] == 2);
    CHECK(m->value["capabilities"] == json::array({"oob"}));
}

TEST_CASE("qmp: replies, errors and events", "[qmp]")
{
    auto ok = QmpReader::parse(R"({"return": {}, "id": 1})");
    REQUIRE(ok);
    CHECK(ok->type == T::reply);
    CHECK(ok->id == 1u);
    CHECK(ok->value == json::object());

    auto status =
        QmpReader::parse(R"({"return": {"status": "running", "singlestep": false, "running": true}, "id": 2})");
    REQUIRE(status);
    CHECK(status->type == T::reply);
    CHECK(status->id == 2u);
    CHECK(status->value["status"] == "running");
    CHECK(status->value["running"] == true);

    auto err = QmpReader::parse(
        R"({"error": {"class": "CommandNotFound", "desc": "The command foo has not been found"}, "id": 3})");
    REQUIRE(err);
    CHECK(err->type == T::error);
    CHECK(err->id == 3u);
    CHECK(err->error_class == "CommandNotFound");
    CHECK(err->error_desc == "The command foo has not been found");

    auto shutdown = QmpReader::parse(
        R"({"timestamp": {"seconds": 1795708095, "microseconds": 308765}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}})");
    REQUIRE(shutdown);
    CHECK(shutdown->type == T::event);
    CHECK_FALSE(shutdown->id);
    CHECK(shutdown->event == "SHUTDOWN");
    CHECK(shutdown->value["guest"] == true);
    CHECK(shutdown->value["reason"] == "guest-shutdown");

    for (const char* name : {"POWERDOWN", "STOP", "RESUME"}) {
        auto e = QmpReader::parse(std::string(R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": ")") + name +
                                  "\"}");
        REQUIRE(e);
        CHECK(e->type == T::event);
        CHECK(e->event == name);
        CHECK(e->value == json::object());  // no "data": an empty object
    }
    auto reset = QmpReader::parse(
        R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESET", "data": {"guest": true, "reason": "guest-reset"}})");
    REQUIRE(reset);
    CHECK(reset->event == "RESET");
    auto panic = QmpReader::parse(
        R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "GUEST_PANICKED", "data": {"action": "pause"}})");
    REQUIRE(panic);
    CHECK(panic->event == "GUEST_PANICKED");
    CHECK(panic->value["action"] == "pause");
}

TEST_CASE("qmp: a recorded session, message by message", "[qmp]")
{
    auto ms = read_all(transcript("qmp_noreboot_reset.jsonl"));
    REQUIRE(ms.size() == 13);
    CHECK(ms[0].type == T::greeting);
    CHECK(ms[0].value["version"]["package"] == "Debian 1:7.2+dfsg-7+deb12u18+b3");
    CHECK(ms[1].type == T::reply);
    CHECK(ms[1].id == 1u);
    CHECK(ms[2].value["status"] == "prelaunch");
    CHECK(ms[2].id == 2u);
    // QEMU puts "id" first in error replies.
    CHECK(ms[3].type == T::error);
    CHECK(ms[3].id == 3u);
    CHECK(ms[3].error_class == "CommandNotFound");
    CHECK(ms[3].error_desc == "The command foo has not been found");
    CHECK(ms[4].event == "RESUME");
    CHECK(ms[5].id == 4u);
    CHECK(ms[6].event == "STOP");
    CHECK(ms[8].value["status"] == "paused");
    CHECK(ms[8].value["running"] == false);
    CHECK(ms[9].event == "RESUME");
    CHECK(ms[11].type == T::event);
    CHECK(ms[11].event == "SHUTDOWN");
    CHECK(ms[11].value["guest"] == false);
    CHECK(ms[11].value["reason"] == "host-qmp-system-reset");
    CHECK(ms[12].id == 8u);
}

TEST_CASE("qmp: recorded power-down, string ids and replies without id", "[qmp]")
{
    auto ms = read_all(transcript("qmp_powerdown.jsonl"));
    REQUIRE(ms.size() == 11);
    // {"execute": "query-version", "id": "v"}: a reply, but not one of ours.
    CHECK(ms[2].type == T::reply);
    CHECK_FALSE(ms[2].id);
    CHECK(ms[2].value["qemu"]["major"] == 7);
    CHECK(ms[3].type == T::reply);
    CHECK_FALSE(ms[3].id);
    CHECK(ms[6].event == "RESET");
    CHECK(ms[6].value["reason"] == "host-qmp-system-reset");
    CHECK(ms[8].event == "POWERDOWN");
    CHECK(ms[9].id == 4u);
    CHECK(ms[10].event == "SHUTDOWN");
    CHECK(ms[10].value["guest"] == true);
    CHECK(ms[10].value["reason"] == "guest-shutdown");
}

TEST_CASE("qmp: recorded quit and an error without id", "[qmp]")
{
    auto ms = read_all(transcript("qmp_quit.jsonl"));
    REQUIRE(ms.size() == 5);
    CHECK(ms[2].type == T::error);
    CHECK_FALSE(ms[2].id);
    CHECK(ms[2].error_class == "GenericError");
    CHECK(ms[2].error_desc == "QMP input must be a JSON object");
    CHECK(ms[3].event == "SHUTDOWN");
    CHECK(ms[3].value["reason"] == "host-qmp-quit");
    CHECK(ms[4].id == 2u);
}

TEST_CASE("qmp: recorded guest panic", "[qmp]")
{
    auto ms = read_all(transcript("qmp_guest_panicked.jsonl"));
    REQUIRE(ms.size() == 8);
    CHECK(ms[4].event == "GUEST_PANICKED");
    CHECK(ms[4].value["action"] == "poweroff");
    CHECK(ms[5].event == "STOP");
    CHECK(ms[6].event == "SHUTDOWN");
    CHECK(ms[6].value["reason"] == "guest-panic");
    CHECK(ms[7].type == T::reply);
    CHECK(ms[7].id == 3u);
    CHECK(ms[7].value == "");  // human-monitor-command returns a string
}

TEST_CASE("qmp: transcripts are CRLF and read the same as LF", "[qmp]")
{
    for (const char* name : transcripts) {
        INFO(name);
        std::string crlf = transcript(name);
        REQUIRE(contains(crlf, "\r\n"));
        std::string lf;
        for (char c : crlf)
            if (c != '\r') lf += c;
        CHECK(describe(read_all(crlf)) == describe(read_all(lf)));
    }
}

TEST_CASE("qmp: a transcript split at every byte boundary", "[qmp]")
{
    for (const char* name : transcripts) {
        INFO(name);
        std::string all = transcript(name);
        auto expected = describe(read_all(all));
        for (std::size_t cut = 0; cut <= all.size(); ++cut) {
            QmpReader r;
            auto a = r.feed(std::string_view(all).substr(0, cut));
            REQUIRE(a);
            auto b = r.feed(std::string_view(all).substr(cut));
            REQUIRE(b);
            REQUIRE(r.finish());
            auto got = describe(*a);
            for (auto& d : describe(*b)) got.push_back(d);
            if (got != expected) FAIL("different messages when split at byte " << cut);
        }
        // And one byte at a time: each message appears on the byte that ends it.
        QmpReader r;
        std::vector<std::string> got;
        for (std::size_t i = 0; i < all.size(); ++i) {
            auto m = r.feed(std::string_view(all).substr(i, 1));
            REQUIRE(m);
            REQUIRE(m->size() <= 1);
            if (!m->empty()) {
                CHECK(all[i] == '\n');
                got.push_back(describe(m->front()));
            }
            if (all[i] == '\n')
                CHECK(r.finish());
            else
                CHECK_FALSE(r.finish());
        }
        CHECK(got == expected);
    }
}

TEST_CASE("qmp: several messages in one feed, blank lines skipped", "[qmp]")
{
    QmpReader r;
    auto ms =
        r.feed("{\"return\": {}, \"id\": 1}\n\n  \r\n\t\n{\"event\": \"STOP\"}\r\n{\"return\": 5, \"id\": 2}\n{\"ret");
    REQUIRE(ms);
    REQUIRE(ms->size() == 3);
    CHECK((*ms)[0].id == 1u);
    CHECK((*ms)[1].event == "STOP");
    CHECK((*ms)[2].value == 5);
    CHECK_FALSE(r.finish());
    auto rest = r.feed("urn\": [], \"id\": 3}");
    REQUIRE(rest);
    CHECK(rest->empty());
    rest = r.feed("\n");
    REQUIRE(rest);
    REQUIRE(rest->size() == 1);
    CHECK(rest->front().id == 3u);
    CHECK(rest->front().value == json::array());
    CHECK(r.finish());
    CHECK(r.feed("")->empty());
    CHECK(r.feed(" \r\n\n")->empty());
    CHECK(r.finish());
}

TEST_CASE("qmp: garbage is an error, not a crash", "[qmp]")
{
    struct Case {
        const char* input;
        const char* message;
    };
    for (auto c : {Case{"not json", "malformed JSON"},
                   Case{"{\"return\": {}", "malformed JSON"},
                   Case{"{\"return\": {}} trailing", "malformed JSON"},
                   Case{"{\"a\":1}{\"b\":2}", "malformed JSON"},
                   Case{"\xff\xfe{}", "malformed JSON"},
                   Case{"{\"return\": \"\xff\"}", "malformed JSON"},
                   Case{"[1, 2]", "not a JSON object"},
                   Case{"[]", "not a JSON object"},
                   Case{"\"QMP\"", "not a JSON object"},
                   Case{"42", "not a JSON object"},
                   Case{"null", "not a JSON object"},
                   Case{"{}", "unknown kind"},
                   Case{"{\"id\": 1}", "unknown kind"},
                   Case{"{\"execute\": \"stop\", \"id\": 1}", "unknown kind"},
                   Case{"{\"QMP\": 1}", "greeting"},
                   Case{"{\"QMP\": [\"oob\"]}", "greeting"},
                   Case{"{\"QMP\": null}", "greeting"},
                   Case{"{\"error\": \"bad\", \"id\": 1}", "error reply"},
                   Case{"{\"event\": 7}", "malformed event"},
                   Case{"{\"event\": null}", "malformed event"}}) {
        INFO("input " << c.input);
        auto m = QmpReader::parse(c.input);
        REQUIRE_FALSE(m);
        CHECK(contains(m.error().message, c.message));
        CHECK(m.error().message.starts_with("QMP: "));

        QmpReader r;
        auto fed = r.feed(std::string("{\"return\": {}, \"id\": 1}\n") + c.input + "\n");
        REQUIRE_FALSE(fed);
        CHECK(fed.error().message == m.error().message);
    }
}

TEST_CASE("qmp: odd but valid messages", "[qmp]")
{
    SECTION("unknown extra keys are ignored")
    {
        auto m = QmpReader::parse(R"({"return": {"x": 1}, "id": 4, "future-key": [1, 2, 3], "timestamp": {}})");
        REQUIRE(m);
        CHECK(m->type == T::reply);
        CHECK(m->id == 4u);
        CHECK(m->value == json{{"x", 1}});
        auto e = QmpReader::parse(R"({"event": "X", "data": {"a": 1}, "extra": true})");
        REQUIRE(e);
        CHECK(e->event == "X");
    }
    SECTION("ids that are not unsigned integers are no id")
    {
        for (const char* text :
             {R"({"return": {}, "id": "1"})", R"({"return": {}, "id": -1})", R"({"return": {}, "id": 1.5})",
              R"({"return": {}, "id": null})", R"({"return": {}, "id": [1]})", R"({"return": {}, "id": {"n": 1}})",
              R"({"return": {}, "id": true})"}) {
            INFO(text);
            auto m = QmpReader::parse(text);
            REQUIRE(m);
            CHECK(m->type == T::reply);
            CHECK_FALSE(m->id);
        }
        auto big = QmpReader::parse(R"({"return": {}, "id": 18446744073709551615})");
        REQUIRE(big);
        CHECK(big->id == 18446744073709551615ull);
        auto zero = QmpReader::parse(R"({"return": {}, "id": 0})");
        REQUIRE(zero);
        CHECK(zero->id == 0u);
    }
    SECTION("an id on an event or a greeting is none (only replies and errors have one)")
    {
        // Found by the fuzzer: QEMU never sends an event with an id; one that
        // did was an event with the id set, against qmp.hpp's contract.
        auto e = QmpReader::parse(R"({"timestamp": {}, "event": "RESET", "": {}, "id": 4})");
        REQUIRE(e);
        CHECK(e->type == T::event);
        CHECK_FALSE(e->id);
        auto g = QmpReader::parse(R"({"QMP": {"version": {}, "capabilities": []}, "id": 0})");
        REQUIRE(g);
        CHECK(g->type == T::greeting);
        CHECK_FALSE(g->id);
        auto err = QmpReader::parse(R"({"error": {"class": "X", "desc": "y"}, "id": 7})");
        REQUIRE(err);
        CHECK(err->id == 7u);
    }
    SECTION("an error without class or desc")
    {
        auto m = QmpReader::parse(R"({"error": {}, "id": 9})");
        REQUIRE(m);
        CHECK(m->type == T::error);
        CHECK(m->error_class == "GenericError");
        CHECK(m->error_desc == "unknown error");
        auto n = QmpReader::parse(R"({"error": {"class": 1, "desc": ["x"]}})");
        REQUIRE(n);
        CHECK(n->error_class == "GenericError");
    }
    SECTION("return values of any type")
    {
        for (const char* text :
             {R"({"return": null})", R"({"return": 0})", R"({"return": "s"})", R"({"return": [{"a": 1}]})"}) {
            auto m = QmpReader::parse(text);
            REQUIRE(m);
            CHECK(m->type == T::reply);
        }
    }
    SECTION("event data of any type is passed on")
    {
        auto m = QmpReader::parse(R"({"event": "X", "data": [1]})");
        REQUIRE(m);
        CHECK(m->value == json::array({1}));
    }
    SECTION("surrounding white space and unicode")
    {
        auto m = QmpReader::parse(" \t{\"event\": \"\\u00e9v\\u00e8nement\"}\t \r");
        REQUIRE(m);
        CHECK(m->event == "\xc3\xa9v\xc3\xa8nement");
    }
    SECTION("deep nesting")
    {
        std::string deep = "{\"return\": " + std::string(2000, '[') + std::string(2000, ']') + ", \"id\": 1}";
        auto m = QmpReader::parse(deep);
        REQUIRE(m);
        CHECK(m->id == 1u);
    }
}

TEST_CASE("qmp: finish() after a truncated stream", "[qmp]")
{
    std::string all = transcript("qmp_powerdown.jsonl");
    QmpReader r;
    auto ms = r.feed(std::string_view(all).substr(0, all.size() - 5));  // loses the last line's end
    REQUIRE(ms);
    CHECK(ms->size() == 10);
    auto f = r.finish();
    REQUIRE_FALSE(f);
    CHECK(contains(f.error().message, "closed mid-message"));

    QmpReader fresh;
    CHECK(fresh.finish());
    QmpReader partial;
    REQUIRE(partial.feed("{"));
    CHECK_FALSE(partial.finish());
    QmpReader cr_only;
    REQUIRE(cr_only.feed("\r"));
    CHECK(cr_only.finish());  // white space only: nothing lost
}

TEST_CASE("qmp: the 8 MiB limit", "[qmp]")
{
    constexpr std::size_t limit = QmpReader::max_message;
    static_assert(limit == 8u << 20);

    // A message of exactly the limit (the line without its '\n').
    std::string biggest = "{\"return\": \"" + std::string(limit - 14, 'a') + "\"}";
    REQUIRE(biggest.size() == limit);
    std::string too_big = "{\"return\": \"" + std::string(limit - 13, 'a') + "\"}";

    SECTION("a message of exactly the limit is read, in pieces or at once")
    {
        QmpReader r;
        auto a = r.feed(std::string_view(biggest).substr(0, limit - 1));
        REQUIRE(a);
        CHECK(a->empty());
        auto b = r.feed(biggest.substr(limit - 1) + "\n");
        REQUIRE(b);
        REQUIRE(b->size() == 1);
        CHECK(b->front().value.get_ref<const std::string&>().size() == limit - 14);
        CHECK(r.finish());

        QmpReader once;
        auto c = once.feed(biggest + "\n");
        REQUIRE(c);
        CHECK(c->size() == 1);
    }
    SECTION("one byte more is refused, in pieces or at once")
    {
        QmpReader r;
        auto a = r.feed(std::string_view(too_big).substr(0, limit));
        REQUIRE(a);
        auto b = r.feed(too_big.substr(limit) + "\n");
        REQUIRE_FALSE(b);
        CHECK(contains(b.error().message, "larger than 8 MiB"));

        // Whole, newline included, in one feed: the same answer.
        QmpReader once;
        auto c = once.feed(too_big + "\n");
        REQUIRE_FALSE(c);
        CHECK(contains(c.error().message, "larger than 8 MiB"));
        QmpReader crlf;
        auto d = crlf.feed(biggest.substr(0, limit) + "\r\n");
        REQUIRE_FALSE(d);  // the CR counts
    }
    SECTION("white space over the limit is refused too")
    {
        QmpReader r;
        auto a = r.feed(std::string(limit, ' '));
        REQUIRE(a);
        auto b = r.feed("x");
        REQUIRE_FALSE(b);
        CHECK(contains(b.error().message, "larger than 8 MiB"));
    }
    SECTION("refused when it arrives in 64 KiB reads")
    {
        QmpReader r;
        std::string chunk(64 * 1024, 'a');
        chunk.insert(0, "{\"return\": \"");
        chunk.resize(64 * 1024);
        bool refused = false;
        std::size_t fed = 0;
        for (int i = 0; i < 200 && !refused; ++i) {
            auto m = r.feed(i == 0 ? chunk : std::string(64 * 1024, 'a'));
            fed += chunk.size();
            if (!m) {
                refused = true;
                CHECK(contains(m.error().message, "larger than 8 MiB"));
            }
        }
        CHECK(refused);
        CHECK(fed > limit);
        CHECK(fed <= limit + 64 * 1024);
    }
    SECTION("complete messages before the big one are delivered first")
    {
        QmpReader r;
        auto a = r.feed("{\"return\": 1, \"id\": 1}\n" + std::string(limit, 'a'));
        REQUIRE(a);
        REQUIRE(a->size() == 1);
        CHECK(a->front().id == 1u);
    }
}
