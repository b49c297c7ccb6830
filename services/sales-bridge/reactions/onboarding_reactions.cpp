#include "reactions/onboarding_reactions.h"

#include "gatehouse/kernel/logging.h"

namespace gatehouse::sales {

v1::LeadCreated lead_from(const onboarding::v1::EmailVerified& verified, const SalesUser& owner) {
    const auto& prospect = verified.prospect();
    v1::LeadCreated lead;
    lead.set_lead_id(lead_id_for(prospect.request_number()));
    lead.set_prospect_request_number(prospect.request_number());
    lead.set_topic("B2B partner request: " + prospect.company().name());
    lead.set_company_name(prospect.company().name());
    *lead.mutable_contact() = prospect.contact();
    lead.set_origin(std::string(kCommerceOrigin));
    lead.set_owner_user_id(owner.user_id);
    lead.set_owner_email(owner.email);
    *lead.mutable_company_address() = prospect.company().address();
    lead.set_company_phone(prospect.company().phone());
    lead.set_company_website(prospect.company().website());
    lead.set_company_tax_id(prospect.company().tax_id());
    lead.set_comments(prospect.comments());
    // The verification time, not the time of processing: a replay creates the same lead.
    *lead.mutable_created_at() = verified.verified_at();
    return lead;
}

kernel::HandlerVerdict react_to_onboarding_event(const kernel::InboundEvent& event, LeadRuntime& leads,
                                                 const LeadAssignment& assignment) {
    if (event.envelope.event_type() != onboarding::v1::EmailVerified::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();  // submitted, approved, ...: not the CRM's business
    }
    onboarding::v1::EmailVerified verified;
    if (!verified.ParseFromString(event.envelope.payload())) {
        return kernel::HandlerVerdict::poison("undecodable " + event.envelope.event_type());
    }
    if (verified.prospect().approval_mode() != onboarding::v1::APPROVAL_MODE_CRM) {
        return kernel::HandlerVerdict::ignored();  // HQ decides this one directly
    }
    const std::string& request_number = verified.prospect().request_number();
    if (request_number.empty()) {
        return kernel::HandlerVerdict::poison("EmailVerified without prospect.request_number");
    }
    const std::string lead_id = lead_id_for(request_number);
    if (leads.find(lead_id)) {
        return kernel::HandlerVerdict::ignored();  // the same request again (e.g. a replayed topic)
    }
    SalesUser owner;
    if (assignment.round_robin && !assignment.users.empty()) {
        // The n-th lead goes to user n mod N. Leads are created only here, one at a time (the
        // inbox handles one record at a time), so the number of leads that exist is the new
        // lead's position (a counter of the leads' read model, committed with each lead).
        const auto count = static_cast<std::size_t>(leads.count(kLeadsCounter));
        owner = assignment.users[count % assignment.users.size()];
    }
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge",
                                         .inbox_key = event.inbox_key};
    auto result = leads.execute(lead_id, CreateLead{lead_from(verified, owner)}, context);
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::HandlerVerdict::poison(rejection->message);
    }
    kernel::logger("sales")->info("lead {} created from {}{}", lead_id, request_number,
                                  owner.user_id.empty() ? "" : " for " + owner.user_id);
    return kernel::HandlerVerdict::applied();
}

}  // namespace gatehouse::sales
