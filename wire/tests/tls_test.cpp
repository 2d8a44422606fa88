// TlsSession: two sessions driven against each other in memory with the
// test PKI in tests/data/pki (a CA, a server certificate for localhost and
// 127.0.0.1, a client certificate, and a second CA with its own client).
#include <fleet/test/support.hpp>

#include <fleet/wire/tls.hpp>

using namespace fleet::wire;
using fleet::test::contains;

namespace {

std::string pki(const std::string& name)
{
    return std::string(FLEET_WIRE_TEST_DATA) + "/pki/" + name;
}

std::shared_ptr<TlsCredentials> creds(const std::string& ca, const std::string& cert, const std::string& key)
{
    auto c = TlsCredentials::load(PkiPaths{pki(ca), "", pki(cert), pki(key)});
    REQUIRE(c);
    return *c;
}

std::shared_ptr<TlsCredentials> server_creds()
{
    return creds("cacert.pem", "servercert.pem", "serverkey.pem");
}

std::shared_ptr<TlsCredentials> client_creds()
{
    return creds("cacert.pem", "clientcert.pem", "clientkey.pem");
}

struct Pair {
    std::unique_ptr<TlsSession> server, client;
    std::string to_server_app, to_client_app;  // plaintext each side received
};

// Move ciphertext back and forth until neither side has anything to say;
// false if either side failed.
bool pump(Pair& p, std::string* error = nullptr)
{
    for (int round = 0; round < 100; ++round) {
        std::string c2s = p.client->take_output(), s2c = p.server->take_output();
        if (c2s.empty() && s2c.empty()) return true;
        if (!c2s.empty()) {
            auto r = p.server->receive(c2s);
            if (!r) {
                if (error) *error = r.error().what();
                return false;
            }
            p.to_server_app += *r;
        }
        if (!s2c.empty()) {
            auto r = p.client->receive(s2c);
            if (!r) {
                if (error) *error = r.error().what();
                return false;
            }
            p.to_client_app += *r;
        }
    }
    FAIL("the TLS sessions kept talking");
    return false;
}

Pair connect(std::shared_ptr<TlsCredentials> server, std::shared_ptr<TlsCredentials> client,
             const std::string& host = "localhost")
{
    Pair p;
    auto s = TlsSession::create(TlsRole::server, std::move(server));
    auto c = TlsSession::create(TlsRole::client, std::move(client), host);
    REQUIRE(s);
    REQUIRE(c);
    p.server = std::move(*s);
    p.client = std::move(*c);
    REQUIRE(p.client->start());
    return p;
}

}  // namespace

TEST_CASE("tls: handshake, both certificates checked, data both ways", "[tls]")
{
    Pair p = connect(server_creds(), client_creds());
    REQUIRE(pump(p));
    REQUIRE(p.server->established());
    REQUIRE(p.client->established());
    CHECK(p.client->verify_peer());
    CHECK(p.server->verify_peer());
    CHECK(p.server->peer_dn() == "CN=fleet test client,O=fleet tests,C=XX");
    // libvirt's confirmation byte, then RPC bytes each way.
    REQUIRE(p.server->send(std::string(1, tls_accepted_byte)));
    REQUIRE(p.client->send("call"));
    REQUIRE(pump(p));
    CHECK(p.to_client_app == std::string(1, tls_accepted_byte));
    CHECK(p.to_server_app == "call");
    std::string big(1 << 20, 'x');  // many records
    REQUIRE(p.server->send(big));
    REQUIRE(pump(p));
    CHECK(p.to_client_app.size() == 1 + big.size());
}

TEST_CASE("tls: the server refuses a client certificate from another CA", "[tls]")
{
    Pair p = connect(server_creds(), creds("cacert.pem", "other-clientcert.pem", "other-clientkey.pem"));
    std::string error;
    bool ok = pump(p, &error);
    // TLS 1.3 may finish the handshake before the server looks at the
    // client's certificate: then the check itself must refuse it.
    if (ok && p.server->established()) {
        auto v = p.server->verify_peer();
        REQUIRE_FALSE(v);
        CHECK(contains(v.error().what(), "not trusted"));
    }
}

TEST_CASE("tls: the client refuses a server from another CA, or for another host", "[tls]")
{
    {
        Pair p = connect(server_creds(), creds("other-cacert.pem", "clientcert.pem", "clientkey.pem"));
        if (pump(p) && p.client->established()) {
            auto v = p.client->verify_peer();
            REQUIRE_FALSE(v);
            CHECK(contains(v.error().what(), "not trusted"));
        }
    }
    {
        Pair p = connect(server_creds(), client_creds(), "fleet.example.org");
        REQUIRE(pump(p));
        auto v = p.client->verify_peer();
        REQUIRE_FALSE(v);
        CHECK(contains(v.error().what(), "not trusted"));
    }
    {
        Pair p = connect(server_creds(), client_creds(), "127.0.0.1");
        REQUIRE(pump(p));
        CHECK(p.client->verify_peer());
    }
}

TEST_CASE("tls: an allowed-name list is matched like libvirtd's", "[tls]")
{
    Pair p = connect(server_creds(), client_creds());
    REQUIRE(pump(p));
    CHECK(p.server->verify_peer({"CN=fleet test client,*"}));
    CHECK(p.server->verify_peer({"CN=nobody,*", "*O=fleet tests*"}));
    auto v = p.server->verify_peer({"CN=someone else,*"});
    REQUIRE_FALSE(v);
    CHECK(contains(v.error().what(), "not in the allowed list"));
}

TEST_CASE("tls: garbage instead of a handshake is an error, not a hang", "[tls]")
{
    auto s = TlsSession::create(TlsRole::server, server_creds());
    REQUIRE(s);
    auto r = (*s)->receive(std::string("\x16\x03\x01\xff\xff garbage garbage garbage", 26));
    // Either refused at once, or waiting for the rest of a (bogus) record.
    if (r) CHECK_FALSE((*s)->established());
    auto r2 = (*s)->receive(std::string(70000, 'z'));
    CHECK_FALSE(r2);
    auto early = (*s)->send("x");
    CHECK_FALSE(early);
}

TEST_CASE("tls: missing or mismatched files are named", "[tls]")
{
    auto missing = TlsCredentials::load(PkiPaths{pki("nope.pem"), "", pki("servercert.pem"), pki("serverkey.pem")});
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().what(), "nope.pem"));
    auto mismatched =
        TlsCredentials::load(PkiPaths{pki("cacert.pem"), "", pki("servercert.pem"), pki("clientkey.pem")});
    REQUIRE_FALSE(mismatched);
    CHECK(contains(mismatched.error().what(), "servercert.pem"));
    auto not_a_cert = TlsCredentials::load(PkiPaths{pki("ca.info"), "", pki("servercert.pem"), pki("serverkey.pem")});
    REQUIRE_FALSE(not_a_cert);
}

TEST_CASE("tls: libvirt's certificate locations", "[tls]")
{
    auto sys = pki_paths(TlsRole::server, "");
    CHECK(sys.ca == "/etc/pki/CA/cacert.pem");
    CHECK(sys.cert == "/etc/pki/libvirt/servercert.pem");
    CHECK(sys.key == "/etc/pki/libvirt/private/serverkey.pem");
    auto dir = pki_paths(TlsRole::client, "/d");
    CHECK(dir.ca == "/d/cacert.pem");
    CHECK(dir.cert == "/d/clientcert.pem");
    CHECK(dir.key == "/d/clientkey.pem");
}
