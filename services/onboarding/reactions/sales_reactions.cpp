#include "reactions/sales_reactions.h"

#include "gatehouse/kernel/logging.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::onboarding {
namespace {

kernel::HandlerVerdict run(ProspectRuntime& prospects, const kernel::InboundEvent& event,
                           const std::string& request_number, Prospect::Command command) {
    if (request_number.empty()) {
        return kernel::HandlerVerdict::poison("prospect_request_number is empty");
    }
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge",
                                         .inbox_key = event.inbox_key};
    auto result = prospects.execute(request_number, command, context);
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        // A CRM request decided already (e.g. HQ overrode before the CRM closed the opportunity):
        // the CRM was late, not wrong; recorded as processed and logged.
        const auto found = prospects.find(request_number);
        if (found && found->state.request.approval_mode() == v1::APPROVAL_MODE_CRM &&
            (found->state.status == ProspectStatus::approved || found->state.status == ProspectStatus::rejected)) {
            kernel::logger("onboarding")
                ->warn("{} for {} ignored: {}", event.envelope.event_type(), request_number, rejection->message);
            return kernel::HandlerVerdict::ignored();
        }
        // Anything else contradicts the request (unknown, direct mode, not verified, approved by
        // the requester, no winner's email): never applied, and dead-lettered with the reason so
        // that an operator sees it — nothing in the CRM can make it valid later.
        return kernel::HandlerVerdict::poison(event.envelope.event_type() + " for " + request_number +
                                              " refused: " + rejection->message);
    }
    return kernel::HandlerVerdict::applied();
}

template <class Message>
bool parse(const kernel::InboundEvent& event, Message& message) {
    return message.ParseFromString(event.envelope.payload());
}

// sales-bridge closed the lead / opportunity because HQ decided here (decided_by_hq): the decision
// is already recorded, and taking it as a new one would answer HQ's decision with itself.
kernel::HandlerVerdict echo_of_hq_decision(const kernel::InboundEvent& event, const std::string& request_number) {
    kernel::logger("onboarding")
        ->debug("{} for {} closes the CRM record after HQ's decision: nothing to decide", event.envelope.event_type(),
                request_number);
    return kernel::HandlerVerdict::ignored();
}

}  // namespace

kernel::HandlerVerdict react_to_sales_event(const kernel::InboundEvent& event, ProspectRuntime& prospects) {
    const std::string& type = event.envelope.event_type();
    const auto now = Clock::now();
    if (type == sales::v1::OpportunityWon::descriptor()->full_name()) {
        sales::v1::OpportunityWon won;
        if (!parse(event, won)) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        if (won.decided_by_hq()) {
            return echo_of_hq_decision(event, won.prospect_request_number());
        }
        // The winner's email is what rules out self-approval: without it the decider refuses.
        return run(prospects, event, won.prospect_request_number(),
                   Approve{won.won_by().empty() ? "sales-bridge" : won.won_by(), won.won_by_email(),
                           v1::DECISION_PATH_CRM, "", won.opportunity_id(), now});
    }
    if (type == sales::v1::OpportunityLost::descriptor()->full_name()) {
        sales::v1::OpportunityLost lost;
        if (!parse(event, lost)) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        if (lost.decided_by_hq()) {
            return echo_of_hq_decision(event, lost.prospect_request_number());
        }
        return run(prospects, event, lost.prospect_request_number(),
                   Reject{lost.lost_by().empty() ? "sales-bridge" : lost.lost_by(),
                          lost.reason().empty() ? "opportunity lost" : lost.reason(), v1::DECISION_PATH_CRM,
                          lost.opportunity_id(), now});
    }
    if (type == sales::v1::LeadDisqualified::descriptor()->full_name()) {
        sales::v1::LeadDisqualified disqualified;
        if (!parse(event, disqualified)) {
            return kernel::HandlerVerdict::poison("undecodable " + type);
        }
        if (disqualified.decided_by_hq()) {
            return echo_of_hq_decision(event, disqualified.prospect_request_number());
        }
        return run(prospects, event, disqualified.prospect_request_number(),
                   Reject{disqualified.disqualified_by().empty() ? "sales-bridge" : disqualified.disqualified_by(),
                          disqualified.reason().empty() ? "lead disqualified" : disqualified.reason(),
                          v1::DECISION_PATH_CRM, disqualified.lead_id(), now});
    }
    // The sales topic carries many events onboarding does not need (lead created, notes, ...).
    return kernel::HandlerVerdict::ignored();
}

}  // namespace gatehouse::onboarding
