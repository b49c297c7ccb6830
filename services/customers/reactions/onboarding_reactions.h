// How customers reacts to onboarding: a ProspectApproved makes the request's partner
// (app/partner_onboarding.h), exactly once (its commits carry the inbox record). Other onboarding
// events are not ours and are ignored; an undecodable approval, or one without a request number,
// is dead-lettered. Runs on the onboarding topic's consumer thread.
#pragma once

#include "app/partner_onboarding.h"
#include "gatehouse/kernel/inbox_consumer.h"

namespace gatehouse::customers {

kernel::HandlerVerdict react_to_onboarding_event(const kernel::InboundEvent& event, PartnerOnboarding& onboarding);

}  // namespace gatehouse::customers
