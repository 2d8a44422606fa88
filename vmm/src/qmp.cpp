// fleet — QMP reader and client (see qmp.hpp).
#include <fleet/base/socket.hpp>
#include <fleet/vmm/qmp.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <memory>

namespace fleet::vmm {

Result<QmpMessage> QmpReader::parse(std::string_view line)
{
    json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail("QMP: malformed JSON from QEMU");
    if (!j.is_object()) return fail("QMP: message is not a JSON object");
    QmpMessage m;
    // An id is a reply's or an error's (qmp.hpp); on anything else it is
    // not ours to read (a malformed event with one is still only an event).
    auto take_id = [&] {
        auto id = j.find("id");
        if (id != j.end() && id->is_number_unsigned()) m.id = id->get<std::uint64_t>();
    };
    if (auto g = j.find("QMP"); g != j.end()) {
        if (!g->is_object()) return fail("QMP: malformed greeting");
        m.type = QmpMessage::Type::greeting;
        m.value = *g;
    } else if (auto r = j.find("return"); r != j.end()) {
        m.type = QmpMessage::Type::reply;
        m.value = *r;
        take_id();
    } else if (auto e = j.find("error"); e != j.end()) {
        if (!e->is_object()) return fail("QMP: malformed error reply");
        m.type = QmpMessage::Type::error;
        auto cls = e->find("class");
        auto desc = e->find("desc");
        m.error_class = cls != e->end() && cls->is_string() ? cls->get<std::string>() : "GenericError";
        m.error_desc = desc != e->end() && desc->is_string() ? desc->get<std::string>() : "unknown error";
        take_id();
    } else if (auto ev = j.find("event"); ev != j.end()) {
        if (!ev->is_string()) return fail("QMP: malformed event");
        m.type = QmpMessage::Type::event;
        m.event = ev->get<std::string>();
        auto data = j.find("data");
        m.value = data != j.end() ? *data : json::object();
    } else {
        return fail("QMP: message of unknown kind");
    }
    return m;
}

Result<std::vector<QmpMessage>> QmpReader::feed(std::string_view bytes)
{
    std::vector<QmpMessage> out;
    buffer_.append(bytes);
    std::size_t start = 0;
    for (;;) {
        std::size_t nl = buffer_.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(buffer_.data() + start, nl - start);
        start = nl + 1;
        if (line.size() > max_message) return fail("QMP: message larger than 8 MiB");
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto m = parse(line);
        if (!m) return std::unexpected(m.error());
        out.push_back(std::move(*m));
    }
    buffer_.erase(0, start);
    if (buffer_.size() > max_message) return fail("QMP: message larger than 8 MiB");
    return out;
}

Result<> QmpReader::finish() const
{
    if (buffer_.find_first_not_of(" \t\r\n") != std::string::npos) return fail("QMP: connection closed mid-message");
    return {};
}

QmpClient::QmpClient(Loop& loop, Fd fd, EventHandler on_event, CloseHandler on_close)
    : loop_(loop), fd_(std::move(fd)), on_event_(std::move(on_event)), on_close_(std::move(on_close))
{
    read_more();
}

QmpClient::~QmpClient()
{
    if (read_op_) loop_.cancel(read_op_);
    for (OpId w : write_ops_) loop_.cancel(w);
}

void QmpClient::read_more()
{
    read_op_ = loop_.read(fd_.get(), 64 * 1024, [this](int res, std::span<const char> data) {
        read_op_ = 0;
        if (res < 0) return shut(Error{"QMP: read from QEMU failed", -res});
        if (res == 0) {
            auto f = reader_.finish();
            return shut(f ? Error{"QMP: QEMU closed the monitor"} : f.error());
        }
        auto msgs = reader_.feed(std::string_view(data.data(), data.size()));
        if (!msgs) return shut(msgs.error());
        for (const auto& m : *msgs) {
            handle(m);
            if (closed_) return;
        }
        read_more();
    });
}

void QmpClient::handle(const QmpMessage& m)
{
    using T = QmpMessage::Type;
    if (m.type == T::event) {
        if (on_event_) on_event_(m);
        return;
    }
    if (!greeted_) {
        if (m.type != T::greeting) return shut(Error{"QMP: expected the greeting first"});
        greeted_ = true;
        std::uint64_t id = 0;  // id 0 is the negotiation; commands start at 1
        waiting_[id] = [this](Result<json> r) {
            if (!r) return shut(Error{"QMP: capabilities negotiation failed: " + r.error().message});
            negotiated_ = true;
            if (std::string rest = take_queued(); !rest.empty()) write(std::move(rest));
            if (on_ready_) on_ready_();
        };
        // The commands asked before the greeting go with the negotiation,
        // in one write. QEMU reads a monitor's input a byte per turn of its
        // loop (~7 us a byte), in the monitor's own thread while its main
        // thread still builds the machine, and runs them in order once that
        // is done. Sent after the negotiation's answer, they were read only
        // then: ~1.5 ms of a snapshot restore's path (docs/cold-path.md).
        write(message(id, "qmp_capabilities", json()) + take_queued());
        return;
    }
    if (m.type == T::greeting) return shut(Error{"QMP: unexpected second greeting"});
    if (!m.id) return;  // a reply we did not ask for (no id): ignore it
    auto it = waiting_.find(*m.id);
    if (it == waiting_.end()) return;
    Reply reply = std::move(it->second);
    waiting_.erase(it);
    if (m.type == T::error)
        reply(fail(m.error_class + ": " + m.error_desc));
    else
        reply(m.value);
}

std::string QmpClient::message(std::uint64_t id, const std::string& command, const json& arguments)
{
    json msg = {{"execute", command}, {"id", id}};
    if (!arguments.is_null()) msg["arguments"] = arguments;
    return msg.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// The queued commands, in order, as one text to write; the queue is empty after.
std::string QmpClient::take_queued()
{
    std::string text;
    for (auto& [id, command, arguments] : queued_) text += message(id, command, arguments);
    queued_.clear();
    return text;
}

void QmpClient::send(std::uint64_t id, const std::string& command, const json& arguments)
{
    write(message(id, command, arguments));
}

void QmpClient::write(std::string text)
{
    auto id_box = std::make_shared<OpId>(0);
    *id_box = loop_.write(fd_.get(), std::move(text), [this, id_box](int res) {
        write_ops_.erase(*id_box);
        if (res < 0) shut(Error{"QMP: write to QEMU failed", -res});
    });
    write_ops_.insert(*id_box);
}

void QmpClient::execute_with_fd(const std::string& command, json arguments, int fd, Reply reply)
{
    if (closed_) return reply(fail("QMP: monitor connection is closed"));
    if (!negotiated_ || !write_ops_.empty() || !queued_.empty()) return reply(fail("QMP: monitor busy", EAGAIN));
    std::uint64_t id = next_id_++;
    std::string text = message(id, command, arguments);
    iovec iov{text.data(), text.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do n = ::sendmsg(fd_.get(), &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return reply(fail("QMP: cannot send " + command, errno));
    // A short write of a message this small into an idle socket would need
    // a full socket buffer: treat it as the connection failing.
    if (static_cast<std::size_t>(n) != text.size()) return shut(Error{"QMP: short write of " + command});
    waiting_[id] = std::move(reply);
}

void QmpClient::execute(const std::string& command, json arguments, Reply reply)
{
    if (closed_) {
        reply(fail("QMP: monitor connection is closed"));
        return;
    }
    std::uint64_t id = next_id_++;
    waiting_[id] = std::move(reply);
    if (negotiated_)
        send(id, command, arguments);
    else
        queued_.emplace_back(id, command, std::move(arguments));
}

void QmpClient::shut(const Error& e)
{
    if (closed_) return;
    closed_ = true;
    if (read_op_) {
        loop_.cancel(read_op_);
        read_op_ = 0;
    }
    auto waiting = std::move(waiting_);
    waiting_.clear();
    queued_.clear();
    for (auto& [id, reply] : waiting) reply(std::unexpected(e));
    if (on_close_) on_close_(e);
}

Result<json> qmp_call(const std::string& socket_path, const std::string& command, json arguments,
                      std::chrono::milliseconds timeout)
{
    auto fd = connect_unix(socket_path, "the VM's monitor " + socket_path);
    if (!fd) return std::unexpected(fd.error());
    auto loop = Loop::create(16);
    if (!loop) return std::unexpected(loop.error());
    std::optional<Result<json>> answer;
    QmpClient client(**loop, std::move(*fd), nullptr, [&](const Error& e) {
        if (!answer) answer = std::unexpected(e);
    });
    client.execute(command, std::move(arguments), [&](Result<json> r) {
        if (!answer) answer = std::move(r);
    });
    bool timed_out = false;
    OpId t = (*loop)->timer(timeout, [&](int) { timed_out = true; });
    auto ran = (*loop)->run_until([&] { return answer.has_value() || timed_out; });
    (*loop)->cancel(t);
    if (!ran) return std::unexpected(ran.error());
    if (!answer) return fail("the VM's monitor did not answer '" + command + "' in time");
    return std::move(*answer);
}

}  // namespace fleet::vmm
