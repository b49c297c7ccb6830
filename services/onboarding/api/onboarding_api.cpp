#include "api/onboarding_api.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "domain/prospect_read_model.h"
#include "domain/validation.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::onboarding {
namespace {

using google::protobuf::util::TimeUtil;

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

bool valid_request_number(std::string_view number) {
    return !number.empty() && number.size() <= 32 && std::all_of(number.begin(), number.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '/' || c == '_';
    });
}

bool valid_idempotency_key(std::string_view key) {
    return key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
           });
}

std::string contact_name(const common::v1::ContactPerson& contact) {
    return contact.first_name() + " " + contact.last_name();
}

v1::ProspectSummary summary_of(const ProspectState& state) {
    v1::ProspectSummary summary;
    summary.set_request_number(state.request.request_number());
    summary.set_status(to_api_status(state.status));
    summary.set_prospect_type(state.status == ProspectStatus::awaiting_verification ? "" : std::string(kProspectType));
    summary.set_company_name(state.request.company().name());
    summary.set_country_code(state.request.company().address().country_code());
    summary.set_contact_name(contact_name(state.request.contact()));
    summary.set_contact_email(state.request.contact().email());
    *summary.mutable_submitted_at() = state.request.submitted_at();
    summary.set_possible_duplicate(!state.possible_duplicates.empty());
    return summary;
}

// A short description of an event for the timeline ("why").
std::string describe(const v1::ProspectEvent& event) {
    switch (event.event_case()) {
        case v1::ProspectEvent::kRequestSubmitted:
            return "request submitted; confirmation email requested";
        case v1::ProspectEvent::kEmailVerified:
            return "email confirmed; now a B2B prospect, Pending";
        case v1::ProspectEvent::kVerificationReissued:
            return "a new verification link was sent";
        case v1::ProspectEvent::kVerificationExpired:
            return "closed: the email was not confirmed in time";
        case v1::ProspectEvent::kFlaggedAsDuplicate: {
            std::string text = "possible duplicate of";
            for (const auto& match : event.flagged_as_duplicate().matches()) {
                text += " " + match.request_number() + " (" + match.rule() + ")";
            }
            return text;
        }
        case v1::ProspectEvent::kApproved:
            return "approved" + (event.approved().override_reason().empty()
                                     ? std::string()
                                     : ": " + event.approved().override_reason());
        case v1::ProspectEvent::kRejected:
            return std::string(event.rejected().path() == v1::DECISION_PATH_HQ_OVERRIDE ? "rejected by HQ (override): "
                                                                                        : "rejected: ") +
                   event.rejected().reason();
        case v1::ProspectEvent::EVENT_NOT_SET:
            break;
    }
    return "";
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

std::size_t expire_overdue_requests(ProspectRuntime& prospects, Clock::time_point now) {
    // Awaiting verification with a link that expired before now: a range of the expiry index.
    std::vector<std::string> overdue;
    const auto until =
        kernel::IndexKey().i64(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    prospects.visit_index(
        "awaiting_expiry", {}, {},
        [&](const kernel::IndexHit& hit) {
            overdue.push_back(hit.aggregate_id);
            return true;
        },
        &until);
    std::size_t closed = 0;
    for (const std::string& id : overdue) {
        auto result = prospects.execute(id, ExpireVerification{now}, {.actor = "system"});
        if (const auto* accepted = std::get_if<kernel::Accepted<v1::ProspectEvent>>(&result);
            accepted && !accepted->events.empty()) {
            ++closed;
        }
    }
    return closed;
}

OnboardingApi::OnboardingApi(ProspectRuntime& prospects, kernel::EventStore& store,
                             kernel::NumberSequence& request_numbers, const kernel::BearerAuthenticator& authenticator,
                             kernel::RateLimiter& anonymous_limiter,
                             const kernel::ClientAddressResolver& client_addresses, OnboardingSettings settings)
    : prospects_(prospects),
      store_(store),
      request_numbers_(request_numbers),
      authenticator_(authenticator),
      anonymous_limiter_(anonymous_limiter),
      client_addresses_(client_addresses),
      settings_(std::move(settings)),
      token_sealer_(settings_.notifier_public_key, "notifier.public_key"),
      submit_ceiling_(settings_.submits_per_second, settings_.submits_burst) {}

grpc::Status OnboardingApi::throttle(grpc::ServerContext* context, const std::string& what) {
    if (!anonymous_limiter_.allow(what + "@" + kernel::client_key(*context, client_addresses_))) {
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many requests from this address; try again in a minute"};
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::limit_unverified_mail(const std::string& email, Clock::time_point now) const {
    // The same answer for the mailbox and the domain cap, and neither counts confirmed requests:
    // the answer depends only on what anonymous callers submitted, never on whether the address
    // belongs to a prospect or partner (as SubmitRequest's duplicate handling).
    const grpc::Status exhausted{grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many unconfirmed requests for this email address or its domain; confirm the "
                                 "email of an earlier request or try again later"};
    const auto at_cap = [&](std::string_view index, const std::string& key, unsigned cap, std::chrono::seconds window) {
        if (cap == 0) {
            return false;
        }
        const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>((now - window).time_since_epoch());
        unsigned seen = 0;
        prospects_.visit_range(index, kernel::IndexKey().text(key).i64(since.count()),
                               kernel::IndexKey().text(key).prefix_end(), {},
                               [&](const kernel::IndexHit&) { return ++seen < cap; });
        return seen >= cap;
    };
    if (at_cap("unverified_by_recipient", mailbox_key(email), settings_.max_unverified_per_recipient,
               settings_.unverified_recipient_window) ||
        at_cap("unverified_by_domain", email_domain(email), settings_.max_unverified_per_domain,
               settings_.unverified_domain_window)) {
        return exhausted;
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::require_hq(grpc::ServerContext* context, kernel::Principal& principal) const {
    return kernel::authenticate_call(*context, authenticator_, {"hq"}, principal);
}

v1::VerificationLink OnboardingApi::new_verification_link(Clock::time_point now) const {
    auto issued = token_sealer_.issue();
    v1::VerificationLink link;
    link.set_token_hash(std::move(issued.hash));
    link.set_token_sealed_for_notifier(std::move(issued.sealed_for_notifier));
    *link.mutable_issued_at() = kernel::to_timestamp(now);
    *link.mutable_expires_at() = kernel::to_timestamp(now + settings_.verification_ttl);
    return link;
}

grpc::Status OnboardingApi::SubmitRequest(grpc::ServerContext* context, const v1::SubmitRequestRequest* request,
                                          v1::SubmitRequestResponse* response) {
    if (auto limited = throttle(context, "submit"); !limited.ok()) {
        return limited;
    }
    if (settings_.submits_per_second > 0 && !submit_ceiling_.allow("submit")) {
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many requests are being submitted; try again in a minute"};
    }
    if (!valid_idempotency_key(request->idempotency_key())) {
        return invalid("idempotency_key: at most 128 letters, digits, - and _");
    }
    if (!request->idempotency_key().empty()) {
        if (auto first = prospects_.previous_answer("submit:" + request->idempotency_key())) {
            response->set_request_number(first->aggregate_id);
            response->set_status(to_api_status(prospects_.find(first->aggregate_id)->state.status));
            return grpc::Status::OK;
        }
    }
    v1::CompanyDetails company = request->company();
    company.set_tax_id(normalize_tax_id(company.tax_id()));
    common::v1::ContactPerson contact = request->contact();
    contact.set_email(normalize_email(contact.email()));
    if (auto problem = check_request(company, contact, request->comments())) {
        return invalid(*problem);
    }
    const std::string domain = email_domain(contact.email());
    const std::scoped_lock stripe(domain_stripes_[std::hash<std::string>{}(domain) % domain_stripes_.size()]);
    if (auto limited = limit_unverified_mail(contact.email(), Clock::now()); !limited.ok()) {
        return limited;
    }

    // Possible duplicates among pending prospects and existing partners; a rejected earlier
    // request of the same organisation becomes the new request's predecessor. Three index lookups:
    // the cost does not grow with the number of prospects.
    struct Candidate {
        ProspectMatch match;
        bool same_email = false;
        bool same_tax_id = false;
        bool same_name = false;
    };
    std::map<std::string, Candidate> candidates;
    const auto collect = [&](std::string_view index, const kernel::IndexKey& key, bool Candidate::*rule) {
        for (const kernel::IndexHit& hit : prospects_.lookup(index, key)) {
            if (const auto match = decode_match(hit.value)) {
                Candidate& candidate = candidates[hit.aggregate_id];
                candidate.match = *match;
                candidate.*rule = true;
            }
        }
    };
    collect("by_email", kernel::IndexKey().text(platform::to_lower(contact.email())), &Candidate::same_email);
    if (!company.tax_id().empty()) {
        collect("by_tax_id", kernel::IndexKey().text(company.tax_id()), &Candidate::same_tax_id);
    }
    collect("by_name_domain", kernel::IndexKey().text(name_domain_key(company.name(), contact.email())),
            &Candidate::same_name);
    std::vector<v1::DuplicateMatch> duplicates;  // in request number order (the map's)
    std::string previous_request;
    std::int64_t previous_at = std::numeric_limits<std::int64_t>::min();
    for (const auto& [id, candidate] : candidates) {
        const ProspectStatus status = candidate.match.status;
        if (status == ProspectStatus::pending || status == ProspectStatus::approved) {
            v1::DuplicateMatch& match = duplicates.emplace_back();
            match.set_request_number(id);
            match.set_rule(candidate.same_email    ? "email"
                           : candidate.same_tax_id ? "tax_id"
                                                   : "company_name_and_email_domain");
            match.set_existing_partner(status == ProspectStatus::approved);
        } else if (status == ProspectStatus::rejected && candidate.match.decided_at_nanos >= previous_at) {
            previous_request = id;
            previous_at = candidate.match.decided_at_nanos;
        }
    }

    const auto now = Clock::now();
    onboarding::SubmitRequest command;
    v1::RequestSubmitted& submitted = command.request;
    try {
        submitted.set_request_number(request_numbers_.next());
    } catch (const kernel::StorageUnavailable& error) {
        // Taking a number writes it (disk full, an I/O error): nothing was stored, a retry may work.
        return {grpc::StatusCode::UNAVAILABLE,
                std::string("the service cannot store anything right now; try again later (") + error.what() + ")"};
    }
    *submitted.mutable_company() = company;
    *submitted.mutable_contact() = contact;
    submitted.set_comments(request->comments());
    submitted.set_approval_mode(settings_.approval_mode);
    submitted.set_previous_request_number(previous_request);
    *submitted.mutable_verification() = new_verification_link(now);
    *submitted.mutable_submitted_at() = kernel::to_timestamp(now);
    command.possible_duplicates = std::move(duplicates);
    const std::string number = submitted.request_number();
    auto result = prospects_.execute(
        number, command,
        {.idempotency_key = request->idempotency_key().empty() ? "" : "submit:" + request->idempotency_key(),
         .correlation_id = kernel::new_uuid_v7(),
         .actor = "anonymous"});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    const auto& accepted = std::get<kernel::Accepted<v1::ProspectEvent>>(result);
    response->set_request_number(accepted.aggregate_id);
    response->set_status(v1::REQUEST_STATUS_AWAITING_VERIFICATION);
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::VerifyEmail(grpc::ServerContext* context, const v1::VerifyEmailRequest* request,
                                        v1::VerifyEmailResponse* response) {
    if (auto limited = throttle(context, "verify"); !limited.ok()) {
        return limited;
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    if (request->token().empty() || request->token().size() > 128) {
        return invalid("token: is required (the code from the confirmation link)");
    }
    auto result = prospects_.execute(request->request_number(),
                                     onboarding::VerifyEmail{kernel::blake2b_256(request->token()), Clock::now()},
                                     {.actor = "anonymous"});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        // An unknown number answers like a wrong token: the caller learns nothing about which.
        if (rejection->code == kernel::RejectionCode::not_found) {
            return invalid("token: the verification link is invalid or has expired");
        }
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(to_api_status(prospects_.find(request->request_number())->state.status));
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::ResendVerification(grpc::ServerContext* context,
                                               const v1::ResendVerificationRequest* request,
                                               v1::ResendVerificationResponse* /*response*/) {
    if (auto limited = throttle(context, "resend"); !limited.ok()) {
        return limited;
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    if (auto problem = platform::check_email("email", normalize_email(request->email()))) {
        return invalid(*problem);
    }
    // Whatever happens below, the caller gets the same answer (enumeration safety).
    const auto found = prospects_.find(request->request_number());
    if (found && platform::to_lower(found->state.request.contact().email()) ==
                     platform::to_lower(normalize_email(request->email()))) {
        const auto now = Clock::now();
        auto result = prospects_.execute(
            request->request_number(),
            ReissueVerification{new_verification_link(now), now, settings_.resend_interval, settings_.max_resends},
            {.actor = "anonymous"});
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            kernel::logger("onboarding")
                ->info("verification resend for {} not done: {}", request->request_number(), rejection->message);
        }
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::GetRequestStatus(grpc::ServerContext* context, const v1::GetRequestStatusRequest* request,
                                             v1::GetRequestStatusResponse* response) {
    if (auto limited = throttle(context, "status"); !limited.ok()) {
        return limited;
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    const auto found = prospects_.find(request->request_number());
    if (!found || platform::to_lower(found->state.request.contact().email()) !=
                      platform::to_lower(normalize_email(request->email()))) {
        return {grpc::StatusCode::NOT_FOUND, "no request with this number and email"};
    }
    response->set_status(to_api_status(found->state.status));
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::ListProspects(grpc::ServerContext* context, const v1::ListProspectsRequest* request,
                                          v1::ListProspectsResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    const int page_size = request->page_size() == 0 ? 50 : request->page_size();
    if (page_size < 1 || page_size > 200) {
        return invalid("page_size: must be between 1 and 200");
    }
    if (request->text().size() > 200) {
        return invalid("text: must have at most 200 characters");
    }
    if (!request->prospect_type().empty() && request->prospect_type() != kProspectType) {
        return invalid("prospect_type: the only type is \"B2B prospect\"");
    }
    const auto after = kernel::index_layout::token_to_cursor(request->page_token());
    if (!after) {
        return invalid("page_token: is not a token from a previous page");
    }
    // Newest first, from the listing index (all statuses) or the status's part of listing_status;
    // the submitted_at range bounds the scan (the keys are newest-first times).
    const bool by_status = request->status() != v1::REQUEST_STATUS_UNSPECIFIED;
    ProspectStatus wanted = ProspectStatus::none;
    if (by_status) {
        for (const auto status : {ProspectStatus::awaiting_verification, ProspectStatus::pending,
                                  ProspectStatus::approved, ProspectStatus::rejected, ProspectStatus::closed}) {
            if (to_api_status(status) == request->status()) {
                wanted = status;
            }
        }
        if (wanted == ProspectStatus::none) {
            return invalid("status: is not a request status");
        }
    }
    const std::string_view index = by_status ? "listing_status" : "listing";
    const auto key_at = [&](std::int64_t nanos) {
        return (by_status ? listing_status_prefix(wanted) : kernel::IndexKey()).i64_descending(nanos);
    };
    const kernel::IndexKey from = request->has_submitted_to()
                                      ? key_at(TimeUtil::TimestampToNanoseconds(request->submitted_to()) - 1)
                                      : (by_status ? listing_status_prefix(wanted) : kernel::IndexKey());
    const kernel::IndexKey until = request->has_submitted_from()
                                       ? key_at(TimeUtil::TimestampToNanoseconds(request->submitted_from()) - 1)
                                       : (by_status ? listing_status_prefix(wanted).prefix_end() : kernel::IndexKey());
    const std::string text = platform::to_lower(request->text());
    const bool verified_only = !request->prospect_type().empty();
    const auto matches = [&](const kernel::IndexHit& hit) {
        // The value is "<status>\n<lower-cased name>\n<lower-cased email>".
        const auto first_break = hit.value.find('\n');
        if (verified_only && hit.value.compare(0, first_break, to_string(ProspectStatus::awaiting_verification)) == 0) {
            return false;
        }
        return text.empty() || hit.value.find(text, first_break + 1) != std::string::npos;
    };
    std::vector<std::string> page;
    std::string last_cursor;
    prospects_.visit_range(index, from, until, *after, [&](const kernel::IndexHit& hit) {
        if (!matches(hit)) {
            return true;
        }
        if (std::ssize(page) == page_size) {
            response->set_next_page_token(kernel::index_layout::cursor_to_token(last_cursor));
            return false;
        }
        page.push_back(hit.aggregate_id);
        last_cursor = hit.cursor;
        return true;
    });
    // The total: from the status counters, unless a text or time filter needs the range counted
    // (the one cost here that grows with what the filter selects).
    if (!text.empty() || request->has_submitted_from() || request->has_submitted_to()) {
        int total = 0;
        prospects_.visit_range(index, from, until, {}, [&](const kernel::IndexHit& hit) {
            total += matches(hit) ? 1 : 0;
            return true;
        });
        response->set_total(total);
    } else {
        std::int64_t total = 0;
        for (const auto status : {ProspectStatus::awaiting_verification, ProspectStatus::pending,
                                  ProspectStatus::approved, ProspectStatus::rejected, ProspectStatus::closed}) {
            if ((by_status && status != wanted) || (verified_only && status == ProspectStatus::awaiting_verification)) {
                continue;
            }
            total += prospects_.count(status_counter(status));
        }
        response->set_total(static_cast<int>(total));
    }
    for (const std::string& id : page) {
        if (const auto found = prospects_.find(id)) {
            *response->add_prospects() = summary_of(found->state);
        }
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::GetProspect(grpc::ServerContext* context, const v1::GetProspectRequest* request,
                                        v1::GetProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    const auto found = prospects_.find(request->request_number());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "request " + request->request_number() + " does not exist"};
    }
    const ProspectState& state = found->state;
    *response->mutable_summary() = summary_of(state);
    *response->mutable_request() = state.request;
    response->mutable_request()->mutable_verification()->clear_token_hash();
    for (const auto& match : state.possible_duplicates) {
        *response->add_possible_duplicates() = match;
    }
    response->set_decision_path(state.decision_path);
    response->set_decided_by(state.decided_by);
    response->set_decision_reason(state.decision_reason);
    for (const auto& recorded :
         store_.read_stream(kernel::StreamId{std::string(Prospect::kAggregateType), request->request_number()})) {
        v1::ProspectEvent event;
        if (!kernel::decode_oneof_event(recorded.envelope.event_type(), recorded.envelope.payload(), event)) {
            continue;
        }
        v1::TimelineEntry& entry = *response->add_timeline();
        *entry.mutable_at() = recorded.envelope.occurred_at();
        entry.set_event_type(recorded.envelope.event_type());
        entry.set_actor(recorded.envelope.actor());
        entry.set_detail(describe(event));
    }
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::ApproveProspect(grpc::ServerContext* context, const v1::ApproveProspectRequest* request,
                                            v1::ApproveProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    // Self-approval is ruled out by comparing emails: a staff credential without one may not approve.
    if (mailbox_key(principal.email).empty()) {
        return {grpc::StatusCode::PERMISSION_DENIED,
                "your credential (user " + principal.user_id +
                    ") has no email: approving needs one, to rule out approving your own request; the credential "
                    "must be configured as token=role:user_id:email in auth.tokens"};
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    if (!request->confirmed()) {
        return invalid("confirmed: must be true (the client's confirmation step)");
    }
    if (request->override_reason().size() > 1000) {
        return invalid("override_reason: must have at most 1000 characters");
    }
    const auto found = prospects_.find(request->request_number());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "request " + request->request_number() + " does not exist"};
    }
    const bool crm_mode = found->state.request.approval_mode() == v1::APPROVAL_MODE_CRM;
    const auto path =
        crm_mode && !request->override_reason().empty() ? v1::DECISION_PATH_HQ_OVERRIDE : v1::DECISION_PATH_HQ;
    auto result = prospects_.execute(
        request->request_number(),
        Approve{principal.user_id, principal.email, path, request->override_reason(), "", Clock::now()},
        {.correlation_id = kernel::new_uuid_v7(), .actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(to_api_status(prospects_.find(request->request_number())->state.status));
    return grpc::Status::OK;
}

grpc::Status OnboardingApi::RejectProspect(grpc::ServerContext* context, const v1::RejectProspectRequest* request,
                                           v1::RejectProspectResponse* response) {
    kernel::Principal principal;
    if (auto denied = require_hq(context, principal); !denied.ok()) {
        return denied;
    }
    if (!valid_request_number(request->request_number())) {
        return invalid("request_number: is required (letters, digits, - / _; at most 32)");
    }
    if (auto problem = check_form_text("reason", request->reason(), 1, 1000)) {
        return invalid(*problem);
    }
    auto result = prospects_.execute(
        request->request_number(), Reject{principal.user_id, request->reason(), v1::DECISION_PATH_HQ, "", Clock::now()},
        {.correlation_id = kernel::new_uuid_v7(), .actor = principal.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(to_api_status(prospects_.find(request->request_number())->state.status));
    return grpc::Status::OK;
}

}  // namespace gatehouse::onboarding
