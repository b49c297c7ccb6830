// The customers' read model: what the use cases, the reactions, the sweeper and the lists look
// customers and partner users up by, kept by the kernel in the same write as the customer's events
// (see gatehouse/kernel/read_model.h). Each lookup costs O(log n + matches) and each list page
// O(log n + page), whatever the history; nothing walks all customers.
//
//   index               key (then the customer id, appended by the kernel)  value
//   list                list segment, customer id (one entry per segment)   list_summary()
//   person_email        lower-cased email of a Person that is not blocked or closed
//   crm_account         CRM account id of an Organization (when linked)
//   crm_contact         CRM contact id of a customer (when linked)
//   request             prospect request number, type, "crm" / "local"
//   onboarded           the request that made an Organization a partner
//   hierarchy           hierarchy id (on its Organization)                   hierarchy id
//   user                partner user id (any status; on their Organization)   user id
//   user_email          lower-cased email and user id of an Active user       user id
//   user_customer       Person customer id and user id of a live (not removed) user   user id
//   invitation_expiry   open invitation's expiry (ns), user id                user id
//
// Counters: one per list segment ("all", "type=<n>", "status=<s>", "type=<n>,status=<s>"), so
// that a list filtered by type and / or status knows its total without counting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/customer.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::customers {

// Bump when customer_read_model() changes what it writes: the model is rebuilt at start-up.
inline constexpr std::uint32_t kCustomerReadModelVersion = 3;  // 2: user_customer; 3: status closed

kernel::ReadModel<CustomerState> customer_read_model();

namespace customer_index {
inline constexpr std::string_view kList = "list";
inline constexpr std::string_view kPersonEmail = "person_email";
inline constexpr std::string_view kCrmAccount = "crm_account";
inline constexpr std::string_view kCrmContact = "crm_contact";
inline constexpr std::string_view kRequest = "request";
inline constexpr std::string_view kOnboarded = "onboarded";
inline constexpr std::string_view kHierarchy = "hierarchy";
inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kUserEmail = "user_email";
inline constexpr std::string_view kUserCustomer = "user_customer";
inline constexpr std::string_view kInvitationExpiry = "invitation_expiry";
}  // namespace customer_index

// The lists' status filter (the API's CustomerStatus: a customer is closed — its deal was lost —,
// else blocked or active).
enum class ListStatus { any, active, blocked, closed };
ListStatus list_status_of(const CustomerState& state);

// The list segment for a type filter (UNSPECIFIED: any) and a status filter; also the name of the
// counter of the customers in it.
std::string list_segment(v1::CustomerType type, ListStatus status);
// The prefix of one segment of the `list` index (customer id order).
kernel::IndexKey list_prefix(std::string_view segment);
// Where a page of `segment` continues after the customer `customer_id` (which need not exist):
// a cursor for AggregateRuntime::page / visit_index that skips every id up to and including it.
std::string list_cursor_after(std::string_view segment, std::string_view customer_id);
// What a list's free-text filter is matched against (lower-cased name, email, customer id and
// CRM ids, one per line): the `list` entries' value, so that a text filter never loads a customer.
std::string list_summary(const CustomerState& state);

// The key of the `request` index.
kernel::IndexKey request_key(std::string_view request_number, v1::CustomerType type, bool crm_linked);
// The time key of the `invitation_expiry` index (nanoseconds since the epoch).
kernel::IndexKey expiry_key(Clock::time_point at);

}  // namespace gatehouse::customers
