#include "reactions/onboarding_reactions.h"

namespace gatehouse::customers {

kernel::HandlerVerdict react_to_onboarding_event(const kernel::InboundEvent& event, PartnerOnboarding& onboarding) {
    if (event.envelope.event_type() != onboarding::v1::ProspectApproved::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();
    }
    onboarding::v1::ProspectApproved approved;
    if (!approved.ParseFromString(event.envelope.payload()) || approved.prospect().request_number().empty()) {
        return kernel::HandlerVerdict::poison("undecodable ProspectApproved or no request number");
    }
    return onboarding.onboard(approved, event);
}

}  // namespace gatehouse::customers
