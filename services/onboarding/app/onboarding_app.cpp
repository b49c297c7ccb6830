#include "app/onboarding_app.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "domain/prospect_read_model.h"
#include "domain/validation.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/paging.h"

namespace gatehouse::onboarding {
namespace {

kernel::Rejection invalid(std::string message) { return {kernel::RejectionCode::invalid_argument, std::move(message)}; }

kernel::Rejection invalid_request_number() {
    return invalid("request_number: is required (letters, digits, - / _; at most 32)");
}

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

std::int64_t nanos_of(Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
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

// Every status a prospect can be listed with, in the order of the status counters.
constexpr ProspectStatus kListedStatuses[] = {ProspectStatus::awaiting_verification, ProspectStatus::pending,
                                              ProspectStatus::approved, ProspectStatus::rejected,
                                              ProspectStatus::closed};

}  // namespace

OnboardingApp::OnboardingApp(ProspectRuntime& prospects, kernel::EventStore& store,
                             kernel::NumberSequence& request_numbers, OnboardingSettings settings)
    : prospects_(prospects),
      store_(store),
      request_numbers_(request_numbers),
      settings_(std::move(settings)),
      token_sealer_(settings_.notifier_public_key, "notifier.public_key"),
      submit_ceiling_(settings_.submits_per_second, settings_.submits_burst) {}

v1::VerificationLink OnboardingApp::new_verification_link(Clock::time_point now) const {
    auto issued = token_sealer_.issue();
    v1::VerificationLink link;
    link.set_token_hash(std::move(issued.hash));
    link.set_token_sealed_for_notifier(std::move(issued.sealed_for_notifier));
    *link.mutable_issued_at() = kernel::to_timestamp(now);
    *link.mutable_expires_at() = kernel::to_timestamp(now + settings_.verification_ttl);
    return link;
}

ProspectStatus OnboardingApp::status_of(const std::string& request_number) {
    const auto found = prospects_.find(request_number);
    return found ? found->state.status : ProspectStatus::none;
}

std::optional<kernel::Rejection> OnboardingApp::limit_unverified_mail(const std::string& email,
                                                                      Clock::time_point now) const {
    // The same answer for the mailbox and the domain cap, and neither counts confirmed requests:
    // the answer depends only on what anonymous callers submitted, never on whether the address
    // belongs to a prospect or partner (as submit()'s duplicate handling).
    const auto at_cap = [&](std::string_view index, const std::string& key, unsigned cap, std::chrono::seconds window) {
        if (cap == 0) {
            return false;
        }
        unsigned seen = 0;
        prospects_.visit_range(index, kernel::IndexKey().text(key).i64(nanos_of(now - window)),
                               kernel::IndexKey().text(key).prefix_end(), {},
                               [&](const kernel::IndexHit&) { return ++seen < cap; });
        return seen >= cap;
    };
    if (at_cap("unverified_by_recipient", mailbox_key(email), settings_.max_unverified_per_recipient,
               settings_.unverified_recipient_window) ||
        at_cap("unverified_by_domain", email_domain(email), settings_.max_unverified_per_domain,
               settings_.unverified_domain_window)) {
        return kernel::Rejection{kernel::RejectionCode::resource_exhausted,
                                 "too many unconfirmed requests for this email address or its domain; confirm the "
                                 "email of an earlier request or try again later"};
    }
    return std::nullopt;
}

std::pair<std::vector<v1::DuplicateMatch>, std::string> OnboardingApp::duplicates_of(
    const v1::CompanyDetails& company, const common::v1::ContactPerson& contact) {
    // Three index lookups: the cost does not grow with the number of prospects.
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
    return {std::move(duplicates), std::move(previous_request)};
}

Outcome<Submitted> OnboardingApp::submit(const Submission& submission) {
    if (settings_.submits_per_second > 0 && !submit_ceiling_.allow("submit")) {
        return kernel::Rejection{kernel::RejectionCode::resource_exhausted,
                                 "too many requests are being submitted; try again in a minute"};
    }
    if (!valid_idempotency_key(submission.idempotency_key)) {
        return invalid("idempotency_key: at most 128 letters, digits, - and _");
    }
    const std::string idempotency_key =
        submission.idempotency_key.empty() ? "" : "submit:" + submission.idempotency_key;
    if (!idempotency_key.empty()) {
        if (auto first = prospects_.previous_answer(idempotency_key)) {
            return Submitted{first->aggregate_id, status_of(first->aggregate_id)};
        }
    }
    v1::CompanyDetails company = submission.company;
    company.set_tax_id(normalize_tax_id(company.tax_id()));
    common::v1::ContactPerson contact = submission.contact;
    contact.set_email(normalize_email(contact.email()));
    if (auto problem = check_request(company, contact, submission.comments)) {
        return invalid(*problem);
    }
    const std::string domain = email_domain(contact.email());
    const std::scoped_lock stripe(domain_stripes_[std::hash<std::string>{}(domain) % domain_stripes_.size()]);
    if (auto limited = limit_unverified_mail(contact.email(), Clock::now())) {
        return *limited;
    }
    // Possible duplicates among pending prospects and existing partners; a rejected earlier
    // request of the same organisation becomes the new request's predecessor.
    auto [duplicates, previous_request] = duplicates_of(company, contact);

    const auto now = Clock::now();
    onboarding::SubmitRequest command;
    v1::RequestSubmitted& submitted = command.request;
    try {
        submitted.set_request_number(request_numbers_.next());
    } catch (const kernel::StorageUnavailable& error) {
        // Taking a number writes it (disk full, an I/O error): nothing was stored, a retry may work.
        return kernel::Rejection{
            kernel::RejectionCode::unavailable,
            std::string("the service cannot store anything right now; try again later (") + error.what() + ")"};
    }
    *submitted.mutable_company() = company;
    *submitted.mutable_contact() = contact;
    submitted.set_comments(submission.comments);
    submitted.set_approval_mode(settings_.approval_mode);
    submitted.set_previous_request_number(previous_request);
    *submitted.mutable_verification() = new_verification_link(now);
    *submitted.mutable_submitted_at() = kernel::to_timestamp(now);
    command.possible_duplicates = std::move(duplicates);
    const std::string number = submitted.request_number();
    auto result = prospects_.execute(
        number, command,
        {.idempotency_key = idempotency_key, .correlation_id = kernel::new_uuid_v7(), .actor = "anonymous"});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return Submitted{std::get<kernel::Accepted<v1::ProspectEvent>>(result).aggregate_id,
                     ProspectStatus::awaiting_verification};
}

Outcome<ProspectStatus> OnboardingApp::verify_email(const std::string& request_number, const std::string& token) {
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    if (token.empty() || token.size() > 128) {
        return invalid("token: is required (the code from the confirmation link)");
    }
    auto result = prospects_.execute(request_number, onboarding::VerifyEmail{kernel::blake2b_256(token), Clock::now()},
                                     {.actor = "anonymous"});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        // An unknown number answers like a wrong token: the caller learns nothing about which.
        if (rejection->code == kernel::RejectionCode::not_found) {
            return invalid("token: the verification link is invalid or has expired");
        }
        return std::move(*rejection);
    }
    return status_of(request_number);
}

std::optional<kernel::Rejection> OnboardingApp::resend_verification(const std::string& request_number,
                                                                    const std::string& email) {
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    if (auto problem = platform::check_email("email", normalize_email(email))) {
        return invalid(*problem);
    }
    // Whatever happens below, the caller gets the same answer (enumeration safety).
    const auto found = prospects_.find(request_number);
    if (found &&
        platform::to_lower(found->state.request.contact().email()) == platform::to_lower(normalize_email(email))) {
        const auto now = Clock::now();
        auto result = prospects_.execute(
            request_number,
            ReissueVerification{new_verification_link(now), now, settings_.resend_interval, settings_.max_resends},
            {.actor = "anonymous"});
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            kernel::logger("onboarding")
                ->info("verification resend for {} not done: {}", request_number, rejection->message);
        }
    }
    return std::nullopt;
}

Outcome<ProspectStatus> OnboardingApp::request_status(const std::string& request_number, const std::string& email) {
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    const auto found = prospects_.find(request_number);
    if (!found ||
        platform::to_lower(found->state.request.contact().email()) != platform::to_lower(normalize_email(email))) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "no request with this number and email"};
    }
    return found->state.status;
}

Outcome<ProspectPage> OnboardingApp::list_prospects(const ProspectQuery& query) {
    auto paging = platform::read_page_request(query.page_size, query.page_token);
    if (auto* problem = std::get_if<std::string>(&paging)) {
        return invalid(std::move(*problem));
    }
    const auto& page_request = std::get<platform::PageRequest>(paging);
    if (query.text.size() > 200) {
        return invalid("text: must have at most 200 characters");
    }
    if (!query.prospect_type.empty() && query.prospect_type != kProspectType) {
        return invalid("prospect_type: the only type is \"B2B prospect\"");
    }
    // Newest first, from the listing index (all statuses) or the status's part of listing_status;
    // the submitted_at range bounds the scan (the keys are newest-first times).
    const bool by_status = query.status.has_value();
    const ProspectStatus wanted = query.status.value_or(ProspectStatus::none);
    if (by_status && wanted == ProspectStatus::none) {
        return invalid("status: is not a request status");
    }
    const std::string_view index = by_status ? "listing_status" : "listing";
    const kernel::IndexKey start = by_status ? listing_status_prefix(wanted) : kernel::IndexKey();
    const auto key_at = [&](Clock::time_point at) {
        return (by_status ? listing_status_prefix(wanted) : kernel::IndexKey()).i64_descending(nanos_of(at) - 1);
    };
    const kernel::IndexKey from = query.submitted_to ? key_at(*query.submitted_to) : start;
    const kernel::IndexKey until = query.submitted_from
                                       ? key_at(*query.submitted_from)
                                       : (by_status ? listing_status_prefix(wanted).prefix_end() : kernel::IndexKey());
    const std::string text = platform::to_lower(query.text);
    const bool verified_only = !query.prospect_type.empty();
    const auto matches = [&](const kernel::IndexHit& hit) {
        // The value is "<status>\n<lower-cased name>\n<lower-cased email>".
        const auto first_break = hit.value.find('\n');
        if (verified_only && hit.value.compare(0, first_break, to_string(ProspectStatus::awaiting_verification)) == 0) {
            return false;
        }
        return text.empty() || hit.value.find(text, first_break + 1) != std::string::npos;
    };
    ProspectPage result;
    std::vector<std::string> page;
    std::string last_cursor;
    prospects_.visit_range(index, from, until, page_request.after, [&](const kernel::IndexHit& hit) {
        if (!matches(hit)) {
            return true;
        }
        if (page.size() == page_request.size) {
            result.next_page_token = platform::next_page_token(last_cursor);
            return false;
        }
        page.push_back(hit.aggregate_id);
        last_cursor = hit.cursor;
        return true;
    });
    // The total: from the status counters, unless a text or time filter needs the range counted
    // (the one cost here that grows with what the filter selects).
    if (!text.empty() || query.submitted_from || query.submitted_to) {
        int total = 0;
        prospects_.visit_range(index, from, until, {}, [&](const kernel::IndexHit& hit) {
            total += matches(hit) ? 1 : 0;
            return true;
        });
        result.total = total;
    } else {
        for (const auto status : kListedStatuses) {
            if ((by_status && status != wanted) || (verified_only && status == ProspectStatus::awaiting_verification)) {
                continue;
            }
            result.total += prospects_.count(status_counter(status));
        }
    }
    for (const std::string& id : page) {
        if (auto found = prospects_.find(id)) {
            result.prospects.push_back(std::move(found->state));
        }
    }
    return result;
}

Outcome<ProspectView> OnboardingApp::prospect(const std::string& request_number) {
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    auto found = prospects_.find(request_number);
    if (!found) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "request " + request_number + " does not exist"};
    }
    ProspectView view{std::move(found->state), {}};
    for (const auto& recorded :
         store_.read_stream(kernel::StreamId{std::string(Prospect::kAggregateType), request_number})) {
        v1::ProspectEvent event;
        if (!kernel::decode_oneof_event(recorded.envelope.event_type(), recorded.envelope.payload(), event)) {
            continue;
        }
        view.timeline.push_back({recorded.envelope.occurred_at(), recorded.envelope.event_type(),
                                 recorded.envelope.actor(), describe(event)});
    }
    return view;
}

Outcome<ProspectStatus> OnboardingApp::approve(const kernel::Principal& hq, const std::string& request_number,
                                               bool confirmed, const std::string& override_reason) {
    // Self-approval is ruled out by comparing emails: a staff credential without one may not approve.
    if (mailbox_key(hq.email).empty()) {
        return kernel::Rejection{
            kernel::RejectionCode::permission_denied,
            "your credential (user " + hq.user_id +
                ") has no email: approving needs one, to rule out approving your own request; the credential "
                "must be configured as token=role:user_id:email in auth.tokens"};
    }
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    if (!confirmed) {
        return invalid("confirmed: must be true (the client's confirmation step)");
    }
    if (override_reason.size() > 1000) {
        return invalid("override_reason: must have at most 1000 characters");
    }
    const auto found = prospects_.find(request_number);
    if (!found) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "request " + request_number + " does not exist"};
    }
    const bool crm_mode = found->state.request.approval_mode() == v1::APPROVAL_MODE_CRM;
    const auto path = crm_mode && !override_reason.empty() ? v1::DECISION_PATH_HQ_OVERRIDE : v1::DECISION_PATH_HQ;
    auto result =
        prospects_.execute(request_number, Approve{hq.user_id, hq.email, path, override_reason, "", Clock::now()},
                           {.correlation_id = kernel::new_uuid_v7(), .actor = hq.user_id});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return status_of(request_number);
}

Outcome<ProspectStatus> OnboardingApp::reject(const kernel::Principal& hq, const std::string& request_number,
                                              const std::string& reason) {
    if (!valid_request_number(request_number)) {
        return invalid_request_number();
    }
    if (auto problem = check_form_text("reason", reason, 1, 1000)) {
        return invalid(*problem);
    }
    auto result = prospects_.execute(request_number, Reject{hq.user_id, reason, v1::DECISION_PATH_HQ, "", Clock::now()},
                                     {.correlation_id = kernel::new_uuid_v7(), .actor = hq.user_id});
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return status_of(request_number);
}

std::size_t OnboardingApp::expire_overdue_requests(Clock::time_point now) {
    // Awaiting verification with a link that expired before now: a range of the expiry index.
    std::vector<std::string> overdue;
    const auto until = kernel::IndexKey().i64(nanos_of(now));
    prospects_.visit_index(
        "awaiting_expiry", {}, {},
        [&](const kernel::IndexHit& hit) {
            overdue.push_back(hit.aggregate_id);
            return true;
        },
        &until);
    std::size_t closed = 0;
    for (const std::string& id : overdue) {
        auto result = prospects_.execute(id, ExpireVerification{now}, {.actor = "system"});
        if (const auto* accepted = std::get_if<kernel::Accepted<v1::ProspectEvent>>(&result);
            accepted && !accepted->events.empty()) {
            ++closed;
        }
    }
    return closed;
}

}  // namespace gatehouse::onboarding
