#include <catch2/catch.hpp>

#include "domain/validation.h"

using namespace gatehouse::onboarding;

namespace {

gatehouse::onboarding::v1::CompanyDetails company() {
    gatehouse::onboarding::v1::CompanyDetails details;
    details.set_name("Acme GmbH");
    details.mutable_address()->set_street("Hauptstrasse 1");
    details.mutable_address()->set_city("Berlin");
    details.mutable_address()->set_postal_code("10115");
    details.mutable_address()->set_country_code("DE");
    details.set_phone("+49 30 1234567");
    details.set_website("https://acme.example");
    details.set_tax_id("DE136695976");
    return details;
}

gatehouse::common::v1::ContactPerson contact() {
    gatehouse::common::v1::ContactPerson person;
    person.set_first_name("Jane");
    person.set_last_name("Müller");
    person.set_email("jane@acme.example");
    person.set_phone("+49 30 7654321");
    person.set_job_title("Purchasing manager");
    return person;
}

}  // namespace

TEST_CASE("a complete, valid request passes", "[validation]") {
    CHECK_FALSE(check_request(company(), contact(), "Please call after 3pm").has_value());
}

TEST_CASE("every bad field is named with its rule", "[validation]") {
    struct Case {
        std::string field;
        std::function<void(gatehouse::onboarding::v1::CompanyDetails&, gatehouse::common::v1::ContactPerson&)> spoil;
    };
    const std::vector<Case> cases = {
        {"company.name: must have at least 2", [](auto& c, auto&) { c.set_name("A"); }},
        {"company.name: must have at most 120", [](auto& c, auto&) { c.set_name(std::string(121, 'x')); }},
        {"company.name: must be valid UTF-8", [](auto& c, auto&) { c.set_name("Acme\x01"); }},
        {"company.name: must be valid UTF-8", [](auto& c, auto&) { c.set_name("Acme \xff"); }},
        {"company.name: must not contain <", [](auto& c, auto&) { c.set_name("<script>"); }},
        {"company.address.street: is required", [](auto& c, auto&) { c.mutable_address()->clear_street(); }},
        {"company.address.city: is required", [](auto& c, auto&) { c.mutable_address()->clear_city(); }},
        {"company.address.postal_code: may contain only",
         [](auto& c, auto&) { c.mutable_address()->set_postal_code("10_115"); }},
        {"company.address.country_code: must be an ISO 3166-1",
         [](auto& c, auto&) { c.mutable_address()->set_country_code("XX"); }},
        {"company.address.country_code: must be an ISO 3166-1",
         [](auto& c, auto&) { c.mutable_address()->set_country_code("de"); }},
        {"company.address.country_code: is required",
         [](auto& c, auto&) { c.mutable_address()->clear_country_code(); }},
        {"company.phone: must have 7 to 15 digits", [](auto& c, auto&) { c.set_phone("+49 30"); }},
        {"company.phone: may contain only", [](auto& c, auto&) { c.set_phone("030-CALL-ME"); }},
        {"company.website: must be a web address", [](auto& c, auto&) { c.set_website("acme"); }},
        {"company.tax_id: has a wrong check digit for a DE", [](auto& c, auto&) { c.set_tax_id("DE136695977"); }},
        {"company.tax_id: is not a valid DE VAT number format", [](auto& c, auto&) { c.set_tax_id("DE1234"); }},
        {"company.tax_id: has country prefix FR, which does not match DE",
         [](auto& c, auto&) { c.set_tax_id("FR40303265045"); }},
        {"contact.first_name: is required", [](auto&, auto& p) { p.clear_first_name(); }},
        {"contact.last_name: must have at most 80", [](auto&, auto& p) { p.set_last_name(std::string(81, 'y')); }},
        {"contact.email: must be an email address", [](auto&, auto& p) { p.set_email("jane.acme.example"); }},
        {"contact.email: must be an email address", [](auto&, auto& p) { p.set_email("jane@localhost"); }},
        {"contact.email: must be an email address", [](auto&, auto& p) { p.set_email("jane..doe@acme.example"); }},
        {"contact.email: is required", [](auto&, auto& p) { p.clear_email(); }},
        {"contact.phone: is required", [](auto&, auto& p) { p.clear_phone(); }},
        {"contact.job_title: is required", [](auto&, auto& p) { p.clear_job_title(); }},
    };
    for (const Case& test : cases) {
        auto details = company();
        auto person = contact();
        test.spoil(details, person);
        const Problem found = check_request(details, person, "");
        INFO("expected: " << test.field);
        REQUIRE(found.has_value());
        CHECK_THAT(*found, Catch::StartsWith(test.field));
    }
    CHECK_THAT(*check_request(company(), contact(), std::string(2001, 'c')),
               Catch::StartsWith("comments: must have at most 2000"));
}

TEST_CASE("VAT numbers: formats and check digits of real-world examples", "[validation]") {
    // Valid numbers (published examples / well-known companies).
    for (const auto& [tax_id, country] : std::vector<std::pair<std::string, std::string>>{
             {"DE136695976", "DE"},  // check digit per ISO 7064 MOD 11,10
             {"136695976", "DE"},    // without prefix
             {"ATU13585627", "AT"},
             {"BE0403170701", "BE"},
             {"DK13585628", "DK"},
             {"FI20774740", "FI"},
             {"FR40303265045", "FR"},
             {"IT00743110157", "IT"},
             {"NL004495445B01", "NL"},
             {"PL5260250995", "PL"},
             {"PT501964843", "PT"},
             {"SE556036079301", "SE"},
             {"ESA28015865", "ES"},
             {"EL094259216", "GR"},
             {"GB980780684", "GB"},
             {"CHE116281710MWST", "CH"},
             {"123456789", "US"},  // no national rule: letters and digits
         }) {
        INFO(tax_id << " / " << country);
        CHECK_FALSE(check_tax_id("tax_id", normalize_tax_id(tax_id), country).has_value());
    }
    for (const auto& [tax_id, country] : std::vector<std::pair<std::string, std::string>>{{"ATU13585626", "AT"},
                                                                                          {"BE0403170702", "BE"},
                                                                                          {"DK13585627", "DK"},
                                                                                          {"FI20774741", "FI"},
                                                                                          {"FR41303265045", "FR"},
                                                                                          {"IT00743110158", "IT"},
                                                                                          {"PL5260250994", "PL"},
                                                                                          {"PT501964842", "PT"},
                                                                                          {"SE556036079401", "SE"},
                                                                                          {"GR094259216", "GR"}}) {
        INFO(tax_id << " / " << country);
        CHECK(check_tax_id("tax_id", normalize_tax_id(tax_id), country).has_value());
    }
    CHECK(normalize_tax_id("de 136.695-976") == "DE136695976");
}

TEST_CASE("normalisations used by duplicate detection", "[validation]") {
    CHECK(normalize_email("  Jane@ACME.Example ") == "Jane@acme.example");
    CHECK(normalize_company_name("ACME GmbH") == "acme");
    CHECK(normalize_company_name("Acme, Ltd.") == "acme");
    CHECK(normalize_company_name("Acme Tools Inc") == "acme tools");
}

TEST_CASE("mailbox_key: one key for the addresses of one mailbox", "[validation]") {
    CHECK(mailbox_key(" Jane@ACME.example ") == "jane@acme.example");
    CHECK(mailbox_key("jane+partners@acme.example") == "jane@acme.example");
    CHECK(mailbox_key("jane@acme.example") != mailbox_key("john@acme.example"));
    CHECK(mailbox_key("no-at-sign+x") == "no-at-sign+x");
    CHECK(mailbox_key("").empty());
}
