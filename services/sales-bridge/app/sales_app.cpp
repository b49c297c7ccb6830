#include "app/sales_app.h"

#include <utility>

#include "app/qualification.h"
#include "domain/listing.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::sales {
namespace {

using kernel::Rejection;
using kernel::RejectionCode;

kernel::CommandContext context_of(const kernel::Principal& by) {
    return {.correlation_id = kernel::new_uuid_v7(), .actor = by.user_id};
}

template <class Event>
Refusal refusal_of(const kernel::CommandResult<Event>& result) {
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        return *rejection;
    }
    return std::nullopt;
}

// The first event an accepted command wrote (for a retry, the first try's; none: an empty event).
template <class Event>
Event accepted(const kernel::CommandResult<Event>& result) {
    const auto& events = std::get<kernel::Accepted<Event>>(result).events;
    return events.empty() ? Event() : events.front();
}

// The record, or not_found naming it ("lead LEAD-PR-000001 does not exist").
template <class Decider>
Outcome<typename Decider::State> find_record(kernel::AggregateRuntime<Decider>& records, const std::string& id) {
    auto found = records.find(id);
    if (!found) {
        return Rejection{RejectionCode::not_found, std::string(Decider::kAggregateType) + " " + id + " does not exist"};
    }
    return std::move(found->state);
}

template <class Decider, class History>
Outcome<WithHistory<typename Decider::State>> with_history(kernel::AggregateRuntime<Decider>& records,
                                                           const std::string& id, const History& history) {
    auto found = find_record(records, id);
    if (auto* rejection = std::get_if<Rejection>(&found)) {
        return std::move(*rejection);
    }
    return WithHistory<typename Decider::State>{std::move(std::get<typename Decider::State>(found)), history(id)};
}

// The current values of an account or a contact.
template <class Decider>
Outcome<decltype(Decider::State::record)> record_of(kernel::AggregateRuntime<Decider>& records, const std::string& id) {
    auto found = find_record(records, id);
    if (auto* rejection = std::get_if<Rejection>(&found)) {
        return std::move(*rejection);
    }
    return std::move(std::get<typename Decider::State>(found).record);
}

// Without `text`: a keyset page of the listing's range and its counter, O(log n + page). With
// `text`: the one linear path — the whole range is read to count the matches, each compared with
// the search text stored in its entry (no aggregate is loaded for a row that does not match).
template <class Decider>
Page<typename Decider::State> list_page(kernel::AggregateRuntime<Decider>& records, const Listing& listing,
                                        const platform::PageRequest& request, std::string_view text) {
    Page<typename Decider::State> page;
    std::vector<kernel::IndexHit> hits;
    bool more = false;
    if (text.empty()) {
        kernel::IndexPage index_page = records.page(listing.index, listing.prefix, request.after, request.size);
        hits = std::move(index_page.hits);
        more = !index_page.next_cursor.empty();
        page.total = records.count(listing.counter);
    } else {
        const std::string lowered = lower_ascii(text);
        records.visit_index(listing.index, listing.prefix, {}, [&](const kernel::IndexHit& hit) {
            if (!search_text_contains(hit.value, lowered)) {
                return true;
            }
            ++page.total;
            if (hit.cursor > request.after) {  // after the previous page (an empty `after` is before every key)
                if (hits.size() < request.size) {
                    hits.push_back(hit);
                } else {
                    more = true;
                }
            }
            return true;
        });
    }
    for (const kernel::IndexHit& hit : hits) {
        if (auto found = records.find(hit.aggregate_id)) {
            page.rows.push_back(std::move(found->state));
        }
    }
    if (more && !hits.empty()) {
        page.next_cursor = hits.back().cursor;
    }
    return page;
}

// Runs `use(runtime, id)` on the runtime of the record `regarding` names.
template <class Use>
auto on_record(SalesAggregates& aggregates, const Regarding& regarding, const Use& use) {
    if (!regarding.lead_id.empty()) {
        return use(aggregates.leads, regarding.lead_id);
    }
    return use(aggregates.opportunities, regarding.opportunity_id);
}

// An appointment or a note added to the record `regarding` names. The caller's idempotency key is
// kept per user under `kind` (another user's key never answers for them); `id_of` reads the new
// entry's id from the event the command wrote (for a retry, the first try's).
template <class Command, class IdOf>
Outcome<std::string> add_entry(SalesAggregates& aggregates, const Regarding& regarding, const Command& command,
                               const kernel::Principal& by, std::string_view kind, const std::string& idempotency_key,
                               const IdOf& id_of) {
    kernel::CommandContext context = context_of(by);
    context.idempotency_key =
        idempotency_key.empty() ? "" : std::string(kind) + ":" + by.user_id + ":" + idempotency_key;
    return on_record(aggregates, regarding, [&](auto& records, const std::string& id) -> Outcome<std::string> {
        const auto result = records.execute(id, command, context);
        if (const auto* rejection = std::get_if<Rejection>(&result)) {
            return *rejection;
        }
        return id_of(accepted(result));
    });
}

// A reschedule or cancellation, answered with the appointment's revision as it now is.
template <class Decider, class Command>
Outcome<AppointmentRevision> revise_appointment(kernel::AggregateRuntime<Decider>& records, const std::string& id,
                                                const Command& command, const kernel::Principal& by) {
    const auto result = records.execute(id, command, context_of(by));
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        return *rejection;
    }
    AppointmentRevision revision{.changed = accepted(result).event_case() != 0};
    if (const auto found = records.find(id)) {
        const Appointments& appointments = found->state.appointment_records;
        if (const auto record = appointments.find(command.appointment_id); record != appointments.end()) {
            revision.sequence = record->second.sequence;
        }
    }
    return revision;
}

const v1::AccountUpdated& updated_of(const v1::AccountEvent& event) { return event.account_updated(); }
const v1::ContactUpdated& updated_of(const v1::ContactEvent& event) { return event.contact_updated(); }

// A local edit of an account or a contact (`change`: ChangeAccount / ChangeContact), by its owner
// (`owner_of` the record's state) or a manager.
template <class Decider, class Change, class OwnerOf>
Outcome<RecordUpdate<decltype(Decider::State::record)>> update_record(kernel::AggregateRuntime<Decider>& records,
                                                                      const kernel::Principal& by,
                                                                      const std::string& id, Change change,
                                                                      const OwnerOf& owner_of) {
    const auto found = find_record(records, id);
    if (const auto* rejection = std::get_if<Rejection>(&found)) {
        return *rejection;
    }
    if (auto denied = check_owner(actor_of(by), owner_of(std::get<typename Decider::State>(found)),
                                  std::string(Decider::kAggregateType) + " " + id)) {
        return *denied;
    }
    *change.change.mutable_changed_at() = kernel::to_timestamp(Clock::now());
    const auto result = records.execute(id, change, context_of(by));
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        return *rejection;
    }
    RecordUpdate<decltype(Decider::State::record)> update;
    for (const auto& event : std::get<kernel::Accepted<typename Decider::Event>>(result).events) {
        const auto& fields = updated_of(event).changed_fields();
        update.changed_fields.assign(fields.begin(), fields.end());
    }
    update.record = records.find(id)->state.record;
    return update;
}

}  // namespace

Actor actor_of(const kernel::Principal& principal) {
    return Actor{principal.user_id, principal.email, principal.role == "sales-manager"};
}

SalesApp::SalesApp(SalesAggregates aggregates, kernel::EventStore& store, SalesAppSettings settings)
    : aggregates_(aggregates), store_(store), settings_(std::move(settings)) {}

Page<LeadState> SalesApp::list_leads(const kernel::Principal& by, const LeadQuery& query) {
    const Listing listing = query.mine ? my_open_leads(by.user_id) : commerce_leads(query.status, query.owner_user_id);
    return list_page(aggregates_.leads, listing, query.page, query.text);
}

Outcome<WithHistory<LeadState>> SalesApp::lead(const std::string& lead_id) {
    return with_history(aggregates_.leads, lead_id, [&](const std::string& id) { return lead_history(store_, id); });
}

Outcome<LeadState> SalesApp::assign_lead(const kernel::Principal& by, const std::string& lead_id,
                                         const std::string& owner_user_id) {
    std::string owner_email;
    if (const auto user = settings_.sales_users.find(owner_user_id); user != settings_.sales_users.end()) {
        owner_email = user->second;
    } else if (owner_user_id == by.user_id) {
        owner_email = by.email;
    } else {
        return Rejection{RejectionCode::invalid_argument,
                         "owner_user_id: " + owner_user_id + " is not a sales user (setting sales.users)"};
    }
    if (auto refused = refusal_of(aggregates_.leads.execute(
            lead_id, AssignLead{actor_of(by), owner_user_id, owner_email, Clock::now()}, context_of(by)))) {
        return *refused;
    }
    return aggregates_.leads.find(lead_id)->state;
}

Outcome<QualifiedLead> SalesApp::qualify_lead(const kernel::Principal& by, const std::string& lead_id,
                                              const common::v1::Money& estimated_value,
                                              const std::string& estimated_close_date) {
    const kernel::CommandContext context = context_of(by);
    if (auto refused = refusal_of(aggregates_.leads.execute(
            lead_id, QualifyLead{actor_of(by), estimated_value, estimated_close_date, Clock::now()}, context))) {
        return *refused;
    }
    const LeadState lead = aggregates_.leads.find(lead_id)->state;
    if (auto failed = complete_qualification(aggregates_, lead, context.correlation_id)) {
        // Not the caller's input: the lead is qualified and the rest is completed at the next check.
        return Rejection{RejectionCode::unavailable,
                         "the lead is qualified; creating its records failed: " + failed->message};
    }
    return QualifiedLead{lead.opportunity_id, lead.account_id, lead.contact_id};
}

Refusal SalesApp::disqualify_lead(const kernel::Principal& by, const std::string& lead_id, const std::string& reason) {
    return refusal_of(
        aggregates_.leads.execute(lead_id, DisqualifyLead{actor_of(by), reason, Clock::now()}, context_of(by)));
}

Page<OpportunityState> SalesApp::list_opportunities(const kernel::Principal& by, const OpportunityQuery& query) {
    const Listing listing =
        opportunities_listing(query.mine ? std::optional<std::string>(by.user_id) : std::nullopt, query.status);
    return list_page(aggregates_.opportunities, listing, query.page, {});
}

Outcome<WithHistory<OpportunityState>> SalesApp::opportunity(const std::string& opportunity_id) {
    return with_history(aggregates_.opportunities, opportunity_id,
                        [&](const std::string& id) { return opportunity_history(store_, id); });
}

Refusal SalesApp::win_opportunity(const kernel::Principal& by, const std::string& opportunity_id) {
    return refusal_of(
        aggregates_.opportunities.execute(opportunity_id, WinOpportunity{actor_of(by), Clock::now()}, context_of(by)));
}

Refusal SalesApp::lose_opportunity(const kernel::Principal& by, const std::string& opportunity_id,
                                   const std::string& reason) {
    return refusal_of(aggregates_.opportunities.execute(
        opportunity_id, LoseOpportunity{actor_of(by), reason, Clock::now()}, context_of(by)));
}

Outcome<RecordUpdate<OpportunityState>> SalesApp::update_opportunity(const kernel::Principal& by,
                                                                     const std::string& opportunity_id,
                                                                     std::optional<v1::OpportunityStage> stage,
                                                                     std::optional<common::v1::Money> estimated_value) {
    const auto result = aggregates_.opportunities.execute(
        opportunity_id, UpdateOpportunity{actor_of(by), stage, std::move(estimated_value), Clock::now()},
        context_of(by));
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        return *rejection;
    }
    RecordUpdate<OpportunityState> update;
    const v1::OpportunityEvent event = accepted(result);
    const auto& fields = event.opportunity_updated().changed_fields();
    update.changed_fields.assign(fields.begin(), fields.end());
    if (auto found = aggregates_.opportunities.find(opportunity_id)) {
        update.record = std::move(found->state);
    }
    return update;
}

Outcome<std::string> SalesApp::schedule_appointment(const kernel::Principal& by, const Regarding& regarding,
                                                    v1::AppointmentScheduled appointment,
                                                    const std::string& idempotency_key) {
    appointment.set_appointment_id(kernel::new_uuid_v7());
    *appointment.mutable_scheduled_at() = kernel::to_timestamp(Clock::now());
    const ScheduleAppointment command{actor_of(by), std::move(appointment)};
    return add_entry(aggregates_, regarding, command, by, "appointment", idempotency_key,
                     [](const auto& event) { return event.appointment_scheduled().appointment_id(); });
}

Outcome<AppointmentRevision> SalesApp::reschedule_appointment(const kernel::Principal& by, const Regarding& regarding,
                                                              const std::string& appointment_id,
                                                              const google::protobuf::Timestamp& starts_at,
                                                              const google::protobuf::Timestamp& ends_at) {
    const RescheduleAppointment command{actor_of(by), appointment_id, starts_at, ends_at, Clock::now()};
    return on_record(aggregates_, regarding, [&](auto& records, const std::string& id) {
        return revise_appointment(records, id, command, by);
    });
}

Outcome<AppointmentRevision> SalesApp::cancel_appointment(const kernel::Principal& by, const Regarding& regarding,
                                                          const std::string& appointment_id,
                                                          const std::string& reason) {
    const CancelAppointment command{actor_of(by), appointment_id, reason, Clock::now()};
    return on_record(aggregates_, regarding, [&](auto& records, const std::string& id) {
        return revise_appointment(records, id, command, by);
    });
}

Outcome<std::string> SalesApp::add_note(const kernel::Principal& by, const Regarding& regarding,
                                        const std::string& text, const std::string& idempotency_key) {
    AddNote command{actor_of(by), {}};
    command.note.set_note_id(kernel::new_uuid_v7());
    command.note.set_text(text);
    *command.note.mutable_added_at() = kernel::to_timestamp(Clock::now());
    return add_entry(aggregates_, regarding, command, by, "note", idempotency_key,
                     [](const auto& event) { return event.note_added().note_id(); });
}

Outcome<v1::AccountCreated> SalesApp::account(const std::string& account_id) {
    return record_of(aggregates_.accounts, account_id);
}

Outcome<v1::ContactCreated> SalesApp::contact(const std::string& contact_id) {
    return record_of(aggregates_.contacts, contact_id);
}

Outcome<RecordUpdate<v1::AccountCreated>> SalesApp::update_account(const kernel::Principal& by,
                                                                   const std::string& account_id,
                                                                   v1::AccountUpdated change) {
    return update_record(aggregates_.accounts, by, account_id, ChangeAccount{std::move(change), Side::sales},
                         [this](const AccountState& account) { return owner_of(account); });
}

Outcome<RecordUpdate<v1::ContactCreated>> SalesApp::update_contact(const kernel::Principal& by,
                                                                   const std::string& contact_id,
                                                                   v1::ContactUpdated change) {
    return update_record(aggregates_.contacts, by, contact_id, ChangeContact{std::move(change), Side::sales},
                         [this](const ContactState& contact) { return owner_of(contact); });
}

std::string SalesApp::owner_of(const AccountState& account) {
    if (account.record.opportunity_id().empty()) {
        return {};  // made from a customer of commerce: no opportunity, so only a sales manager changes it
    }
    const auto opportunity = aggregates_.opportunities.find(account.record.opportunity_id());
    return opportunity ? opportunity->state.opportunity.owner_user_id() : std::string();
}

std::string SalesApp::owner_of(const ContactState& contact) {
    const auto account = aggregates_.accounts.find(contact.record.account_id());
    return account ? owner_of(account->state) : std::string();
}

}  // namespace gatehouse::sales
