// fleet — QMP, the QEMU Machine Protocol (QEMU docs/interop/qmp-spec.rst).
//
// QmpReader turns the byte stream into messages and never trusts it: a
// malformed, oversized or unexpected message is an error, not a crash.
// QmpClient drives one monitor connection on a Loop: it waits for the
// greeting, negotiates with qmp_capabilities, sends every command with a
// numeric id, matches replies by id and hands events over as they come.
#pragma once

#include <fleet/base/error.hpp>
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::vmm {

using json = nlohmann::json;

struct QmpMessage {
    enum class Type { greeting, reply, error, event };
    Type type = Type::reply;
    std::optional<std::uint64_t> id;  // replies and errors, when numeric
    json value;                       // greeting: the "QMP" object; reply: "return"; event: "data"
    std::string event;                // event name
    std::string error_class;          // error "class"
    std::string error_desc;           // error "desc"
};

class QmpReader {
public:
    // A message longer than this is refused (QEMU's largest replies are far
    // smaller; this bounds what a broken peer can make us buffer).
    static constexpr std::size_t max_message = 8u << 20;

    // Feed bytes; get back every message they complete, or an error for the
    // first bad one (the stream is unusable afterwards).
    Result<std::vector<QmpMessage>> feed(std::string_view bytes);
    // End of stream: an error if a partial message is left over.
    Result<> finish() const;

    static Result<QmpMessage> parse(std::string_view line);

private:
    std::string buffer_;
};

class QmpClient {
public:
    using Reply = std::function<void(Result<json>)>;
    using EventHandler = std::function<void(const QmpMessage&)>;
    using CloseHandler = std::function<void(const Error&)>;

    // Takes the connected socket. on_close is called once, when the peer
    // closes or sends garbage; pending commands then fail with that error.
    QmpClient(Loop& loop, Fd fd, EventHandler on_event, CloseHandler on_close);
    ~QmpClient();
    QmpClient(const QmpClient&) = delete;
    QmpClient& operator=(const QmpClient&) = delete;

    // Queue a command. Those asked before QEMU's greeting are sent with the
    // capabilities negotiation, in the same write (QEMU runs them in order,
    // after it); those asked later, once the negotiation is answered.
    void execute(const std::string& command, json arguments, Reply reply);
    // Send a command with `fd` attached (SCM_RIGHTS), as QMP's getfd and
    // add-fd take one. Sent at once: it fails if the capabilities are not
    // negotiated yet or other commands are still being written (their
    // bytes must not interleave); the caller may try again later.
    void execute_with_fd(const std::string& command, json arguments, int fd, Reply reply);
    [[nodiscard]] bool negotiated() const { return negotiated_; }
    [[nodiscard]] bool closed() const { return closed_; }
    // Invoked once capabilities negotiation succeeds.
    void on_ready(std::function<void()> fn) { on_ready_ = std::move(fn); }

private:
    void read_more();
    void handle(const QmpMessage& m);
    static std::string message(std::uint64_t id, const std::string& command, const json& arguments);
    std::string take_queued();
    void send(std::uint64_t id, const std::string& command, const json& arguments);
    void write(std::string text);
    void shut(const Error& e);

    Loop& loop_;
    Fd fd_;
    EventHandler on_event_;
    CloseHandler on_close_;
    std::function<void()> on_ready_;
    QmpReader reader_;
    OpId read_op_ = 0;
    std::set<OpId> write_ops_;
    bool greeted_ = false;
    bool negotiated_ = false;
    bool closed_ = false;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Reply> waiting_;
    std::deque<std::tuple<std::uint64_t, std::string, json>> queued_;
};

// Connect to a monitor's unix socket, negotiate, run one command and return
// its reply, all within timeout. For CLI commands on another process's VM.
Result<json> qmp_call(const std::string& socket_path, const std::string& command, json arguments,
                      std::chrono::milliseconds timeout);

}  // namespace fleet::vmm
