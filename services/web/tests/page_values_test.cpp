#include "page_values.h"

#include <catch2/catch.hpp>

using namespace gatehouse::web;

TEST_CASE("pages show times in UTC to the minute, money with two decimals and its currency", "[values]") {
    google::protobuf::Timestamp at;
    CHECK(format_time(at).empty());
    at.set_seconds(1'796'095'800);  // 2026-12-01 03:30 UTC
    CHECK(format_time(at) == "2026-12-01 03:30 UTC");
    gatehouse::common::v1::Money money;
    CHECK(format_money(money).empty());  // no currency: no amount
    money.set_currency_code("EUR");
    money.set_minor_units(2'500'050);
    CHECK(format_money(money) == "25000.50 EUR");
    money.set_minor_units(-50);
    CHECK(format_amount(money) == "-0.50");
    money.set_minor_units(7);
    CHECK(format_amount(money) == "0.07");
}

TEST_CASE("a typed amount becomes minor units, or nothing when it is not an amount", "[values]") {
    CHECK(parse_amount("25000") == 2'500'000);
    CHECK(parse_amount(" 25000.5 ") == 2'500'050);
    CHECK(parse_amount("25000,50") == 2'500'050);
    CHECK(parse_amount("0.07") == 7);
    CHECK_FALSE(parse_amount(""));
    CHECK_FALSE(parse_amount("lots"));
    CHECK_FALSE(parse_amount("-5"));
    CHECK_FALSE(parse_amount("1.234"));
    CHECK_FALSE(parse_amount("1234567890123456"));
    CHECK_FALSE(parse_amount(".50"));
}

TEST_CASE("a paged list's pager keeps the list's filter on its first and next pages", "[values]") {
    kainjow::mustache::data first_page = kainjow::mustache::data::type::object;
    set_pager(first_page, "/office/leads", {{"text", "a&b c"}, {"status", "LEAD_STATUS_OPEN"}}, "page", "t/1", true);
    REQUIRE(first_page.get("next_href") != nullptr);
    CHECK(first_page.get("next_href")->string_value() ==
          "/office/leads?text=a%26b%20c&status=LEAD_STATUS_OPEN&page=t%2F1");
    CHECK(first_page.get("first_href") == nullptr);

    kainjow::mustache::data last_page = kainjow::mustache::data::type::object;
    set_pager(last_page, "/office/notifications", {}, "page_token", "", false);
    CHECK(last_page.get("next_href") == nullptr);
    REQUIRE(last_page.get("first_href") != nullptr);
    CHECK(last_page.get("first_href")->string_value() == "/office/notifications");

    kainjow::mustache::data middle = kainjow::mustache::data::type::object;
    set_pager(middle, "/office/opportunities", {{"mine", "1"}}, "page", "x", false);
    CHECK(middle.get("next_href")->string_value() == "/office/opportunities?mine=1&page=x");
    CHECK(middle.get("first_href")->string_value() == "/office/opportunities?mine=1");
}
