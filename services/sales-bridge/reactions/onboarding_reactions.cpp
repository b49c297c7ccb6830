#include "reactions/onboarding_reactions.h"

#include "app/qualification.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::sales {
namespace {

// What a reaction's rejection means: a concurrent change or a storage hiccup is retried by the
// inbox; anything else contradicts the log and is dead-lettered with its reason.
template <class Result>
std::optional<kernel::HandlerVerdict> failure_of(const Result& result, const std::string& what) {
    const auto* rejection = std::get_if<kernel::Rejection>(&result);
    if (rejection == nullptr) {
        return std::nullopt;
    }
    if (rejection->code == kernel::RejectionCode::conflict || rejection->code == kernel::RejectionCode::unavailable) {
        throw kernel::TransientError(what + ": " + rejection->message);
    }
    return kernel::HandlerVerdict::poison(what + ": " + rejection->message);
}

struct HqDecision final {
    std::string request_number;
    ApplyHqDecision command;
};

// HQ's decision on a request in approval mode crm, from ProspectApproved / ProspectRejected; nullopt
// for the CRM's own decisions (path CRM) and for direct-mode requests.
template <class Decided>
std::optional<HqDecision> hq_decision_of(const Decided& decided, bool approved, const std::string& by,
                                         const std::string& reason, const google::protobuf::Timestamp& at) {
    const bool by_hq = decided.path() == onboarding::v1::DECISION_PATH_HQ_OVERRIDE ||
                       decided.path() == onboarding::v1::DECISION_PATH_HQ;
    if (!by_hq || decided.prospect().approval_mode() != onboarding::v1::APPROVAL_MODE_CRM) {
        return std::nullopt;
    }
    return HqDecision{
        decided.prospect().request_number(),
        ApplyHqDecision{approved, by.empty() ? std::string("hq") : by, reason, kernel::to_time_point(at)}};
}

kernel::HandlerVerdict close_after_hq_decision(const kernel::InboundEvent& event, SalesAggregates& aggregates) {
    const std::string& type = event.envelope.event_type();
    std::optional<HqDecision> decision;
    if (type == onboarding::v1::ProspectApproved::descriptor()->full_name()) {
        onboarding::v1::ProspectApproved approved;
        if (!approved.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        decision =
            hq_decision_of(approved, true, approved.approved_by(), approved.override_reason(), approved.approved_at());
    } else {
        onboarding::v1::ProspectRejected rejected;
        if (!rejected.ParseFromString(event.envelope.payload())) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        decision = hq_decision_of(rejected, false, rejected.rejected_by(), rejected.reason(), rejected.rejected_at());
    }
    if (!decision) {
        return kernel::HandlerVerdict::ignored();  // the CRM decided (it closed its records itself), or direct mode
    }
    const std::string& request = decision->request_number;
    if (request.empty()) {
        return kernel::HandlerVerdict::poison(type + " without prospect.request_number");
    }
    const std::string lead_id = lead_id_for(request);
    if (!aggregates.leads.find(lead_id)) {
        // The lead comes from the request's EmailVerified, earlier on the same partition: without
        // it (its creation was dead-lettered) there is nothing in the CRM to close.
        kernel::logger("sales-bridge")->warn("{} for {}: no lead {} to close", type, request, lead_id);
        return kernel::HandlerVerdict::ignored();
    }
    // Each step is idempotent (a closed record changes nothing again), so a redelivery after a crash
    // between them completes what is missing; the last one carries the inbox record.
    const kernel::CommandContext step{.correlation_id = event.envelope.correlation_id(),
                                      .causation_id = event.envelope.event_id(),
                                      .actor = decision->command.decided_by};
    kernel::CommandContext last = step;
    last.inbox_key = event.inbox_key;
    const auto lead_result = aggregates.leads.execute(lead_id, decision->command, step);
    if (auto failed = failure_of(lead_result, "closing " + lead_id + " after HQ's decision")) {
        return *failed;
    }
    const auto lead = aggregates.leads.find(lead_id);
    if (lead && lead->state.status == LeadStatus::qualified) {
        // Qualified by the CRM earlier or by this decision just now: its opportunity follows HQ.
        if (auto failed = complete_qualification(aggregates, lead->state, event.envelope.correlation_id())) {
            throw kernel::TransientError("completing the qualification of " + lead_id + ": " + failed->message);
        }
        const auto result = aggregates.opportunities.execute(lead->state.opportunity_id, decision->command, last);
        if (auto failed = failure_of(result, "closing " + lead->state.opportunity_id + " after HQ's decision")) {
            return *failed;
        }
    }
    kernel::logger("sales-bridge")
        ->info("{} {} by HQ ({}): the CRM records of {} agree", request,
               decision->command.approved ? "approved" : "rejected", decision->command.decided_by, lead_id);
    return kernel::HandlerVerdict::applied();
}

}  // namespace

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

kernel::HandlerVerdict react_to_onboarding_event(const kernel::InboundEvent& event, SalesAggregates& aggregates,
                                                 const LeadAssignment& assignment) {
    const std::string& type = event.envelope.event_type();
    if (type == onboarding::v1::ProspectApproved::descriptor()->full_name() ||
        type == onboarding::v1::ProspectRejected::descriptor()->full_name()) {
        return close_after_hq_decision(event, aggregates);
    }
    if (type != onboarding::v1::EmailVerified::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();  // submitted, reissued, expired: not the CRM's business
    }
    LeadRuntime& leads = aggregates.leads;
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
    kernel::logger("sales-bridge")
        ->info("lead {} created from {}{}", lead_id, request_number,
               owner.user_id.empty() ? "" : " for " + owner.user_id);
    return kernel::HandlerVerdict::applied();
}

}  // namespace gatehouse::sales
