// How onboarding reacts to the sales bridge (approval mode "crm"): opportunity won approves the
// prospect; lead disqualified or opportunity lost rejects it with the CRM's reason. Each reaction
// is committed with the input event's inbox record (effectively once).
#pragma once

#include "domain/prospect.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::onboarding {

kernel::HandlerVerdict react_to_sales_event(const kernel::InboundEvent& event,
                                            kernel::AggregateRuntime<Prospect>& prospects);

}  // namespace gatehouse::onboarding
