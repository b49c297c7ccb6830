#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "gatehouse/platform/paging.h"

using namespace gatehouse::platform;

TEST_CASE("a page request without size or token is the first page of the default size", "[paging]") {
    const auto read = read_page_request(0, "");
    REQUIRE(std::holds_alternative<PageRequest>(read));
    CHECK(std::get<PageRequest>(read).size == static_cast<std::size_t>(kDefaultPageSize));
    CHECK(std::get<PageRequest>(read).after.empty());
}

TEST_CASE("page sizes outside 1 to the maximum are refused, not clamped", "[paging]") {
    for (const int size : {-1, kMaxPageSize + 1, 100000}) {
        const auto read = read_page_request(size, "");
        REQUIRE(std::holds_alternative<std::string>(read));
        CHECK(std::get<std::string>(read) == "page_size: must be between 1 and 500");
    }
    for (const int size : {1, kMaxPageSize}) {
        const auto read = read_page_request(size, "");
        REQUIRE(std::holds_alternative<PageRequest>(read));
        CHECK(std::get<PageRequest>(read).size == static_cast<std::size_t>(size));
    }
}

TEST_CASE("a next page token reads back as the cursor it was made from", "[paging]") {
    const std::string cursor = std::string("prospect\0listing\0", 17) + "\xff\x01 id-7";
    const auto read = read_page_request(10, next_page_token(cursor));
    REQUIRE(std::holds_alternative<PageRequest>(read));
    CHECK(std::get<PageRequest>(read).after == cursor);
}

TEST_CASE("a token that no page made is refused with the field named", "[paging]") {
    for (const std::string& token : {std::string("xyz"), std::string("abc"), std::string("ABCD"),
                                     std::string(5000, 'a'), std::string("C-000001")}) {
        const auto read = read_page_request(10, token);
        REQUIRE(std::holds_alternative<std::string>(read));
        CHECK(std::get<std::string>(read) == "page_token: is not a token from a previous page");
    }
}
