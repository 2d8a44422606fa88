// fleet netfilter — where nft scripts meet the kernel: a small interface,
// libnftables behind it, and a fake for unit tests.
#pragma once

#include <fleet/base/error.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct nft_ctx;  // libnftables

namespace fleet::netfilter {

class Nft {
public:
    virtual ~Nft() = default;
    // Run a script as one transaction: all of it or none of it. The error
    // carries nft's own message (the script's line and column included).
    virtual Result<> run(std::string_view script) = 0;
    // Would the kernel take this script? Nothing is committed.
    virtual Result<> check(std::string_view script) = 0;
    // The output of an nft command, e.g. "list table inet fleet".
    virtual Result<std::string> list(std::string_view command) = 0;
};

// libnftables: one context, its output and errors captured in buffers.
class Libnftables final : public Nft {
public:
    static Result<std::unique_ptr<Libnftables>> open();
    ~Libnftables() override;
    Result<> run(std::string_view script) override;
    Result<> check(std::string_view script) override;
    Result<std::string> list(std::string_view command) override;

private:
    ::nft_ctx* ctx_ = nullptr;
    explicit Libnftables(::nft_ctx* ctx) : ctx_(ctx) {}
    Result<std::string> exec(std::string_view script, bool dry_run);
};

// Records every script; fails on demand. `tables` keeps the last full
// ruleset run (a script starting with "# fleet") as the "kernel's" state.
class FakeNft final : public Nft {
public:
    Result<> run(std::string_view script) override;
    Result<> check(std::string_view script) override;
    Result<std::string> list(std::string_view command) override;

    std::vector<std::string> scripts;  // every script run, in order
    std::string ruleset;               // the last full ruleset run
    int fail_next = 0;                 // this many calls to run() fail
    bool bridge_conntrack = true;      // does check() take "ct" in the bridge family?
};

}  // namespace fleet::netfilter
