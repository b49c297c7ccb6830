// The web front door's own rules: CSRF tokens, cookies, form bodies, field errors, the language;
// and gatehouse-web's settings against docs/configuration.md and its start-up checks.
#include <catch2/catch.hpp>

#include <set>

#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/settings_docs.h"
#include "web_security.h"

using namespace gatehouse::web;
using namespace gatehouse::testing;

TEST_CASE("a CSRF token is 256 random bits in hex, and a fresh one each time", "[web]") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const auto token = new_csrf_token();
        CHECK(token.size() == 64);
        CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(token);
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("a form's CSRF token must equal the cookie's: missing, empty, shorter or different is refused", "[web]") {
    const auto token = new_csrf_token();
    CHECK(csrf_matches(token, token));
    CHECK_FALSE(csrf_matches(token, ""));
    CHECK_FALSE(csrf_matches("", ""));
    CHECK_FALSE(csrf_matches(token, token.substr(0, 63)));
    CHECK_FALSE(csrf_matches(token, token + "0"));
    std::string other = token;
    other.back() = other.back() == 'a' ? 'b' : 'a';
    CHECK_FALSE(csrf_matches(token, other));
}

TEST_CASE("the Cookie header is split into names and values", "[web]") {
    const auto cookies = parse_cookies("gh_session=abc; gh_csrf=\"q1\";broken; =x;gh_lang=de ; gh_session=second");
    CHECK(cookies.at("gh_session") == "abc");
    CHECK(cookies.at("gh_csrf") == "q1");
    CHECK(cookies.at("gh_lang") == "de");
    CHECK(cookies.count("broken") == 0);
    CHECK(cookies.size() == 3);
    CHECK(parse_cookies("").empty());
}

TEST_CASE("Set-Cookie is always HttpOnly with Path=/ and SameSite, Secure behind TLS", "[web]") {
    CHECK(set_cookie("gh_session", "tok", {}) == "gh_session=tok; Path=/; HttpOnly; SameSite=Lax");
    CHECK(set_cookie("gh_csrf", "x", {true, "Strict", std::nullopt}) ==
          "gh_csrf=x; Path=/; HttpOnly; SameSite=Strict; Secure");
    CHECK(set_cookie("gh_session", "", {false, "Lax", 0L}) == "gh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    CHECK_THROWS_AS(set_cookie("gh_session", "a;b", {}), std::invalid_argument);
    CHECK_THROWS_AS(set_cookie("gh session", "a", {}), std::invalid_argument);
    CHECK_THROWS_AS(set_cookie("x", "a", {false, "None", std::nullopt}), std::invalid_argument);
}

TEST_CASE("a form body is decoded: + and %XX, the first of a repeated name, malformed escapes kept", "[web]") {
    const auto form = parse_form("company.name=Acme+%26+Co&contact.email=a%40b.example&x=1&x=2&empty=&flag&%zz=%4");
    CHECK(form.at("company.name") == "Acme & Co");
    CHECK(form.at("contact.email") == "a@b.example");
    CHECK(form.at("x") == "1");
    CHECK(form.at("empty").empty());
    CHECK(form.at("flag").empty());
    CHECK(form.at("%zz") == "%4");
    CHECK(parse_form("").empty());
    CHECK(parse_form("&&=v").empty());
    CHECK(url_decode("%C3%BC") == "\xC3\xBC");
    CHECK(url_encode("a b&c/ü") == "a%20b%26c%2F%C3%BC");
    CHECK(url_decode(url_encode("R-2026 / x+y")) == "R-2026 / x+y");
}

TEST_CASE("an INVALID_ARGUMENT 'field: rule' lands on the form's input of that field", "[web]") {
    const std::vector<std::string> fields = {"company.name", "contact.email"};
    const auto error = field_error("contact.email: must be an email address such as name@example.com", fields);
    REQUIRE(error);
    CHECK(error->field == "contact.email");
    CHECK(error->rule == "must be an email address such as name@example.com");
    CHECK_FALSE(field_error("idempotency_key: at most 128 letters", fields));  // not an input: the summary alone
    CHECK_FALSE(field_error("no field here", fields));
    CHECK(input_id("company.address.country_code") == "f-company-address-country_code");
}

TEST_CASE("the language: the switch's choice, else Accept-Language by quality, else English", "[web]") {
    CHECK(choose_language("de", "en") == "de");
    CHECK(choose_language("", "de-DE,de;q=0.9,en;q=0.8") == "de");
    CHECK(choose_language("", "fr-FR, en;q=0.5, de;q=0.7") == "de");
    CHECK(choose_language("", "fr, de;q=0") == "en");
    CHECK(choose_language("xx", "") == "en");
    CHECK(choose_language("", "EN-gb") == "en");
}

TEST_CASE("docs/configuration.md lists every web setting as the binary describes it", "[docs]") {
    check_settings_documented(GATEHOUSE_WEB_BINARY);
}

TEST_CASE("a bad setting stops gatehouse-web with a message naming it", "[docs]") {
    ChildProcess bad_listen({"/usr/bin/env", "GATEHOUSE_WEB_LISTEN=nowhere", GATEHOUSE_WEB_BINARY}, true);
    CHECK_THAT(output_of(bad_listen), Catch::Contains("web.listen"));
    CHECK(bad_listen.wait() == 2);
    ChildProcess bad_tls({"/usr/bin/env", "GATEHOUSE_SERVICES_TLS=true", "GATEHOUSE_SERVICES_TLS_CA=/nonexistent.pem",
                          GATEHOUSE_WEB_BINARY},
                         true);
    CHECK_THAT(output_of(bad_tls), Catch::Contains("services.tls_ca"));
    CHECK(bad_tls.wait() == 2);
}
