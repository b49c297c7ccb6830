#include "api/sales_api.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/time.h"
#include "reactions/qualification.h"

namespace gatehouse::sales {
namespace {

using google::protobuf::util::TimeUtil;

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

// Ids are ours (LEAD-PR-000001, ...) or UUIDs: letters, digits, - _ /, at most 64.
Problem check_id(std::string_view field, std::string_view id) {
    if (id.empty()) {
        return std::string(field) + ": is required";
    }
    if (id.size() > 64 || !std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '/';
        })) {
        return std::string(field) + ": must be at most 64 letters, digits, - _ /";
    }
    return std::nullopt;
}

Problem check_idempotency_key(std::string_view key) {
    if (key.size() > 128 || !std::all_of(key.begin(), key.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        })) {
        return "idempotency_key: at most 128 letters, digits, - and _";
    }
    return std::nullopt;
}

Problem check_page(int page_size) {
    if (page_size < 0 || page_size > 200) {
        return "page_size: must be between 1 and 200 (0 = 50)";
    }
    return std::nullopt;
}

v1::LeadStatus to_api(LeadStatus status) {
    switch (status) {
        case LeadStatus::open:
            return v1::LEAD_STATUS_OPEN;
        case LeadStatus::qualified:
            return v1::LEAD_STATUS_QUALIFIED;
        case LeadStatus::disqualified:
            return v1::LEAD_STATUS_DISQUALIFIED;
        case LeadStatus::none:
            break;
    }
    return v1::LEAD_STATUS_UNSPECIFIED;
}

v1::OpportunityStatus to_api(OpportunityStatus status) {
    switch (status) {
        case OpportunityStatus::open:
            return v1::OPPORTUNITY_STATUS_OPEN;
        case OpportunityStatus::won:
            return v1::OPPORTUNITY_STATUS_WON;
        case OpportunityStatus::lost:
            return v1::OPPORTUNITY_STATUS_LOST;
        case OpportunityStatus::none:
            break;
    }
    return v1::OPPORTUNITY_STATUS_UNSPECIFIED;
}

v1::LeadSummary summary_of(const LeadState& state) {
    v1::LeadSummary summary;
    const auto& lead = state.lead;
    summary.set_lead_id(lead.lead_id());
    summary.set_status(to_api(state.status));
    summary.set_topic(lead.topic());
    summary.set_company_name(lead.company_name());
    summary.set_contact_name(lead.contact().first_name() + " " + lead.contact().last_name());
    summary.set_contact_email(lead.contact().email());
    summary.set_origin(lead.origin());
    summary.set_owner_user_id(state.owner_user_id);
    summary.set_prospect_request_number(lead.prospect_request_number());
    *summary.mutable_created_at() = lead.created_at();
    summary.set_opportunity_id(state.opportunity_id);
    return summary;
}

v1::OpportunitySummary summary_of(const OpportunityState& state) {
    v1::OpportunitySummary summary;
    const auto& opportunity = state.opportunity;
    summary.set_opportunity_id(opportunity.opportunity_id());
    summary.set_status(to_api(state.status));
    summary.set_topic(opportunity.topic());
    summary.set_company_name(opportunity.company_name());
    summary.set_lead_id(opportunity.lead_id());
    summary.set_prospect_request_number(opportunity.prospect_request_number());
    summary.set_account_id(opportunity.account_id());
    summary.set_contact_id(opportunity.contact_id());
    *summary.mutable_estimated_value() = opportunity.estimated_value();
    summary.set_estimated_close_date(opportunity.estimated_close_date());
    summary.set_owner_user_id(opportunity.owner_user_id());
    *summary.mutable_created_at() = opportunity.created_at();
    summary.set_stage(opportunity.stage());
    return summary;
}

std::string money_text(const common::v1::Money& money) {
    const auto units = money.minor_units();
    std::string cents = std::to_string(units % 100);
    return money.currency_code() + " " + std::to_string(units / 100) + "." + (cents.size() < 2 ? "0" : "") + cents;
}

std::string describe(const v1::AppointmentScheduled& appointment) {
    std::string text = "appointment \"" + appointment.subject() + "\" " + TimeUtil::ToString(appointment.starts_at()) +
                       " - " + TimeUtil::ToString(appointment.ends_at());
    if (appointment.attendees_size() > 0) {
        text += " with";
        for (const auto& attendee : appointment.attendees()) {
            text += " " + attendee;
        }
    }
    if (!appointment.online_meeting_url().empty()) {
        text += " (online: " + appointment.online_meeting_url() + ")";
    }
    return text;
}

std::string describe(const v1::AppointmentRescheduled& rescheduled) {
    return "appointment \"" + rescheduled.subject() + "\" moved to " + TimeUtil::ToString(rescheduled.starts_at()) +
           " - " + TimeUtil::ToString(rescheduled.ends_at()) + " (revision " + std::to_string(rescheduled.sequence()) +
           ")";
}

std::string describe(const v1::AppointmentCancelled& cancelled) {
    return "appointment \"" + cancelled.subject() + "\" cancelled" +
           (cancelled.reason().empty() ? std::string() : ": " + cancelled.reason());
}

std::string describe(const v1::OpportunityUpdated& updated) {
    std::string text;
    for (const auto& field : updated.changed_fields()) {
        text += text.empty() ? "updated: " : "; ";
        if (field == "stage") {
            text += "stage " + std::string(to_string(updated.previous_stage())) + " -> " +
                    std::string(to_string(updated.stage()));
        } else if (field == "estimated_value") {
            text += "estimated value " + money_text(updated.previous_estimated_value()) + " -> " +
                    money_text(updated.estimated_value());
        } else {
            text += field;
        }
    }
    return text;
}

std::string describe(const v1::LeadEvent& event) {
    switch (event.event_case()) {
        case v1::LeadEvent::kLeadCreated:
            return "created by replication from the storefront (" + event.lead_created().origin() + ", request " +
                   event.lead_created().prospect_request_number() + ")";
        case v1::LeadEvent::kLeadAssigned:
            return "assigned to " + event.lead_assigned().owner_user_id();
        case v1::LeadEvent::kLeadQualified:
            return "qualified: opportunity " + event.lead_qualified().opportunity_id() + ", account " +
                   event.lead_qualified().account_id() + ", contact " + event.lead_qualified().contact_id();
        case v1::LeadEvent::kLeadDisqualified:
            return "disqualified: " + event.lead_disqualified().reason();
        case v1::LeadEvent::kAppointmentScheduled:
            return describe(event.appointment_scheduled());
        case v1::LeadEvent::kAppointmentRescheduled:
            return describe(event.appointment_rescheduled());
        case v1::LeadEvent::kAppointmentCancelled:
            return describe(event.appointment_cancelled());
        case v1::LeadEvent::kNoteAdded:
            return "note: " + event.note_added().text();
        case v1::LeadEvent::EVENT_NOT_SET:
            break;
    }
    return "";
}

std::string describe(const v1::OpportunityEvent& event) {
    switch (event.event_case()) {
        case v1::OpportunityEvent::kOpportunityCreated:
            return "created from lead " + event.opportunity_created().lead_id() + ", estimated " +
                   money_text(event.opportunity_created().estimated_value()) + ", closing " +
                   event.opportunity_created().estimated_close_date();
        case v1::OpportunityEvent::kOpportunityWon:
            return "closed as won";
        case v1::OpportunityEvent::kOpportunityLost:
            return "closed as lost: " + event.opportunity_lost().reason();
        case v1::OpportunityEvent::kAppointmentScheduled:
            return describe(event.appointment_scheduled());
        case v1::OpportunityEvent::kOpportunityUpdated:
            return describe(event.opportunity_updated());
        case v1::OpportunityEvent::kAppointmentRescheduled:
            return describe(event.appointment_rescheduled());
        case v1::OpportunityEvent::kAppointmentCancelled:
            return describe(event.appointment_cancelled());
        case v1::OpportunityEvent::kNoteAdded:
            return "note: " + event.note_added().text();
        case v1::OpportunityEvent::EVENT_NOT_SET:
            break;
    }
    return "";
}

template <class Event, class Entry>
void add_timeline(kernel::EventStore& store, std::string_view aggregate_type, const std::string& id,
                  google::protobuf::RepeatedPtrField<Entry>& timeline) {
    for (const auto& recorded : store.read_stream(kernel::StreamId{std::string(aggregate_type), id})) {
        Event event;
        if (!kernel::decode_oneof_event(recorded.envelope.event_type(), recorded.envelope.payload(), event)) {
            continue;
        }
        Entry& entry = *timeline.Add();
        *entry.mutable_at() = recorded.envelope.occurred_at();
        entry.set_event_type(recorded.envelope.event_type());
        entry.set_actor(recorded.envelope.actor());
        entry.set_detail(describe(event));
    }
}

// Page tokens: "<created_at nanos>:<id>" of the last entry of the previous page (newest first).
struct PageCursor {
    std::int64_t nanos = 0;
    std::string id;
};

// nullopt: not a token (INVALID_ARGUMENT); an empty cursor: the first page.
std::optional<std::optional<PageCursor>> parse_cursor(const std::string& token) {
    if (token.empty()) {
        return std::optional<PageCursor>();
    }
    PageCursor cursor;
    const auto colon = token.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 20) {
        return std::nullopt;
    }
    try {
        cursor.nanos = std::stoll(token.substr(0, colon));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    cursor.id = token.substr(colon + 1);
    return cursor;
}

std::string page_token(const google::protobuf::Timestamp& created_at, const std::string& id) {
    return std::to_string(nanos_of(created_at)) + ":" + id;
}

// One page of a listing: the ids on it (newest first), whether more follow, and the matches
// across all pages.
struct ListedPage {
    std::vector<std::string> ids;
    bool more = false;
    std::int64_t total = 0;
};

// Without `text`: a keyset page of the listing's range and its counter, O(log n + page). With
// `text` (lower-cased): the one linear path — the whole range is read to count the matches, each
// compared with the search text stored in its entry (no aggregate is loaded for a row that does
// not match).
template <class Runtime>
ListedPage list_page(const Runtime& runtime, const Listing& listing, const std::optional<PageCursor>& cursor,
                     int page_size, std::string_view text) {
    const std::string after = cursor ? resume_cursor(listing, cursor->nanos, cursor->id) : std::string();
    const auto size = static_cast<std::size_t>(page_size);
    ListedPage listed;
    if (text.empty()) {
        const kernel::IndexPage page = runtime.page(listing.index, listing.prefix, after, size);
        for (const kernel::IndexHit& hit : page.hits) {
            listed.ids.push_back(hit.aggregate_id);
        }
        listed.more = !page.next_cursor.empty();
        listed.total = runtime.count(listing.counter);
        return listed;
    }
    runtime.visit_index(listing.index, listing.prefix, {}, [&](const kernel::IndexHit& hit) {
        if (!search_text_contains(hit.value, text)) {
            return true;
        }
        ++listed.total;
        if (hit.cursor > after) {  // after the previous page (an empty `after` is before every key)
            if (listed.ids.size() < size) {
                listed.ids.push_back(hit.aggregate_id);
            } else {
                listed.more = true;
            }
        }
        return true;
    });
    return listed;
}

std::optional<LeadStatus> from_api(v1::LeadStatus status) {
    switch (status) {
        case v1::LEAD_STATUS_OPEN:
            return LeadStatus::open;
        case v1::LEAD_STATUS_QUALIFIED:
            return LeadStatus::qualified;
        case v1::LEAD_STATUS_DISQUALIFIED:
            return LeadStatus::disqualified;
        default:
            break;
    }
    return std::nullopt;
}

std::optional<OpportunityStatus> from_api(v1::OpportunityStatus status) {
    switch (status) {
        case v1::OPPORTUNITY_STATUS_OPEN:
            return OpportunityStatus::open;
        case v1::OPPORTUNITY_STATUS_WON:
            return OpportunityStatus::won;
        case v1::OPPORTUNITY_STATUS_LOST:
            return OpportunityStatus::lost;
        default:
            break;
    }
    return std::nullopt;
}

v1::Account to_api(const v1::AccountCreated& record) {
    v1::Account account;
    account.set_account_id(record.account_id());
    account.set_prospect_request_number(record.prospect_request_number());
    account.set_name(record.name());
    *account.mutable_address() = record.address();
    account.set_phone(record.phone());
    account.set_website(record.website());
    account.set_tax_id(record.tax_id());
    account.set_primary_contact_id(record.primary_contact_id());
    account.set_opportunity_id(record.opportunity_id());
    account.set_customer_id(record.customer_id());
    return account;
}

v1::Contact to_api(const v1::ContactCreated& record) {
    v1::Contact contact;
    contact.set_contact_id(record.contact_id());
    contact.set_account_id(record.account_id());
    contact.set_prospect_request_number(record.prospect_request_number());
    contact.set_first_name(record.first_name());
    contact.set_last_name(record.last_name());
    contact.set_email(record.email());
    contact.set_phone(record.phone());
    contact.set_job_title(record.job_title());
    contact.set_customer_id(record.customer_id());
    return contact;
}

Problem check_account_fields(const v1::Account& account, const google::protobuf::RepeatedPtrField<std::string>& names) {
    for (const std::string& name : names) {
        Problem found;
        // The limits customers applies to the same field (docs/replication.md, "Field rules").
        if (name == "name") {
            found = platform::check_replicated_field("account.name", name, account.name(), true);
        } else if (name == "phone") {
            found = platform::check_replicated_field("account.phone", name, account.phone(), true);
        } else if (name == "website") {
            found = platform::check_replicated_field("account.website", name, account.website(), true);
        } else if (name == "tax_id") {
            found = platform::check_replicated_field("account.tax_id", name, account.tax_id(), true);
        } else if (name == "address") {
            const auto& address = account.address();
            for (const auto& [field, value] : {std::pair{"account.address.street", address.street()},
                                               std::pair{"account.address.city", address.city()},
                                               std::pair{"account.address.postal_code", address.postal_code()},
                                               std::pair{"account.address.region", address.region()}}) {
                if (!found) {
                    found = platform::check_text(field, value, 0, 200);
                }
            }
            const auto& country = address.country_code();
            if (!found && !country.empty() &&
                (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
                 !std::isupper(static_cast<unsigned char>(country[1])))) {
                found = "account.address.country_code: must be an ISO 3166-1 alpha-2 code such as DE";
            }
        } else {
            found = "changed_fields: " + name + " is not an account field (name, address, phone, website, tax_id)";
        }
        if (found) {
            return found;
        }
    }
    return std::nullopt;
}

Problem check_contact_fields(const v1::Contact& contact, const google::protobuf::RepeatedPtrField<std::string>& names) {
    for (const std::string& name : names) {
        Problem found;
        // As for accounts; a contact's email is required (a CRM contact is someone to write to).
        if (name == "first_name") {
            found = platform::check_replicated_field("contact.first_name", name, contact.first_name(), true);
        } else if (name == "last_name") {
            found = platform::check_replicated_field("contact.last_name", name, contact.last_name(), true);
        } else if (name == "email") {
            found = platform::check_replicated_field("contact.email", name, contact.email(), true);
        } else if (name == "phone") {
            found = platform::check_replicated_field("contact.phone", name, contact.phone(), true);
        } else if (name == "job_title") {
            found = platform::check_replicated_field("contact.job_title", name, contact.job_title(), true);
        } else {
            found =
                "changed_fields: " + name + " is not a contact field (first_name, last_name, email, phone, job_title)";
        }
        if (found) {
            return found;
        }
    }
    return std::nullopt;
}

// The one event an accepted timeline command wrote (or, for a retry, the first try wrote).
template <class Event>
Event accepted(const kernel::CommandResult<Event>& result) {
    const auto& events = std::get<kernel::Accepted<Event>>(result).events;
    return events.empty() ? Event() : events.front();
}

}  // namespace

SalesApi::SalesApi(SalesAggregates aggregates, kernel::EventStore& store,
                   const kernel::BearerAuthenticator& authenticator, SalesApiSettings settings)
    : aggregates_(aggregates), store_(store), authenticator_(authenticator), settings_(std::move(settings)) {}

grpc::Status SalesApi::authenticate(grpc::ServerContext* context, Actor& actor) const {
    kernel::Principal principal;
    if (auto denied = kernel::authenticate_call(*context, authenticator_, {"sales", "sales-manager"}, principal);
        !denied.ok()) {
        return denied;
    }
    actor = Actor{principal.user_id, principal.email, principal.role == "sales-manager"};
    return grpc::Status::OK;
}

std::string SalesApi::owner_of_account(const AccountState& account) {
    if (account.record.opportunity_id().empty()) {
        return {};  // made from a customer of commerce: no opportunity, so only a sales manager changes it
    }
    const auto opportunity = aggregates_.opportunities.find(account.record.opportunity_id());
    return opportunity ? opportunity->state.opportunity.owner_user_id() : std::string();
}

grpc::Status SalesApi::ListLeads(grpc::ServerContext* context, const v1::ListLeadsRequest* request,
                                 v1::ListLeadsResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (request->view() != v1::LEAD_VIEW_ALL_COMMERCE_B2B && request->view() != v1::LEAD_VIEW_MY_OPEN) {
        return invalid("view: must be LEAD_VIEW_ALL_COMMERCE_B2B or LEAD_VIEW_MY_OPEN");
    }
    if (auto problem = check_page(request->page_size())) {
        return invalid(*problem);
    }
    if (auto problem = platform::check_text("text", request->text(), 0, 200)) {
        return invalid(*problem);
    }
    if (!request->owner_user_id().empty() && request->owner_user_id() != "-") {
        if (auto problem = check_id("owner_user_id", request->owner_user_id())) {
            return invalid(*problem);
        }
    }
    const bool mine = request->view() == v1::LEAD_VIEW_MY_OPEN;
    if (mine && (!request->owner_user_id().empty() ||
                 (request->status() != v1::LEAD_STATUS_UNSPECIFIED && request->status() != v1::LEAD_STATUS_OPEN))) {
        return invalid("view: LEAD_VIEW_MY_OPEN is the caller's open leads; owner_user_id and status do not apply");
    }
    const auto cursor = parse_cursor(request->page_token());
    if (!cursor) {
        return invalid("page_token: is not a token from a previous page");
    }
    Listing listing;
    if (mine) {
        listing = my_open_leads(actor.user_id);
    } else {
        std::optional<LeadStatus> status;
        if (request->status() != v1::LEAD_STATUS_UNSPECIFIED) {
            status = from_api(request->status());
            if (!status) {
                return grpc::Status::OK;  // a status no lead has: nothing matches
            }
        }
        std::optional<std::string> owner;
        if (!request->owner_user_id().empty()) {
            owner = request->owner_user_id() == "-" ? "" : request->owner_user_id();
        }
        listing = commerce_leads(status, owner);
    }
    const ListedPage page =
        list_page(aggregates_.leads, listing, *cursor, request->page_size() == 0 ? 50 : request->page_size(),
                  lower_ascii(request->text()));
    response->set_total(static_cast<int>(page.total));
    std::string last;  // the token of the last lead on the page
    for (const std::string& id : page.ids) {
        if (const auto found = aggregates_.leads.find(id)) {
            *response->add_leads() = summary_of(found->state);
            last = page_token(found->state.lead.created_at(), id);
        }
    }
    if (page.more) {
        response->set_next_page_token(last);
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetLead(grpc::ServerContext* context, const v1::GetLeadRequest* request,
                               v1::GetLeadResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("lead_id", request->lead_id())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.leads.find(request->lead_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "lead " + request->lead_id() + " does not exist"};
    }
    const LeadState& state = found->state;
    *response->mutable_summary() = summary_of(state);
    *response->mutable_lead() = state.lead;
    response->set_owner_email(state.owner_email);
    response->set_account_id(state.account_id);
    response->set_contact_id(state.contact_id);
    response->set_decided_by(state.decided_by);
    response->set_decided_by_hq(state.decided_by_hq);
    response->set_decision_reason(state.decision_reason);
    add_timeline<v1::LeadEvent>(store_, Lead::kAggregateType, request->lead_id(), *response->mutable_timeline());
    return grpc::Status::OK;
}

grpc::Status SalesApi::AssignLead(grpc::ServerContext* context, const v1::AssignLeadRequest* request,
                                  v1::AssignLeadResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("lead_id", request->lead_id())) {
        return invalid(*problem);
    }
    if (auto problem = check_id("owner_user_id", request->owner_user_id())) {
        return invalid(*problem);
    }
    std::string owner_email;
    if (const auto user = settings_.sales_users.find(request->owner_user_id()); user != settings_.sales_users.end()) {
        owner_email = user->second;
    } else if (request->owner_user_id() == actor.user_id) {
        owner_email = actor.email;
    } else {
        return invalid("owner_user_id: " + request->owner_user_id() + " is not a sales user (setting sales.users)");
    }
    auto result = aggregates_.leads.execute(
        request->lead_id(), sales::AssignLead{actor, request->owner_user_id(), owner_email, Clock::now()},
        {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_summary() = summary_of(aggregates_.leads.find(request->lead_id())->state);
    return grpc::Status::OK;
}

grpc::Status SalesApi::QualifyLead(grpc::ServerContext* context, const v1::QualifyLeadRequest* request,
                                   v1::QualifyLeadResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("lead_id", request->lead_id())) {
        return invalid(*problem);
    }
    const std::string correlation_id = kernel::new_uuid_v7();
    auto result = aggregates_.leads.execute(
        request->lead_id(),
        sales::QualifyLead{actor, request->estimated_value(), request->estimated_close_date(), Clock::now()},
        {.correlation_id = correlation_id, .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    const LeadState lead = aggregates_.leads.find(request->lead_id())->state;
    if (auto failed = complete_qualification(aggregates_, lead, correlation_id)) {
        // Not the caller's input: the lead is qualified and the rest is completed at the next start.
        return {grpc::StatusCode::UNAVAILABLE,
                "the lead is qualified; creating its records failed: " + failed->message};
    }
    response->set_opportunity_id(lead.opportunity_id);
    response->set_account_id(lead.account_id);
    response->set_contact_id(lead.contact_id);
    return grpc::Status::OK;
}

grpc::Status SalesApi::DisqualifyLead(grpc::ServerContext* context, const v1::DisqualifyLeadRequest* request,
                                      v1::DisqualifyLeadResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("lead_id", request->lead_id())) {
        return invalid(*problem);
    }
    auto result =
        aggregates_.leads.execute(request->lead_id(), sales::DisqualifyLead{actor, request->reason(), Clock::now()},
                                  {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(v1::LEAD_STATUS_DISQUALIFIED);
    return grpc::Status::OK;
}

grpc::Status SalesApi::ListOpportunities(grpc::ServerContext* context, const v1::ListOpportunitiesRequest* request,
                                         v1::ListOpportunitiesResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_page(request->page_size())) {
        return invalid(*problem);
    }
    const auto cursor = parse_cursor(request->page_token());
    if (!cursor) {
        return invalid("page_token: is not a token from a previous page");
    }
    std::optional<OpportunityStatus> status;
    if (request->status() != v1::OPPORTUNITY_STATUS_UNSPECIFIED) {
        status = from_api(request->status());
        if (!status) {
            return grpc::Status::OK;  // a status no opportunity has: nothing matches
        }
    }
    const Listing listing =
        opportunities_listing(request->mine() ? std::optional<std::string>(actor.user_id) : std::nullopt, status);
    const ListedPage page = list_page(aggregates_.opportunities, listing, *cursor,
                                      request->page_size() == 0 ? 50 : request->page_size(), {});
    response->set_total(static_cast<int>(page.total));
    std::string last;  // the token of the last opportunity on the page
    for (const std::string& id : page.ids) {
        if (const auto found = aggregates_.opportunities.find(id)) {
            *response->add_opportunities() = summary_of(found->state);
            last = page_token(found->state.opportunity.created_at(), id);
        }
    }
    if (page.more) {
        response->set_next_page_token(last);
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetOpportunity(grpc::ServerContext* context, const v1::GetOpportunityRequest* request,
                                      v1::GetOpportunityResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("opportunity_id", request->opportunity_id())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.opportunities.find(request->opportunity_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "opportunity " + request->opportunity_id() + " does not exist"};
    }
    *response->mutable_summary() = summary_of(found->state);
    response->set_closed_by(found->state.closed_by);
    response->set_close_reason(found->state.close_reason);
    response->set_decided_by_hq(found->state.decided_by_hq);
    add_timeline<v1::OpportunityEvent>(store_, Opportunity::kAggregateType, request->opportunity_id(),
                                       *response->mutable_timeline());
    return grpc::Status::OK;
}

grpc::Status SalesApi::WinOpportunity(grpc::ServerContext* context, const v1::WinOpportunityRequest* request,
                                      v1::WinOpportunityResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("opportunity_id", request->opportunity_id())) {
        return invalid(*problem);
    }
    auto result =
        aggregates_.opportunities.execute(request->opportunity_id(), sales::WinOpportunity{actor, Clock::now()},
                                          {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(v1::OPPORTUNITY_STATUS_WON);
    return grpc::Status::OK;
}

grpc::Status SalesApi::LoseOpportunity(grpc::ServerContext* context, const v1::LoseOpportunityRequest* request,
                                       v1::LoseOpportunityResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("opportunity_id", request->opportunity_id())) {
        return invalid(*problem);
    }
    auto result = aggregates_.opportunities.execute(request->opportunity_id(),
                                                    sales::LoseOpportunity{actor, request->reason(), Clock::now()},
                                                    {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    response->set_status(v1::OPPORTUNITY_STATUS_LOST);
    return grpc::Status::OK;
}

grpc::Status SalesApi::UpdateOpportunity(grpc::ServerContext* context, const v1::UpdateOpportunityRequest* request,
                                         v1::UpdateOpportunityResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("opportunity_id", request->opportunity_id())) {
        return invalid(*problem);
    }
    if (request->stage() != v1::OPPORTUNITY_STAGE_UNSPECIFIED && !v1::OpportunityStage_IsValid(request->stage())) {
        return invalid("stage: must be one of QUALIFY, DEVELOP, PROPOSE, CLOSE");
    }
    if (request->stage() == v1::OPPORTUNITY_STAGE_UNSPECIFIED && !request->has_estimated_value()) {
        return invalid("stage: name a stage or an estimated_value to change");
    }
    sales::UpdateOpportunity command{actor, std::nullopt, std::nullopt, Clock::now()};
    if (request->stage() != v1::OPPORTUNITY_STAGE_UNSPECIFIED) {
        command.stage = request->stage();
    }
    if (request->has_estimated_value()) {
        command.estimated_value = request->estimated_value();
    }
    auto result = aggregates_.opportunities.execute(request->opportunity_id(), command,
                                                    {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_changed_fields() = accepted(result).opportunity_updated().changed_fields();
    if (const auto found = aggregates_.opportunities.find(request->opportunity_id())) {
        *response->mutable_summary() = summary_of(found->state);
    }
    return grpc::Status::OK;
}

namespace {

// Exactly one of lead_id / opportunity_id names where a timeline entry goes.
Problem check_regarding(const std::string& lead_id, const std::string& opportunity_id) {
    if (lead_id.empty() == opportunity_id.empty()) {
        return "lead_id: name exactly one of lead_id and opportunity_id";
    }
    return lead_id.empty() ? check_id("opportunity_id", opportunity_id) : check_id("lead_id", lead_id);
}

}  // namespace

grpc::Status SalesApi::ScheduleAppointment(grpc::ServerContext* context, const v1::ScheduleAppointmentRequest* request,
                                           v1::ScheduleAppointmentResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_regarding(request->lead_id(), request->opportunity_id())) {
        return invalid(*problem);
    }
    if (auto problem = check_idempotency_key(request->idempotency_key())) {
        return invalid(*problem);
    }
    sales::ScheduleAppointment command{actor, {}};
    auto& appointment = command.appointment;
    appointment.set_appointment_id(kernel::new_uuid_v7());
    appointment.set_subject(request->subject());
    *appointment.mutable_starts_at() = request->starts_at();
    *appointment.mutable_ends_at() = request->ends_at();
    *appointment.mutable_attendees() = request->attendees();
    appointment.set_online_meeting_url(request->online_meeting_url());
    appointment.set_language(request->language());
    *appointment.mutable_scheduled_at() = kernel::to_timestamp(Clock::now());
    const kernel::CommandContext command_context{
        // Keys are per user: another user's key never answers for them.
        .idempotency_key =
            request->idempotency_key().empty() ? "" : "appointment:" + actor.user_id + ":" + request->idempotency_key(),
        .correlation_id = kernel::new_uuid_v7(),
        .actor = actor.user_id};
    if (!request->lead_id().empty()) {
        auto result = aggregates_.leads.execute(request->lead_id(), command, command_context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_appointment_id(accepted(result).appointment_scheduled().appointment_id());
    } else {
        auto result = aggregates_.opportunities.execute(request->opportunity_id(), command, command_context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_appointment_id(accepted(result).appointment_scheduled().appointment_id());
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::RescheduleAppointment(grpc::ServerContext* context,
                                             const v1::RescheduleAppointmentRequest* request,
                                             v1::RescheduleAppointmentResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_regarding(request->lead_id(), request->opportunity_id())) {
        return invalid(*problem);
    }
    if (auto problem = check_id("appointment_id", request->appointment_id())) {
        return invalid(*problem);
    }
    const sales::RescheduleAppointment command{actor, request->appointment_id(), request->starts_at(),
                                               request->ends_at(), Clock::now()};
    const kernel::CommandContext command_context{.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id};
    const auto answer = [&](const auto& result, const auto& appointments) -> grpc::Status {
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_changed(accepted(result).event_case() != 0);
        if (const auto record = appointments.find(request->appointment_id()); record != appointments.end()) {
            response->set_sequence(record->second.sequence);
        }
        return grpc::Status::OK;
    };
    if (!request->lead_id().empty()) {
        auto result = aggregates_.leads.execute(request->lead_id(), command, command_context);
        const auto found = aggregates_.leads.find(request->lead_id());
        return answer(result, found ? found->state.appointment_records : Appointments{});
    }
    auto result = aggregates_.opportunities.execute(request->opportunity_id(), command, command_context);
    const auto found = aggregates_.opportunities.find(request->opportunity_id());
    return answer(result, found ? found->state.appointment_records : Appointments{});
}

grpc::Status SalesApi::CancelAppointment(grpc::ServerContext* context, const v1::CancelAppointmentRequest* request,
                                         v1::CancelAppointmentResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_regarding(request->lead_id(), request->opportunity_id())) {
        return invalid(*problem);
    }
    if (auto problem = check_id("appointment_id", request->appointment_id())) {
        return invalid(*problem);
    }
    const sales::CancelAppointment command{actor, request->appointment_id(), request->reason(), Clock::now()};
    const kernel::CommandContext command_context{.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id};
    const auto answer = [&](const auto& result, const auto& appointments) -> grpc::Status {
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_changed(accepted(result).event_case() != 0);
        if (const auto record = appointments.find(request->appointment_id()); record != appointments.end()) {
            response->set_sequence(record->second.sequence);
        }
        return grpc::Status::OK;
    };
    if (!request->lead_id().empty()) {
        auto result = aggregates_.leads.execute(request->lead_id(), command, command_context);
        const auto found = aggregates_.leads.find(request->lead_id());
        return answer(result, found ? found->state.appointment_records : Appointments{});
    }
    auto result = aggregates_.opportunities.execute(request->opportunity_id(), command, command_context);
    const auto found = aggregates_.opportunities.find(request->opportunity_id());
    return answer(result, found ? found->state.appointment_records : Appointments{});
}

grpc::Status SalesApi::AddNote(grpc::ServerContext* context, const v1::AddNoteRequest* request,
                               v1::AddNoteResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_regarding(request->lead_id(), request->opportunity_id())) {
        return invalid(*problem);
    }
    if (auto problem = check_idempotency_key(request->idempotency_key())) {
        return invalid(*problem);
    }
    sales::AddNote command{actor, {}};
    command.note.set_note_id(kernel::new_uuid_v7());
    command.note.set_text(request->text());
    *command.note.mutable_added_at() = kernel::to_timestamp(Clock::now());
    const kernel::CommandContext command_context{
        .idempotency_key =
            request->idempotency_key().empty() ? "" : "note:" + actor.user_id + ":" + request->idempotency_key(),
        .correlation_id = kernel::new_uuid_v7(),
        .actor = actor.user_id};
    if (!request->lead_id().empty()) {
        auto result = aggregates_.leads.execute(request->lead_id(), command, command_context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_note_id(accepted(result).note_added().note_id());
    } else {
        auto result = aggregates_.opportunities.execute(request->opportunity_id(), command, command_context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
        response->set_note_id(accepted(result).note_added().note_id());
    }
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                                  v1::GetAccountResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("account_id", request->account_id())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.accounts.find(request->account_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "account " + request->account_id() + " does not exist"};
    }
    *response->mutable_account() = to_api(found->state.record);
    return grpc::Status::OK;
}

grpc::Status SalesApi::UpdateAccount(grpc::ServerContext* context, const v1::UpdateAccountRequest* request,
                                     v1::UpdateAccountResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("account_id", request->account_id())) {
        return invalid(*problem);
    }
    if (request->changed_fields().empty()) {
        return invalid("changed_fields: name at least one field (name, address, phone, website, tax_id)");
    }
    if (auto problem = check_account_fields(request->account(), request->changed_fields())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.accounts.find(request->account_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "account " + request->account_id() + " does not exist"};
    }
    if (auto denied = check_owner(actor, owner_of_account(found->state), "account " + request->account_id())) {
        return kernel::to_grpc_status(*denied);
    }
    ChangeAccount change{{}, Side::sales};
    const auto& values = request->account();
    change.change.set_name(values.name());
    *change.change.mutable_address() = values.address();
    change.change.set_phone(values.phone());
    change.change.set_website(values.website());
    change.change.set_tax_id(values.tax_id());
    *change.change.mutable_changed_fields() = request->changed_fields();
    *change.change.mutable_changed_at() = kernel::to_timestamp(Clock::now());
    auto result = aggregates_.accounts.execute(request->account_id(), change,
                                               {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    for (const auto& event : std::get<kernel::Accepted<v1::AccountEvent>>(result).events) {
        *response->mutable_changed_fields() = event.account_updated().changed_fields();
    }
    *response->mutable_account() = to_api(aggregates_.accounts.find(request->account_id())->state.record);
    return grpc::Status::OK;
}

grpc::Status SalesApi::GetContact(grpc::ServerContext* context, const v1::GetContactRequest* request,
                                  v1::GetContactResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("contact_id", request->contact_id())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.contacts.find(request->contact_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "contact " + request->contact_id() + " does not exist"};
    }
    *response->mutable_contact() = to_api(found->state.record);
    return grpc::Status::OK;
}

grpc::Status SalesApi::UpdateContact(grpc::ServerContext* context, const v1::UpdateContactRequest* request,
                                     v1::UpdateContactResponse* response) {
    Actor actor;
    if (auto denied = authenticate(context, actor); !denied.ok()) {
        return denied;
    }
    if (auto problem = check_id("contact_id", request->contact_id())) {
        return invalid(*problem);
    }
    if (request->changed_fields().empty()) {
        return invalid("changed_fields: name at least one field (first_name, last_name, email, phone, job_title)");
    }
    if (auto problem = check_contact_fields(request->contact(), request->changed_fields())) {
        return invalid(*problem);
    }
    const auto found = aggregates_.contacts.find(request->contact_id());
    if (!found) {
        return {grpc::StatusCode::NOT_FOUND, "contact " + request->contact_id() + " does not exist"};
    }
    const auto account = aggregates_.accounts.find(found->state.record.account_id());
    const std::string owner = account ? owner_of_account(account->state) : std::string();
    if (auto denied = check_owner(actor, owner, "contact " + request->contact_id())) {
        return kernel::to_grpc_status(*denied);
    }
    ChangeContact change{{}, Side::sales};
    const auto& values = request->contact();
    change.change.set_first_name(values.first_name());
    change.change.set_last_name(values.last_name());
    change.change.set_email(values.email());
    change.change.set_phone(values.phone());
    change.change.set_job_title(values.job_title());
    *change.change.mutable_changed_fields() = request->changed_fields();
    *change.change.mutable_changed_at() = kernel::to_timestamp(Clock::now());
    auto result = aggregates_.contacts.execute(request->contact_id(), change,
                                               {.correlation_id = kernel::new_uuid_v7(), .actor = actor.user_id});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    for (const auto& event : std::get<kernel::Accepted<v1::ContactEvent>>(result).events) {
        *response->mutable_changed_fields() = event.contact_updated().changed_fields();
    }
    *response->mutable_contact() = to_api(aggregates_.contacts.find(request->contact_id())->state.record);
    return grpc::Status::OK;
}

}  // namespace gatehouse::sales
