// How the sales bridge reacts to onboarding: a verified request in approval mode "crm" becomes a
// lead (origin "Commerce B2B"), exactly once: the lead id is derived from the request number and
// creating an existing lead does nothing, and the lead's commit carries the inbox record.
// HQ's decision on such a request (ProspectApproved / ProspectRejected with path HQ_OVERRIDE, or
// HQ for rejections recorded before they were overrides) closes its open lead / opportunity the
// same way, marked decided_by_hq (domain/hq_decision.h): an approval qualifies an open lead
// (opportunity, account and contact follow) and wins the opportunity; a rejection disqualifies an
// open lead or loses an open opportunity. Each step is idempotent, so a redelivery or a replay
// changes nothing; onboarding ignores the closures (decided_by_hq), so nothing loops.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "domain/sales_runtimes.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/onboarding/v1/events.pb.h"

namespace gatehouse::sales {

struct SalesUser final {
    std::string user_id;
    std::string email;
};

// Who new leads go to: nobody (unassigned, the default) or round-robin over `users`.
struct LeadAssignment final {
    bool round_robin = false;
    std::vector<SalesUser> users;
};

// The lead a verified request becomes; `owner` may be empty (unassigned). Pure.
v1::LeadCreated lead_from(const onboarding::v1::EmailVerified& verified, const SalesUser& owner);

kernel::HandlerVerdict react_to_onboarding_event(const kernel::InboundEvent& event, SalesAggregates& aggregates,
                                                 const LeadAssignment& assignment);

}  // namespace gatehouse::sales
