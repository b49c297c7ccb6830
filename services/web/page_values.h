// Values as every page shows them: times in UTC, amounts of money, and optional values that a
// template shows only when there is one. Pure functions, safe from any thread.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <kainjow/mustache.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gatehouse/common/v1/common.pb.h"

namespace gatehouse::web {

// Sets `key` only when `value` is not empty: a mustache section over "" would still render.
void set_if(kainjow::mustache::data& data, const std::string& key, const std::string& value);
// An address's query parameters, name and value (the value is encoded when written out).
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// A paged list's pager: first_href when this page is not the first, and next_href when the
// service gave a next page's token, each the list's `path` with its `filter` so the pages keep it;
// next_href adds `token_param`=the token.
void set_pager(kainjow::mustache::data& data, const std::string& path, const QueryParams& filter,
               const std::string& token_param, const std::string& next_page_token, bool first_page);
// "2026-12-01 09:30 UTC"; "" for an unset time.
[[nodiscard]] std::string format_time(const google::protobuf::Timestamp& at);
// The amount of minor units as a form input shows it: "25000.50", "-0.50".
[[nodiscard]] std::string format_amount(const common::v1::Money& money);
// "25000.50 EUR"; "" when there is no amount (no currency).
[[nodiscard]] std::string format_money(const common::v1::Money& money);
// A typed amount ("25000", "25000.5", "25000,50", spaces around) as minor units; nothing when it
// is not one (a sign, more than two decimals or fifteen digits, anything else).
[[nodiscard]] std::optional<std::int64_t> parse_amount(std::string_view text);

}  // namespace gatehouse::web
