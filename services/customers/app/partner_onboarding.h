// A prospect approved in onboarding becomes a partner: its Organization and administrator Person
// (made here, or the ones replicated from the CRM for the request in crm mode), a hierarchy, and
// the administrator's web account, invited. Exactly once per request: the steps are found again
// on a redelivery, and they run under AppContext::request_customers(), which the CRM replication
// of the same request's account and contact also takes. No gRPC here; safe on any thread.
#pragma once

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "app/invitations.h"
#include "gatehouse/kernel/number_sequence.h"
#include "gatehouse/onboarding/v1/events.pb.h"

namespace gatehouse::customers {

class PartnerOnboarding final {
  public:
    PartnerOnboarding(AppContext& context, const CustomerLookups& lookups, Invitations& invitations,
                      kernel::NumberSequence& customer_numbers, kernel::NumberSequence& hierarchy_numbers,
                      kernel::NumberSequence& user_numbers)
        : context_(context),
          lookups_(lookups),
          invitations_(invitations),
          customer_numbers_(customer_numbers),
          hierarchy_numbers_(hierarchy_numbers),
          user_numbers_(user_numbers) {}

    // Onboards the approved request (`event` is the approval as received: its stream, ids and
    // inbox key). Poison when the approval contradicts its request; a TransientError while the
    // request's CRM customers have not been replicated yet; ignored for a request onboarded already.
    kernel::HandlerVerdict onboard(const onboarding::v1::ProspectApproved& approved, const kernel::InboundEvent& event);

  private:
    AppContext& context_;
    const CustomerLookups& lookups_;
    Invitations& invitations_;
    kernel::NumberSequence& customer_numbers_;
    kernel::NumberSequence& hierarchy_numbers_;
    kernel::NumberSequence& user_numbers_;
};

}  // namespace gatehouse::customers
