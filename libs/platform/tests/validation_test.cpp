#include <catch2/catch.hpp>

#include <string>

#include "gatehouse/platform/validation.h"

using namespace gatehouse::platform;

namespace {

std::string repeated(std::string_view piece, std::size_t times) {
    std::string text;
    for (std::size_t i = 0; i < times; ++i) {
        text += piece;
    }
    return text;
}

}  // namespace

TEST_CASE("check_text counts characters, not bytes", "[validation]") {
    const std::string umlauts = repeated("ä", 200);  // 400 bytes
    REQUIRE(umlauts.size() == 400);
    CHECK(utf8_length(umlauts) == 200U);
    CHECK_FALSE(check_text("name", umlauts, 1, 200).has_value());
    CHECK(check_text("name", umlauts + "ä", 1, 200) == "name: must have at most 200 characters");
    CHECK(check_text("name", repeated("€", 3), 4, 10) == "name: must have at least 4 characters");
    CHECK(utf8_length("\xF0\x9F\x98\x80") == 1U);  // one emoji, four bytes
}

TEST_CASE("check_text: required, and the limits named in the message", "[validation]") {
    CHECK(check_text("contact.first_name", "", 1, 80) == "contact.first_name: is required");
    CHECK_FALSE(check_text("comments", "", 0, 80).has_value());
    CHECK(check_text("company.name", "A", 2, 120) == "company.name: must have at least 2 characters");
    CHECK(check_text("company.name", std::string(121, 'x'), 2, 120) ==
          "company.name: must have at most 120 characters");
    CHECK_FALSE(check_text("company.name", std::string(120, 'x'), 2, 120).has_value());
}

TEST_CASE("check_text refuses invalid UTF-8", "[validation]") {
    const std::string kBad = "name: must be valid UTF-8 text without control characters";
    for (const std::string& bad : {
             std::string("Acme \xFF"),  // never a UTF-8 byte
             std::string("Acme \xC3"),  // truncated sequence
             std::string("\x80"
                         "Acme"),              // continuation byte first
             std::string("\xC0\xBC"),          // overlong '<'
             std::string("\xE0\x80\xBC"),      // overlong '<', three bytes
             std::string("\xED\xA0\x80"),      // a surrogate (U+D800)
             std::string("\xF4\x90\x80\x80"),  // past U+10FFFF
         }) {
        INFO(bad);
        CHECK_FALSE(utf8_length(bad).has_value());
        CHECK(check_text("name", bad, 0, 200) == kBad);
    }
}

TEST_CASE("check_text refuses control characters, tab and line feed only in Lines::many", "[validation]") {
    const std::string kBad = "text: must be valid UTF-8 text without control characters";
    CHECK(check_text("text", "bell\a", 0, 100) == kBad);
    CHECK(check_text("text", std::string("nul\0x", 5), 0, 100) == kBad);
    CHECK(check_text("text", "two\nlines", 0, 100) == kBad);
    CHECK(check_text("text", "carriage\rreturn", 0, 100, Lines::many) == kBad);
    CHECK(check_text("text", "del\x7F", 0, 100, Lines::many) == kBad);
    CHECK_FALSE(check_text("text", "two\nlines\tand a tab", 0, 100, Lines::many).has_value());
    // Control characters count as characters for utf8_length (passwords may hold them).
    CHECK(utf8_length("a\tb") == 3U);
}

TEST_CASE("the email rule: exactly one mailbox", "[validation]") {
    for (const char* good :
         {"jane@acme.example", "jane.doe+orders@mail.acme.example", "o'brien@x-y.example", "a@b.c"}) {
        INFO(good);
        CHECK(valid_email(good));
        CHECK_FALSE(check_email("email", good).has_value());
    }
    for (const char* bad : {"<evil@x>v@y",
                            "<evil@x.example>v@y.example",
                            "a@x.example,b@y.example",
                            "a@x.example, b@y.example",
                            "a b@x.example",
                            "a@x.example\r\nBcc: b@y.example",
                            "a@x.example ",
                            " a@x.example",
                            "\"a\"@x.example",
                            "a@x",
                            "a..b@x.example",
                            ".a@x.example",
                            "a.@x.example",
                            "a@-x.example",
                            "a@.x.example",
                            "a@x.example.",
                            "a@x..example",
                            "@x.example",
                            "a@",
                            "jane",
                            "jäne@x.example",
                            "a@x_y.example"}) {
        INFO(bad);
        CHECK_FALSE(valid_email(bad));
        CHECK(check_email("contact.email", bad) == "contact.email: must be an email address such as name@example.com");
    }
    CHECK(check_email("contact.email", "") == "contact.email: is required");
    CHECK_FALSE(valid_email(""));
}

TEST_CASE("the email rule: at most 64 bytes before the @ and 254 in all", "[validation]") {
    const std::string domain = "@" + repeated("d", 60) + ".example";
    CHECK(valid_email(std::string(64, 'l') + domain));
    CHECK_FALSE(valid_email(std::string(65, 'l') + domain));
    const std::string longest = "jane@" + std::string(241, 'x') + ".example";
    REQUIRE(longest.size() == 254);
    CHECK(valid_email(longest));
    const std::string too_long = "jane@" + std::string(246, 'x') + ".example";
    REQUIRE(too_long.size() > 254);
    CHECK(check_email("email", too_long) == "email: must have at most 254 characters");
}

TEST_CASE("to_lower changes ASCII letters only", "[validation]") {
    CHECK(to_lower("Jane.Doe@ACME.Example") == "jane.doe@acme.example");
    CHECK(to_lower("MÜLLER") == "mÜller");  // UTF-8 bytes are left as they are
    CHECK(to_lower("") == "");
}

TEST_CASE("replicated fields: one set of limits", "[validation]") {
    CHECK(check_replicated_field("account.name", "name", "A", false) ==
          "account.name: must have at least 2 characters");
    CHECK(check_replicated_field("details.name", "name", std::string(121, 'n'), false) ==
          "details.name: must have at most 120 characters");
    CHECK_FALSE(check_replicated_field("details.name", "name", repeated("ä", 120), false).has_value());
    CHECK(check_replicated_field("contact.phone", "phone", std::string(41, '1'), false) ==
          "contact.phone: must have at most 40 characters");
    CHECK_FALSE(check_replicated_field("contact.phone", "phone", "", false).has_value());
    CHECK(check_replicated_field("account.tax_id", "tax_id", std::string(33, 'X'), false) ==
          "account.tax_id: must have at most 32 characters");
    CHECK_FALSE(check_replicated_field("account.tax_id", "tax_id", std::string(32, 'X'), false).has_value());
    CHECK(check_replicated_field("contact.first_name", "first_name", "", false) == "contact.first_name: is required");
    CHECK(check_replicated_field("contact.last_name", "last_name", std::string(81, 'l'), false) ==
          "contact.last_name: must have at most 80 characters");
    CHECK(check_replicated_field("contact.job_title", "job_title", std::string(101, 'j'), false) ==
          "contact.job_title: must have at most 100 characters");
    CHECK(check_replicated_field("account.website", "website", std::string(201, 'w'), false) ==
          "account.website: must have at most 200 characters");

    // The email: the one rule; empty only where the service does not require it.
    CHECK_FALSE(check_replicated_field("details.email", "email", "", false).has_value());
    CHECK(check_replicated_field("contact.email", "email", "", true) == "contact.email: is required");
    CHECK(check_replicated_field("details.email", "email", "<evil@x>v@y", false) ==
          "details.email: must be an email address such as name@example.com");

    // Names that are not replicated text fields are the caller's to accept or refuse.
    CHECK_FALSE(replicated_text_limits("address").has_value());
    CHECK_FALSE(check_replicated_field("x", "no_such_field", "anything", true).has_value());
}
