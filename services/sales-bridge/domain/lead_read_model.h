// The leads' read model (gatehouse/kernel/read_model.h): what the lead lists, the qualification
// check and round-robin assignment read, kept by the kernel in the same write as the lead's
// events. Every lookup costs O(log n + page) and every count O(1), whatever the history.
//
//   index                  leads                 key, then newest first (listing.h)
//   my_open                Open, any origin      owner
//   commerce               origin Commerce B2B   -
//   commerce_status        origin Commerce B2B   status
//   commerce_owner         origin Commerce B2B   owner ("" = unassigned)
//   commerce_status_owner  origin Commerce B2B   status, owner
//   qualified              Qualified             qualified_at, newest first (only)
//
// Counters, the size of each range: open:owner:<owner>, commerce, commerce:status:<status>,
// commerce:owner:<owner>, commerce:status:<status>:owner:<owner>, qualified; and leads (every lead).
//
// The list indexes carry the lead's search text as value (company name and contact email,
// lower-cased): the `text` filter is matched against it, never against a loaded lead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/lead.h"
#include "domain/listing.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::sales {

// Bump when lead_read_model() changes what it writes: the model is rebuilt from the log at start-up.
inline constexpr std::uint32_t kLeadReadModelVersion = 1;

kernel::ReadModel<LeadState> lead_read_model();

// Every lead (what round-robin assignment counts: the leads that exist before a new one).
inline constexpr std::string_view kLeadsCounter = "leads";
// Qualified leads, newest qualification first, and how many there are.
inline constexpr std::string_view kQualifiedLeadsIndex = "qualified";
inline constexpr std::string_view kQualifiedLeadsCounter = "qualified";

// "My open leads": the open leads of `owner_user_id`.
Listing my_open_leads(std::string_view owner_user_id);
// "All commerce B2B leads", optionally of one status and of one owner ("" = unassigned).
Listing commerce_leads(std::optional<LeadStatus> status, const std::optional<std::string>& owner_user_id);

}  // namespace gatehouse::sales
