#include "api/onboarding_api.h"

#include <google/protobuf/util/time_util.h>

#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::onboarding {
namespace {

using google::protobuf::util::TimeUtil;

// OK after `fill` wrote the use case's value into the response, or the rejection's status.
template <class Value, class Fill>
grpc::Status answer(Outcome<Value>& outcome, Fill fill) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&outcome)) {
        return kernel::to_grpc_status(*rejection);
    }
    fill(std::get<Value>(outcome));
    return grpc::Status::OK;
}

v1::ProspectSummary summary_of(const ProspectState& state) {
    v1::ProspectSummary summary;
    summary.set_request_number(state.request.request_number());
    summary.set_status(to_api_status(state.status));
    summary.set_prospect_type(state.status == ProspectStatus::awaiting_verification ? "" : std::string(kProspectType));
    summary.set_company_name(state.request.company().name());
    summary.set_country_code(state.request.company().address().country_code());
    summary.set_contact_name(state.request.contact().first_name() + " " + state.request.contact().last_name());
    summary.set_contact_email(state.request.contact().email());
    *summary.mutable_submitted_at() = state.request.submitted_at();
    summary.set_possible_duplicate(!state.possible_duplicates.empty());
    return summary;
}

// The API's status filter: UNSPECIFIED is any status; one this version does not know is
// ProspectStatus::none, which the app refuses.
std::optional<ProspectStatus> from_api_status(v1::RequestStatus status) {
    if (status == v1::REQUEST_STATUS_UNSPECIFIED) {
        return std::nullopt;
    }
    for (const auto known : {ProspectStatus::awaiting_verification, ProspectStatus::pending, ProspectStatus::approved,
                             ProspectStatus::rejected, ProspectStatus::closed}) {
        if (to_api_status(known) == status) {
            return known;
        }
    }
    return ProspectStatus::none;
}

std::optional<Clock::time_point> time_of(bool has, const google::protobuf::Timestamp& timestamp) {
    if (!has) {
        return std::nullopt;
    }
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
        std::chrono::nanoseconds(TimeUtil::TimestampToNanoseconds(timestamp))));
}

}  // namespace

v1::RequestStatus to_api_status(ProspectStatus status) {
    switch (status) {
        case ProspectStatus::awaiting_verification:
            return v1::REQUEST_STATUS_AWAITING_VERIFICATION;
        case ProspectStatus::pending:
            return v1::REQUEST_STATUS_PENDING;
        case ProspectStatus::approved:
            return v1::REQUEST_STATUS_APPROVED;
        case ProspectStatus::rejected:
            return v1::REQUEST_STATUS_REJECTED;
        case ProspectStatus::closed:
            return v1::REQUEST_STATUS_CLOSED;
        case ProspectStatus::none:
            break;
    }
    return v1::REQUEST_STATUS_UNSPECIFIED;
}

OnboardingApi::OnboardingApi(OnboardingApp& app, const kernel::BearerAuthenticator& authenticator,
                             kernel::RateLimiter& anonymous_limiter,
                             const kernel::ClientAddressResolver& client_addresses)
    : app_(app),
      authenticator_(authenticator),
      anonymous_limiter_(anonymous_limiter),
      client_addresses_(client_addresses) {}

grpc::Status OnboardingApi::throttle(grpc::ServerContext* context, const std::string& what) {
    if (!anonymous_limiter_.allow(what + "@" + kernel::client_key(*context, client_addresses_))) {
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many requests from this address; try again in a minute"};
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::require_hq(grpc::ServerContext* context, kernel::Principal& principal) const {
    return kernel::authenticate_call(*context, authenticator_, {"hq"}, principal);
}

grpc::Status OnboardingApi::SubmitRequest(grpc::ServerContext* context, const v1::SubmitRequestRequest* request,
                                          v1::SubmitRequestResponse* response) {
    if (auto limited = throttle(context, "submit"); !limited.ok()) {
        return limited;
    }
    auto submitted =
        app_.submit({request->company(), request->contact(), request->comments(), request->idempotency_key()});
    return answer(submitted, [&](const Submitted& value) {
        response->set_request_number(value.request_number);
        response->set_status(to_api_status(value.status));
    });
}

grpc::Status OnboardingApi::VerifyEmail(grpc::ServerContext* context, const v1::VerifyEmailRequest* request,
                                        v1::VerifyEmailResponse* response) {
    if (auto limited = throttle(context, "verify"); !limited.ok()) {
        return limited;
    }
    auto verified = app_.verify_email(request->request_number(), request->token());
    return answer(verified, [&](ProspectStatus status) { response->set_status(to_api_status(status)); });
}

grpc::Status OnboardingApi::ResendVerification(grpc::ServerContext* context,
                                               const v1::ResendVerificationRequest* request,
                                               v1::ResendVerificationResponse* /*response*/) {
    if (auto limited = throttle(context, "resend"); !limited.ok()) {
        return limited;
    }
    if (const auto refused = app_.resend_verification(request->request_number(), request->email())) {
        return kernel::to_grpc_status(*refused);
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::GetRequestStatus(grpc::ServerContext* context, const v1::GetRequestStatusRequest* request,
                                             v1::GetRequestStatusResponse* response) {
    if (auto limited = throttle(context, "status"); !limited.ok()) {
        return limited;
    }
    auto found = app_.request_status(request->request_number(), request->email());
    return answer(found, [&](ProspectStatus status) { response->set_status(to_api_status(status)); });
}

grpc::Status OnboardingApi::ListProspects(grpc::ServerContext* context, const v1::ListProspectsRequest* request,
                                          v1::ListProspectsResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    ProspectQuery query;
    query.status = from_api_status(request->status());
    query.prospect_type = request->prospect_type();
    query.text = request->text();
    query.submitted_from = time_of(request->has_submitted_from(), request->submitted_from());
    query.submitted_to = time_of(request->has_submitted_to(), request->submitted_to());
    query.page_size = request->page_size();
    query.page_token = request->page_token();
    auto page = app_.list_prospects(query);
    return answer(page, [&](const ProspectPage& value) {
        for (const ProspectState& state : value.prospects) {
            *response->add_prospects() = summary_of(state);
        }
        response->set_next_page_token(value.next_page_token);
        response->set_total(static_cast<int>(value.total));
    });
}

grpc::Status OnboardingApi::GetProspect(grpc::ServerContext* context, const v1::GetProspectRequest* request,
                                        v1::GetProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    auto found = app_.prospect(request->request_number());
    return answer(found, [&](const ProspectView& view) {
        const ProspectState& state = view.state;
        *response->mutable_summary() = summary_of(state);
        *response->mutable_request() = state.request;
        // The token's hash never leaves the service: with it, a reader could check guessed tokens offline.
        response->mutable_request()->mutable_verification()->clear_token_hash();
        for (const auto& match : state.possible_duplicates) {
            *response->add_possible_duplicates() = match;
        }
        response->set_decision_path(state.decision_path);
        response->set_decided_by(state.decided_by);
        response->set_decision_reason(state.decision_reason);
        for (const TimelineEntry& line : view.timeline) {
            v1::TimelineEntry& entry = *response->add_timeline();
            *entry.mutable_at() = line.at;
            entry.set_event_type(line.event_type);
            entry.set_actor(line.actor);
            entry.set_detail(line.detail);
        }
    });
}

grpc::Status OnboardingApi::ApproveProspect(grpc::ServerContext* context, const v1::ApproveProspectRequest* request,
                                            v1::ApproveProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    auto approved =
        app_.approve(principal, request->request_number(), request->confirmed(), request->override_reason());
    return answer(approved, [&](ProspectStatus status) { response->set_status(to_api_status(status)); });
}

grpc::Status OnboardingApi::RejectProspect(grpc::ServerContext* context, const v1::RejectProspectRequest* request,
                                           v1::RejectProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    auto rejected = app_.reject(principal, request->request_number(), request->reason());
    return answer(rejected, [&](ProspectStatus status) { response->set_status(to_api_status(status)); });
}

}  // namespace gatehouse::onboarding
