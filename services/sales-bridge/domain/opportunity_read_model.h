// The opportunities' read model (gatehouse/kernel/read_model.h): what the opportunity list and the
// qualification check read, kept by the kernel in the same write as the opportunity's events.
// Every page costs O(log n + page) and every count O(1), whatever the history.
//
//   index         key, then newest first (listing.h)   counter (the range's size)
//   all           -                                    opportunities
//   status        status                               status:<status>
//   owner         owner                                owner:<owner>
//   owner_status  owner, status                        status:<status>:owner:<owner>
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/listing.h"
#include "domain/opportunity.h"
#include "gatehouse/kernel/read_model.h"

namespace gatehouse::sales {

// Bump when opportunity_read_model() changes what it writes: the model is rebuilt from the log at
// start-up.
inline constexpr std::uint32_t kOpportunityReadModelVersion = 1;

kernel::ReadModel<OpportunityState> opportunity_read_model();

// Every opportunity.
inline constexpr std::string_view kOpportunitiesCounter = "opportunities";

// The opportunities, optionally of one owner and of one status.
Listing opportunities_listing(const std::optional<std::string>& owner_user_id, std::optional<OpportunityStatus> status);

}  // namespace gatehouse::sales
