// What qualifying a lead creates besides the LeadQualified event: the opportunity, the account
// and the contact, with the ids the event names. Each creation is idempotent (creating an
// existing record does nothing), so completing a qualification twice creates nothing twice, and
// a crash between the lead's commit and these is repaired at start-up by
// complete_pending_qualifications().
#pragma once

#include <optional>
#include <string>

#include "domain/sales_runtimes.h"
#include "gatehouse/kernel/errors.h"

namespace gatehouse::sales {

// Creates what `lead` (qualified) names and does not exist yet. A rejection means a bug or a
// broken log, not bad input (everything was checked when the lead was qualified).
std::optional<kernel::Rejection> complete_qualification(SalesAggregates& aggregates, const LeadState& lead,
                                                        const std::string& correlation_id);

// Completes every qualified lead whose opportunity, account or contact is missing; returns how many.
// O(1) when none is missing (counters); otherwise it looks at qualified leads from the newest back
// until it has found every missing record.
std::size_t complete_pending_qualifications(SalesAggregates& aggregates);

// The periodic work of the service (once it is ready, then every sales.qualification_check_interval):
// complete_pending_qualifications(), with a warning in the log when it completed any, since each
// is a qualification a crash or a store error interrupted.
void check_qualifications(SalesAggregates& aggregates);

}  // namespace gatehouse::sales
