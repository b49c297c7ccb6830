// HQ decided an onboarding request in approval mode "crm" (onboarding's ProspectApproved /
// ProspectRejected with path HQ_OVERRIDE): the command that closes the request's lead and
// opportunity so that the CRM agrees with it. Shared by the Lead and Opportunity deciders. Pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace gatehouse::sales {

// An Open lead / opportunity is closed to agree, attributed to the HQ user and marked
// decided_by_hq: on an approval the lead is qualified (its opportunity, account and contact follow)
// and the opportunity won; on a rejection the lead is disqualified and the opportunity lost, with
// reason "decided by HQ: <reason>". A record closed already changes nothing; one the CRM closed
// the other way (both sides decided before either heard of the other) gets a note on its timeline
// saying so, once. Afterwards every CRM action that needs an Open record is refused, naming HQ's
// decision.
struct ApplyHqDecision final {
    bool approved = false;
    std::string decided_by;  // the HQ user
    std::string reason;      // the override reason
    std::chrono::system_clock::time_point decided_at;
};

// The id of the note an HQ decision leaves on a record the CRM closed the other way: one per
// request, so that a redelivered decision adds no second note.
inline std::string hq_decision_note_id(std::string_view request_number) {
    return "HQ-DECISION-" + std::string(request_number);
}

// What the reason of an HQ closure says.
inline std::string hq_decision_reason(const std::string& reason) {
    return reason.empty() ? std::string("decided by HQ") : "decided by HQ: " + reason;
}

}  // namespace gatehouse::sales
