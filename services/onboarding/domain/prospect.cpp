#include "prospect.h"

#include "gatehouse/kernel/time.h"
#include "validation.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>

namespace gatehouse::onboarding {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;

Decision<v1::ProspectEvent> events(std::initializer_list<v1::ProspectEvent> list) {
    return std::vector<v1::ProspectEvent>(list);
}
Decision<v1::ProspectEvent> nothing() { return std::vector<v1::ProspectEvent>{}; }

Rejection wrong_state(const ProspectState& state, std::string_view action, std::string_view allowed) {
    return Rejection{RejectionCode::failed_precondition, "request " + state.request.request_number() + " is " +
                                                             std::string(to_string(state.status)) + "; only " +
                                                             std::string(allowed) + " can be " + std::string(action)};
}

// The same answer for a wrong and an expired link: the caller learns nothing about which.
Rejection invalid_link() {
    return Rejection{RejectionCode::invalid_argument, "token: the verification link is invalid or has expired"};
}

Decision<v1::ProspectEvent> decide_submit(const SubmitRequest& command, const ProspectState& state) {
    if (state.status != ProspectStatus::none) {
        return Rejection{RejectionCode::already_exists, "request " + state.request.request_number() + " exists"};
    }
    v1::ProspectEvent submitted;
    *submitted.mutable_request_submitted() = command.request;
    if (command.possible_duplicates.empty()) {
        return events({submitted});
    }
    v1::ProspectEvent flagged;
    for (const auto& match : command.possible_duplicates) {
        *flagged.mutable_flagged_as_duplicate()->add_matches() = match;
    }
    return events({submitted, flagged});
}

// What consumers of the decision need to know about the request, so they keep no copy of it.
v1::ProspectSnapshot snapshot_of(const ProspectState& state) {
    v1::ProspectSnapshot snapshot;
    snapshot.set_request_number(state.request.request_number());
    *snapshot.mutable_company() = state.request.company();
    *snapshot.mutable_contact() = state.request.contact();
    snapshot.set_approval_mode(state.request.approval_mode());
    snapshot.set_comments(state.request.comments());
    return snapshot;
}

Decision<v1::ProspectEvent> decide_verify(const VerifyEmail& command, const ProspectState& state) {
    if (state.status == ProspectStatus::none) {
        return Rejection{RejectionCode::not_found, "request_number: no such request"};
    }
    if (command.token_hash != state.token_hash || state.token_hash.empty()) {
        return invalid_link();
    }
    if (state.status != ProspectStatus::awaiting_verification) {
        if (state.status == ProspectStatus::closed) {
            return invalid_link();
        }
        return nothing();  // already verified: clicking the link twice is fine
    }
    if (command.now > state.verification_expires_at) {
        return invalid_link();
    }
    v1::ProspectEvent verified;
    *verified.mutable_email_verified()->mutable_verified_at() = kernel::to_timestamp(command.now);
    verified.mutable_email_verified()->set_prospect_type(std::string(kProspectType));
    *verified.mutable_email_verified()->mutable_prospect() = snapshot_of(state);
    return events({verified});
}

Decision<v1::ProspectEvent> decide_reissue(const ReissueVerification& command, const ProspectState& state) {
    if (state.status == ProspectStatus::none) {
        return Rejection{RejectionCode::not_found, "request_number: no such request"};
    }
    if (state.status != ProspectStatus::awaiting_verification) {
        return wrong_state(state, "sent a new verification link", "a request awaiting verification");
    }
    if (state.reissue_count >= command.max_reissues) {
        return Rejection{RejectionCode::resource_exhausted,
                         "at most " + std::to_string(command.max_reissues) + " new links can be sent for one request"};
    }
    if (command.now - state.last_link_sent_at < command.min_interval) {
        return Rejection{RejectionCode::resource_exhausted,
                         "a new link can be sent once every " + std::to_string(command.min_interval.count()) + " s"};
    }
    v1::ProspectEvent reissued;
    *reissued.mutable_verification_reissued()->mutable_verification() = command.verification;
    reissued.mutable_verification_reissued()->set_reissue_count(state.reissue_count + 1);
    *reissued.mutable_verification_reissued()->mutable_prospect() = snapshot_of(state);
    return events({reissued});
}

Decision<v1::ProspectEvent> decide_expire(const ExpireVerification& command, const ProspectState& state) {
    if (state.status != ProspectStatus::awaiting_verification || command.now <= state.verification_expires_at) {
        return nothing();  // the sweeper may race a verification: nothing to do then
    }
    v1::ProspectEvent expired;
    *expired.mutable_verification_expired()->mutable_expired_at() = kernel::to_timestamp(command.now);
    return events({expired});
}

// A CRM decision (opportunity won / lost, lead disqualified) is only valid for a request the CRM
// was asked to decide: checked before anything else, so that a stray or forged sales event never
// decides a direct-mode request, whatever state it is in.
std::optional<Rejection> wrong_path(v1::DecisionPath path, const ProspectState& state) {
    if (path == v1::DECISION_PATH_CRM && state.request.approval_mode() != v1::APPROVAL_MODE_CRM) {
        return Rejection{RejectionCode::failed_precondition,
                         "request " + state.request.request_number() +
                             " is in approval mode direct: only HQ decides it, not the CRM"};
    }
    return std::nullopt;
}

Decision<v1::ProspectEvent> decide_approve(const Approve& command, const ProspectState& state) {
    if (state.status == ProspectStatus::none) {
        return Rejection{RejectionCode::not_found, "request_number: no such request"};
    }
    if (auto refused = wrong_path(command.path, state)) {
        return *refused;
    }
    if (state.status == ProspectStatus::approved) {
        return nothing();  // idempotent
    }
    if (state.status != ProspectStatus::pending) {
        return wrong_state(state, "approved", "a Pending prospect");
    }
    const bool crm_mode = state.request.approval_mode() == v1::APPROVAL_MODE_CRM;
    if (command.path == v1::DECISION_PATH_HQ && crm_mode) {
        return Rejection{RejectionCode::failed_precondition,
                         "approval mode is crm: the opportunity decides; an HQ override needs override_reason"};
    }
    if (command.path == v1::DECISION_PATH_HQ_OVERRIDE && command.override_reason.empty()) {
        return Rejection{RejectionCode::invalid_argument, "override_reason: is required for an HQ override"};
    }
    // Without the approver's email self-approval cannot be ruled out, so there is no approval.
    if (mailbox_key(command.approver_email).empty()) {
        return Rejection{RejectionCode::permission_denied,
                         "the approver " + command.approver +
                             " has no email: an approval needs one, to rule out approving one's own request"};
    }
    if (mailbox_key(command.approver_email) == mailbox_key(state.request.contact().email())) {
        return Rejection{RejectionCode::permission_denied, "the requester may not approve their own request"};
    }
    v1::ProspectEvent approved;
    auto& body = *approved.mutable_approved();
    body.set_approved_by(command.approver);
    body.set_path(command.path);
    body.set_override_reason(command.override_reason);
    body.set_crm_reference(command.crm_reference);
    *body.mutable_approved_at() = kernel::to_timestamp(command.now);
    *body.mutable_prospect() = snapshot_of(state);
    return events({approved});
}

Decision<v1::ProspectEvent> decide_reject(const Reject& command, const ProspectState& state) {
    if (state.status == ProspectStatus::none) {
        return Rejection{RejectionCode::not_found, "request_number: no such request"};
    }
    if (auto refused = wrong_path(command.path, state)) {
        return *refused;
    }
    if (state.status == ProspectStatus::rejected) {
        return nothing();  // idempotent
    }
    if (state.status != ProspectStatus::pending) {
        return wrong_state(state, "rejected", "a Pending prospect");
    }
    if (command.reason.empty()) {
        return Rejection{RejectionCode::invalid_argument, "reason: is required"};
    }
    if (command.reason.size() > 1000) {
        return Rejection{RejectionCode::invalid_argument, "reason: must have at most 1000 characters"};
    }
    v1::ProspectEvent rejected;
    auto& body = *rejected.mutable_rejected();
    body.set_rejected_by(command.rejecter);
    body.set_reason(command.reason);
    body.set_path(command.path);
    // In approval mode crm the CRM decides: an HQ rejection decides instead of it, an override like
    // an HQ approval there (sales-bridge then closes the lead / opportunity to agree).
    if (command.path != v1::DECISION_PATH_CRM && state.request.approval_mode() == v1::APPROVAL_MODE_CRM) {
        body.set_path(v1::DECISION_PATH_HQ_OVERRIDE);
        body.set_override_reason(command.reason);
    }
    body.set_crm_reference(command.crm_reference);
    *body.mutable_rejected_at() = kernel::to_timestamp(command.now);
    *body.mutable_prospect() = snapshot_of(state);
    return events({rejected});
}

}  // namespace

std::string_view to_string(ProspectStatus status) {
    switch (status) {
        case ProspectStatus::none:
            return "unknown";
        case ProspectStatus::awaiting_verification:
            return "AwaitingVerification";
        case ProspectStatus::pending:
            return "Pending";
        case ProspectStatus::approved:
            return "Approved";
        case ProspectStatus::rejected:
            return "Rejected";
        case ProspectStatus::closed:
            return "Closed";
    }
    return "unknown";
}

kernel::Decision<v1::ProspectEvent> Prospect::decide(const Command& command, const State& state) {
    return std::visit(
        [&](const auto& c) -> kernel::Decision<v1::ProspectEvent> {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, SubmitRequest>) {
                return decide_submit(c, state);
            } else if constexpr (std::is_same_v<C, VerifyEmail>) {
                return decide_verify(c, state);
            } else if constexpr (std::is_same_v<C, ReissueVerification>) {
                return decide_reissue(c, state);
            } else if constexpr (std::is_same_v<C, ExpireVerification>) {
                return decide_expire(c, state);
            } else if constexpr (std::is_same_v<C, Approve>) {
                return decide_approve(c, state);
            } else {
                return decide_reject(c, state);
            }
        },
        command);
}

ProspectState Prospect::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kRequestSubmitted: {
            state.status = ProspectStatus::awaiting_verification;
            state.request = event.request_submitted();
            const auto& link = state.request.verification();
            state.token_hash = link.token_hash();
            state.verification_expires_at = kernel::to_time_point(link.expires_at());
            state.last_link_sent_at = kernel::to_time_point(link.issued_at());
            // The sealed token is for the notifier only; the state keeps no copy of it.
            state.request.mutable_verification()->clear_token_sealed_for_notifier();
            break;
        }
        case Event::kEmailVerified:
            state.status = ProspectStatus::pending;
            state.verified_at = kernel::to_time_point(event.email_verified().verified_at());
            break;
        case Event::kVerificationReissued: {
            const auto& link = event.verification_reissued().verification();
            state.token_hash = link.token_hash();
            state.last_link_sent_at = kernel::to_time_point(link.issued_at());
            state.verification_expires_at = kernel::to_time_point(link.expires_at());
            state.reissue_count = event.verification_reissued().reissue_count();
            break;
        }
        case Event::kVerificationExpired:
            state.status = ProspectStatus::closed;
            state.decision_path = v1::DECISION_PATH_VERIFICATION_EXPIRED;
            state.decided_at = kernel::to_time_point(event.verification_expired().expired_at());
            break;
        case Event::kFlaggedAsDuplicate:
            state.possible_duplicates.assign(event.flagged_as_duplicate().matches().begin(),
                                             event.flagged_as_duplicate().matches().end());
            break;
        case Event::kApproved:
            state.status = ProspectStatus::approved;
            state.decided_by = event.approved().approved_by();
            state.decision_reason = event.approved().override_reason();
            state.decision_path = event.approved().path();
            state.decided_at = kernel::to_time_point(event.approved().approved_at());
            break;
        case Event::kRejected:
            state.status = ProspectStatus::rejected;
            state.decided_by = event.rejected().rejected_by();
            state.decision_reason = event.rejected().reason();
            state.decision_path = event.rejected().path();
            state.decided_at = kernel::to_time_point(event.rejected().rejected_at());
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::onboarding
