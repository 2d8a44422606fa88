// mdns-publish — publish one DNS-SD service with libfleet-router-mdns until
// SIGTERM or SIGINT, then withdraw it. A test and demo tool: it runs the
// publisher exactly as fleet-router does (one fleet::Loop, no threads) and
// prints the publisher's log lines on stdout, one per line, as they come.
//
//   mdns-publish [-t TYPE] [-p PORT] NAME [KEY=VALUE...]
//
// Exit status: 0 after a signal, 2 on a usage error, 1 if the loop fails.
#include <fleet/base/fd.hpp>
#include <fleet/base/loop.hpp>
#include <fleet/router/mdns.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <string_view>

namespace {

int usage()
{
    std::cerr << "usage: mdns-publish [-t TYPE] [-p PORT] NAME [KEY=VALUE...]\n";
    return 2;
}

bool parse_port(std::string_view s, std::uint16_t& port)
{
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
    return ec == std::errc() && end == s.data() + s.size() && port != 0;
}

}  // namespace

int main(int argc, char** argv)
{
    // Arguments: options first, then the name, then TXT strings.
    fleet::router::MdnsService service;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        std::string_view opt = argv[i];
        if (i + 1 >= argc) return usage();
        if (opt == "-t") {
            service.type = argv[i + 1];
        } else if (opt == "-p") {
            if (!parse_port(argv[i + 1], service.port)) return usage();
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();
    service.name = argv[i++];
    for (; i < argc; ++i) service.txt.emplace_back(argv[i]);

    // SIGTERM and SIGINT arrive through a signalfd the loop polls.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    fleet::Fd sig(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sig) {
        std::perror("mdns-publish: signalfd");
        return 1;
    }

    auto loop = fleet::Loop::create();
    if (!loop) {
        std::cerr << "mdns-publish: " << loop.error().what() << "\n";
        return 1;
    }

    // Publish; every log line goes out at once (a test reads them live).
    auto publisher = fleet::router::MdnsPublisher::start(
        **loop, service, [](const std::string& line) { std::cout << line << std::endl; });

    // Run until a signal, then withdraw (the publisher's destructor).
    bool stop = false;
    (*loop)->poll(sig.get(), POLLIN, [&stop](int) { stop = true; });
    auto ran = (*loop)->run_until([&stop] { return stop; });
    publisher.reset();
    std::cout << "mdns-publish: withdrawn" << std::endl;
    if (!ran) {
        std::cerr << "mdns-publish: " << ran.error().what() << "\n";
        return 1;
    }
    return 0;
}
