// The sales bridge's use cases, between the API and the four aggregates: who may do what (a sales
// user acts only on the leads, opportunities, accounts and contacts they own; a sales manager on
// any), the domain commands built from the caller's values, the lists' pages and the lookups. Plain
// values in, kernel results and Rejections out; no gRPC here. Input is checked by the caller (the
// API names the request's fields); what needs the aggregates or the settings to decide is here.
//
// Every list reads a read model's index and counter (domain/*_read_model.h): a page is
// O(log n + page) and resumes after the read-model cursor of the previous page's last row; only a
// `text` filter reads the whole range its other filters select (see README, "Costs"). Lookups load
// aggregates on demand (the runtimes' LRU caches). Every method may be called concurrently, as the
// runtimes' may.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/history.h"
#include "domain/sales_runtimes.h"
#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/platform/paging.h"

namespace gatehouse::sales {

struct SalesAppSettings final {
    // The sales team: user id -> email (sales.users). Leads can be assigned to these users.
    std::map<std::string, std::string> sales_users;
};

// What a use case answers, or why it refused (the code says what the caller can do about it).
template <class T>
using Outcome = std::variant<T, kernel::Rejection>;
// A command with nothing to answer: nullopt when it was done.
using Refusal = std::optional<kernel::Rejection>;

// The domain's actor for a staff principal: role sales-manager may change what others own.
Actor actor_of(const kernel::Principal& principal);

// One page of a list, newest first.
template <class State>
struct Page final {
    std::vector<State> rows;
    std::int64_t total = 0;   // the matches across all pages
    std::string next_cursor;  // set when more follow: the read-model cursor the next page starts after
};

struct LeadQuery final {
    // The caller's open leads; otherwise all commerce B2B leads, with the filters below.
    bool mine = false;
    std::optional<LeadStatus> status;          // unset: any
    std::optional<std::string> owner_user_id;  // unset: any; empty: unassigned
    std::string text;                          // in company name or contact email, any case; empty: any
    platform::PageRequest page;
};

struct OpportunityQuery final {
    bool mine = false;                        // the caller's opportunities only
    std::optional<OpportunityStatus> status;  // unset: any
    platform::PageRequest page;
};

// A record with its timeline, oldest entry first.
template <class State>
struct WithHistory final {
    State state;
    std::vector<HistoryEntry> history;
};

// The records a qualification created (or found created).
struct QualifiedLead final {
    std::string opportunity_id;
    std::string account_id;
    std::string contact_id;
};

// The record a timeline command goes to: a lead when lead_id is set, else the opportunity.
struct Regarding final {
    std::string lead_id;
    std::string opportunity_id;
};

// An appointment after a reschedule / cancellation: whether this call changed it, and the revision
// of its invitation (iCalendar SEQUENCE; 0 if the record cannot be read back).
struct AppointmentRevision final {
    bool changed = false;
    std::uint32_t sequence = 0;
};

// A replicated record after a local edit: the fields that changed (none when every value already
// was so: nothing is recorded then) and the record as it now is.
template <class Record>
struct RecordUpdate final {
    std::vector<std::string> changed_fields;
    Record record;
};

class SalesApp final {
  public:
    SalesApp(SalesAggregates aggregates, kernel::EventStore& store, SalesAppSettings settings);

    // --- leads ---
    [[nodiscard]] Page<LeadState> list_leads(const kernel::Principal& by, const LeadQuery& query);
    [[nodiscard]] Outcome<WithHistory<LeadState>> lead(const std::string& lead_id);
    // To a user of sales.users, or the caller themselves. The lead as it now is.
    Outcome<LeadState> assign_lead(const kernel::Principal& by, const std::string& lead_id,
                                   const std::string& owner_user_id);
    // Qualifies the lead, then creates its opportunity, account and contact (app/qualification.h).
    // Unavailable when the lead was qualified but a record could not be created (the periodic
    // check completes it).
    Outcome<QualifiedLead> qualify_lead(const kernel::Principal& by, const std::string& lead_id,
                                        const common::v1::Money& estimated_value,
                                        const std::string& estimated_close_date);
    Refusal disqualify_lead(const kernel::Principal& by, const std::string& lead_id, const std::string& reason);

    // --- opportunities ---
    [[nodiscard]] Page<OpportunityState> list_opportunities(const kernel::Principal& by, const OpportunityQuery& query);
    [[nodiscard]] Outcome<WithHistory<OpportunityState>> opportunity(const std::string& opportunity_id);
    Refusal win_opportunity(const kernel::Principal& by, const std::string& opportunity_id);
    Refusal lose_opportunity(const kernel::Principal& by, const std::string& opportunity_id, const std::string& reason);
    // Unset values stay as they are. The fields that changed, and the opportunity as it now is.
    Outcome<RecordUpdate<OpportunityState>> update_opportunity(const kernel::Principal& by,
                                                               const std::string& opportunity_id,
                                                               std::optional<v1::OpportunityStage> stage,
                                                               std::optional<common::v1::Money> estimated_value);

    // --- the timeline of a lead or an opportunity ---
    // `appointment` without its id and scheduled_at, which are set here. An idempotency key (per
    // caller) makes a retry answer the first appointment id.
    Outcome<std::string> schedule_appointment(const kernel::Principal& by, const Regarding& regarding,
                                              v1::AppointmentScheduled appointment, const std::string& idempotency_key);
    Outcome<AppointmentRevision> reschedule_appointment(const kernel::Principal& by, const Regarding& regarding,
                                                        const std::string& appointment_id,
                                                        const google::protobuf::Timestamp& starts_at,
                                                        const google::protobuf::Timestamp& ends_at);
    Outcome<AppointmentRevision> cancel_appointment(const kernel::Principal& by, const Regarding& regarding,
                                                    const std::string& appointment_id, const std::string& reason);
    // The note's id (as for schedule_appointment with an idempotency key).
    Outcome<std::string> add_note(const kernel::Principal& by, const Regarding& regarding, const std::string& text,
                                  const std::string& idempotency_key);

    // --- accounts and contacts ---
    [[nodiscard]] Outcome<v1::AccountCreated> account(const std::string& account_id);
    [[nodiscard]] Outcome<v1::ContactCreated> contact(const std::string& contact_id);
    // A local edit: `change` names the fields in changed_fields with their values; it is stamped
    // now. Only the owner of the account's opportunity (or a manager) may edit; an account made from
    // a customer of commerce (no opportunity) only a manager. A contact goes with its account.
    Outcome<RecordUpdate<v1::AccountCreated>> update_account(const kernel::Principal& by, const std::string& account_id,
                                                             v1::AccountUpdated change);
    Outcome<RecordUpdate<v1::ContactCreated>> update_contact(const kernel::Principal& by, const std::string& contact_id,
                                                             v1::ContactUpdated change);

  private:
    // Who may change the record (the owner of the account's opportunity), or empty: only a manager.
    std::string owner_of(const AccountState& account);
    std::string owner_of(const ContactState& contact);

    SalesAggregates aggregates_;
    kernel::EventStore& store_;
    SalesAppSettings settings_;
};

}  // namespace gatehouse::sales
