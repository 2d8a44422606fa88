// fleet netfilter — libnftables, and the fake.
#include <fleet/netfilter/nft.hpp>

#include <nftables/libnftables.h>

namespace fleet::netfilter {

namespace {

std::string trim(std::string text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace

Result<std::unique_ptr<Libnftables>> Libnftables::open()
{
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == nullptr) return fail("cannot create an nftables context");
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        nft_ctx_free(ctx);
        return fail("cannot buffer nftables output");
    }
    return std::unique_ptr<Libnftables>(new Libnftables(ctx));
}

Libnftables::~Libnftables()
{
    nft_ctx_free(ctx_);
}

Result<std::string> Libnftables::exec(std::string_view script, bool dry_run)
{
    const std::string text(script);  // libnftables wants a NUL-terminated buffer
    nft_ctx_set_dry_run(ctx_, dry_run);
    const int rc = nft_run_cmd_from_buffer(ctx_, text.c_str());
    nft_ctx_set_dry_run(ctx_, false);
    std::string out = nft_ctx_get_output_buffer(ctx_);
    std::string err = trim(nft_ctx_get_error_buffer(ctx_));
    if (rc != 0) return fail("nftables: " + (err.empty() ? std::string("the command failed") : err));
    return out;
}

Result<> Libnftables::run(std::string_view script)
{
    auto r = exec(script, false);
    if (!r) return std::unexpected(r.error());
    return {};
}

Result<> Libnftables::check(std::string_view script)
{
    auto r = exec(script, true);
    if (!r) return std::unexpected(r.error());
    return {};
}

Result<std::string> Libnftables::list(std::string_view command)
{
    return exec(command, false);
}

Result<> FakeNft::run(std::string_view script)
{
    if (fail_next > 0) {
        --fail_next;
        return fail("nftables: the fake was told to fail");
    }
    scripts.emplace_back(script);
    if (script.starts_with("# fleet")) ruleset = std::string(script);
    return {};
}

Result<> FakeNft::check(std::string_view script)
{
    if (!bridge_conntrack && script.find("table bridge") != std::string_view::npos &&
        script.find("ct state") != std::string_view::npos)
        return fail("nftables: Error: Could not process rule: Protocol error");
    return {};
}

Result<std::string> FakeNft::list(std::string_view)
{
    return ruleset;
}

}  // namespace fleet::netfilter
