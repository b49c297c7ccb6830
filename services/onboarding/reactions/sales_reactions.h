// How onboarding reacts to the sales bridge (approval mode "crm"): opportunity won approves the
// prospect; lead disqualified or opportunity lost rejects it with the CRM's reason. Closures that
// sales-bridge made because HQ decided here (decided_by_hq) are ignored. Each reaction
// is committed with the input event's inbox record (effectively once). A decision inconsistent
// with the request (unknown request, a request in direct mode, not verified, won by the requester
// or by a user without email) is dead-lettered with the reason; one that arrives after the request
// was decided is ignored with a warning.
#pragma once

#include "domain/prospect.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::onboarding {

kernel::HandlerVerdict react_to_sales_event(const kernel::InboundEvent& event, ProspectRuntime& prospects);

}  // namespace gatehouse::onboarding
