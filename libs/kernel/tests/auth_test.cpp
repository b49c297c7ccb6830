// Staff credentials (what auth.tokens accepts) and the client address limits are kept per.
#include <catch2/catch.hpp>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"
#include "gatehouse/kernel/errors.h"

using gatehouse::kernel::BearerAuthenticator;
using gatehouse::kernel::ClientAddressResolver;
using gatehouse::kernel::ConfigError;

namespace {

constexpr const char* kGoodToken = "f3Jq9-Lz0xWb7YtKcV2sPa";

std::string refusal(const std::string& token, const std::string& who) {
    try {
        BearerAuthenticator authenticator({{token, who}}, "auth.tokens");
        return {};
    } catch (const ConfigError& error) {
        return error.what();
    }
}

}  // namespace

TEST_CASE("a staff credential names role, user and email, and authenticates by its token", "[auth]") {
    const BearerAuthenticator authenticator({{kGoodToken, "hq:hilda:hilda@hq.example"}}, "auth.tokens");
    const auto principal = authenticator.authenticate(std::string("Bearer ") + kGoodToken);
    REQUIRE(principal);
    CHECK(principal->role == "hq");
    CHECK(principal->user_id == "hilda");
    CHECK(principal->email == "hilda@hq.example");
    CHECK_FALSE(authenticator.authenticate("Bearer f3Jq9-Lz0xWb7YtKcV2sPb"));
    CHECK_FALSE(authenticator.authenticate(kGoodToken));  // no scheme
}

TEST_CASE("a gateway credential acts only on behalf of a named staff member, and no other credential may", "[auth]") {
    const std::string gateway_token = "Gw7-kQ2zX9pLm4vR8tYc";
    const BearerAuthenticator authenticator(
        {{kGoodToken, "hq:hilda:hilda@hq.example"}, {gateway_token, "gateway:web:web@hq.example"}}, "auth.tokens");
    const auto as_sam = authenticator.authenticate("Bearer " + gateway_token, "sales:sam:sam@hq.example");
    REQUIRE(as_sam);
    CHECK(as_sam->role == "sales");
    CHECK(as_sam->user_id == "sam");
    CHECK(as_sam->email == "sam@hq.example");
    CHECK(as_sam->via == "web");
    CHECK_FALSE(authenticator.authenticate("Bearer " + gateway_token));  // alone it is nothing
    CHECK_FALSE(authenticator.authenticate("Bearer " + gateway_token, "gateway:other:o@hq.example"));
    CHECK_FALSE(authenticator.authenticate("Bearer " + gateway_token, "sales:sam"));  // no email
    CHECK_FALSE(authenticator.authenticate("Bearer " + gateway_token, "garbage"));
    // Another credential naming someone else is refused, not silently taken as itself.
    CHECK_FALSE(authenticator.authenticate(std::string("Bearer ") + kGoodToken, "sales:sam:sam@hq.example"));
    CHECK(authenticator.authenticate(std::string("Bearer ") + kGoodToken)->via.empty());
}

TEST_CASE("a staff credential without an email is refused at start-up", "[auth]") {
    CHECK_THAT(refusal(kGoodToken, "hq:hilda"), Catch::Contains("role:user_id:email"));
    CHECK_THAT(refusal(kGoodToken, "hq:hilda:"), Catch::Contains("role:user_id:email"));
    CHECK_THAT(refusal(kGoodToken, "hq:hilda:not-an-email"), Catch::Contains("role:user_id:email"));
    CHECK_THAT(refusal(kGoodToken, "hq::hilda@hq.example"), Catch::Contains("role:user_id:email"));
}

TEST_CASE("placeholder and low-entropy tokens are refused at start-up, without printing the token", "[auth]") {
    const std::string who = "hq:hq-1:hq@example.com";
    // The placeholders the deploy examples once shipped with passed the length check and granted HQ.
    const std::string placeholder = "REPLACE-hq-token-of-16-chars-or-more";
    const auto message = refusal(placeholder, who);
    CHECK_THAT(message, Catch::Contains("placeholder"));
    CHECK_THAT(message, !Catch::Contains(placeholder));
    CHECK_THAT(refusal("changeme-changeme-1234", who), Catch::Contains("placeholder"));
    CHECK_THAT(refusal("aaaaaaaaaaaaaaaaaaaaaaaa", who), Catch::Contains("distinct characters"));
    CHECK_THAT(refusal("0123012301230123", who), Catch::Contains("distinct characters"));
    CHECK_THAT(refusal("Zx9-short", who), Catch::Contains("at least 16 characters"));
    CHECK(refusal(kGoodToken, who).empty());
}

TEST_CASE("the client is the TCP peer unless the peer is a trusted proxy", "[auth]") {
    const ClientAddressResolver none;
    CHECK(none.resolve("ipv4:203.0.113.7:5555") == "203.0.113.7");
    // A client cannot choose its own key by sending the header itself.
    CHECK(none.resolve("ipv4:203.0.113.7:5555", "198.51.100.1") == "203.0.113.7");
    CHECK(none.resolve("unix:/run/gatehouse.sock") == "unix:/run/gatehouse.sock");

    const ClientAddressResolver proxies({"10.0.0.0/8", "192.168.1.7", "fd00::/8"}, "server.trusted_proxies");
    CHECK(proxies.resolve("ipv4:10.1.2.3:40000", "198.51.100.1") == "198.51.100.1");
    CHECK(proxies.resolve("ipv4:192.168.1.7:40000", "198.51.100.1:6000") == "198.51.100.1");
    CHECK(proxies.resolve("ipv4:192.168.1.8:40000", "198.51.100.1") == "192.168.1.8");  // not trusted
    // Right to left: a client-sent entry before the real one is ignored; trusted hops are skipped.
    CHECK(proxies.resolve("ipv4:10.0.0.1:1", "1.1.1.1, 198.51.100.1, 10.9.9.9") == "198.51.100.1");
    // Only trusted hops: the leftmost one is the client.
    CHECK(proxies.resolve("ipv4:10.0.0.1:1", "10.0.0.2") == "10.0.0.2");
    // Garbage beyond the trusted hops: the last address a trusted hop saw.
    CHECK(proxies.resolve("ipv4:10.0.0.1:1", "not-an-ip") == "10.0.0.1");
    CHECK(proxies.resolve("ipv6:[fd00::1]:443", "2001:db8:1:2::99") == "2001:db8:1:2::/64");
    CHECK(proxies.resolve("ipv6:%5Bfd00::1%5D:443", "[2001:db8:1:2::99]:5000") == "2001:db8:1:2::/64");
    CHECK(proxies.resolve("ipv4:10.0.0.1:1", "") == "10.0.0.1");
}

TEST_CASE("IPv6 clients are keyed by their /64: rotating addresses within it does not give new budgets", "[auth]") {
    const ClientAddressResolver none;
    CHECK(none.resolve("ipv6:[2001:db8:aa:bb:1::1]:443") == "2001:db8:aa:bb::/64");
    CHECK(none.resolve("ipv6:[2001:db8:aa:bb:ffff::7]:443") == "2001:db8:aa:bb::/64");
    CHECK(none.resolve("ipv6:[2001:db8:aa:bc::1]:443") == "2001:db8:aa:bc::/64");
    CHECK(none.resolve("ipv6:[::ffff:203.0.113.7]:443") == "203.0.113.7");  // IPv4-mapped
    CHECK(none.resolve("ipv6:[::1]:443") == "::/64");
}

TEST_CASE("trusted proxies are IP addresses or CIDRs, checked at start-up", "[auth]") {
    CHECK_THROWS_WITH(ClientAddressResolver({"10.0.0.0/33"}, "server.trusted_proxies"),
                      Catch::Contains("server.trusted_proxies") && Catch::Contains("prefix length"));
    CHECK_THROWS_WITH(ClientAddressResolver({"proxy.local"}, "server.trusted_proxies"),
                      Catch::Contains("not an IP address or CIDR"));
    CHECK_THROWS_WITH(ClientAddressResolver({"10.0.0.0/"}, "server.trusted_proxies"), Catch::Contains("prefix length"));
    CHECK_NOTHROW(ClientAddressResolver({"::1", "0.0.0.0/0", "2001:db8::/32"}, "server.trusted_proxies"));
}
