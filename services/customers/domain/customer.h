// The Customer aggregate: an Organization or a Person customer, keyed by its customer id.
//
// A Person's stream holds its master data. An Organization's stream also holds what belongs to
// the partner organisation as a whole, so that everything one partner action changes there is
// one commit: its hierarchies, its partner users (web accounts) with their invitations and
// password state, and its one administrator.
//
// Replicated fields (docs/replication.md) carry a stamp (changed_at, side) each; a change to a
// field is applied only when its stamp is greater than the stored one, ties going to the
// customers side. Both sides order the same changes the same way and so converge.
//
// Pure decider (no I/O, no clock: every command carries its time).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/platform/replication.h"

namespace gatehouse::customers {

using Clock = std::chrono::system_clock;

// The replication rule's stamp and sides (libs/platform replication.h): the same type sales-bridge
// uses, so that both order changes alike by construction.
using platform::replication::Side;
using FieldStamp = platform::replication::Stamp;

// The replicated field names, in the order of docs/replication.md.
const std::vector<std::string>& replicated_fields();
bool is_replicated_field(const std::string& name);
// The fields that apply to a customer type (Organization: name, phone, email, website, tax_id,
// address; Person: first_name, last_name, email, phone, job_title).
bool field_applies(v1::CustomerType type, const std::string& name);
// The value of one field, as comparable text (the address serialized).
std::string field_value(const v1::CustomerDetails& details, const std::string& name);
void copy_field(const v1::CustomerDetails& from, v1::CustomerDetails& to, const std::string& name);

enum class UserStatus { pending, active, removed };

struct PartnerUserState final {
    v1::PartnerUserAdded user;  // names, job title, limits and permissions as they stand now
    UserStatus status = UserStatus::pending;
    std::string invitation_id;  // the open link; empty when none is open
    Clock::time_point invitation_expires_at{};
    unsigned resend_count = 0;
    std::string credential_id;  // names the stored password hash; empty until a password is set
};

struct HierarchyState final {
    std::string name;
    std::vector<std::string> members;  // customer ids, in the order they were added
};

struct CustomerState final {
    bool exists = false;
    v1::CustomerCreated created;  // identity, type, source, links
    v1::CustomerDetails details;  // current values
    std::map<std::string, FieldStamp> stamps;
    bool blocked = false;
    // PROSPECTIVE: replicated from a qualified lead whose opportunity is open (not yet a partner);
    // PARTNER / CLOSED once it was won / lost (RecordDealOutcome); UNSPECIFIED: waits for no deal.
    v1::PartnerStatus partner_status = v1::PARTNER_STATUS_UNSPECIFIED;
    common::v1::Money credit_limit;
    std::string payment_terms;
    common::v1::Money spending_limit;
    // Organization: the partner parts.
    std::string onboarded_request;  // the onboarding request that made it a partner, if any
    std::map<std::string, HierarchyState> hierarchies;
    std::map<std::string, PartnerUserState> users;
    std::string admin_user_id;

    [[nodiscard]] const PartnerUserState* user(const std::string& user_id) const;
    // The non-removed user with this (lower-case) email.
    [[nodiscard]] const PartnerUserState* user_by_email(const std::string& email) const;
    // The non-removed user whose Person customer this is.
    [[nodiscard]] const PartnerUserState* user_by_customer(const std::string& customer_id) const;
    // Is this customer a member of one of the organisation's hierarchies?
    [[nodiscard]] bool has_member(const std::string& customer_id) const;
};

struct CreateCustomer {
    v1::CustomerCreated created;  // complete: id, type, details, source, origin, changed_at
};

// A change of replicated fields, from HQ (side customers, origin LOCAL) or from the CRM (side
// sales, published as REPLICATED).
struct UpdateCustomer {
    v1::CustomerDetails details;
    std::vector<std::string> fields;
    Clock::time_point changed_at;
    Side side = Side::customers;
    std::string changed_by;
};

// Links an existing customer (e.g. one created on a direct approval) to its CRM record.
struct LinkToCrm {
    std::string crm_account_id;
    std::string crm_contact_id;
};

struct BlockCustomer {
    bool blocked = true;
    std::string reason;
    std::string by;
};

struct SetLimits {
    std::optional<common::v1::Money> credit_limit;
    std::optional<std::string> payment_terms;
    std::optional<common::v1::Money> spending_limit;
    std::string by;
};

// A prospect approval: the Organization (created here unless it was replicated from the CRM),
// its hierarchy with the admin's Person customer, the admin's web account and invitation.
struct OnboardPartner {
    std::optional<v1::CustomerCreated> organization;  // set when the organization is new
    std::string request_number;
    std::string hierarchy_id;
    v1::PartnerUserAdded admin;       // user id, customer id, names, email
    v1::InvitationIssued invitation;  // sealed token, invitation id, expiry
};

struct CreateHierarchy {
    std::string hierarchy_id;
    std::string name;
    std::string by;
};

struct ChangeMember {
    std::string hierarchy_id;
    std::string customer_id;
    bool add = true;
};

struct AddPartnerUser {
    v1::PartnerUserAdded user;  // user id and customer id allocated, Pending
};

// The user's Person customer exists: into the (first) hierarchy, Active, invited.
struct ActivatePartnerUser {
    std::string user_id;
    v1::InvitationIssued invitation;
};

struct UpdatePartnerUser {
    v1::PartnerUserUpdated update;
};

struct RemovePartnerUser {
    std::string user_id;
    std::string by;
};

// A new link (the old one stops working), or the open link revoked. A user who has set a password
// gets no new invitation, unless `credential_lost`: the app found no stored hash for their
// credential (a log rebuilt from the topic has none), so a new link is all they need.
struct ChangeInvitation {
    std::string user_id;
    std::optional<v1::InvitationIssued> reissue;  // nullopt: revoke
    std::string by;
    bool credential_lost = false;
};

// "Forgot password": a set-password link (INVITATION_KIND_PASSWORD_RESET) for an Active user of
// an organisation that is not blocked. Replaces any open link.
struct ResetPassword {
    std::string user_id;
    v1::InvitationIssued invitation;
};

// The web accounts of a Person customer follow its master data (an HQ edit or a CRM contact
// change): names, job title and the sign-in email of every live user with this customer id.
struct SyncUsersWithPerson {
    std::string customer_id;
    v1::CustomerDetails details;  // the Person's current first_name, last_name, email, job_title
    std::string by;
};

struct ExpireInvitations {
    Clock::time_point now;
};

struct SetPassword {
    std::string user_id;
    std::string invitation_id;
    std::string credential_id;
    Clock::time_point now;
};

struct ChangeAdministrator {
    std::string new_admin_user_id;
    std::string by;
};

// The CRM opportunity of a PROSPECTIVE customer was won (PARTNER) or lost (CLOSED). A customer that
// waits for no deal, or whose deal was recorded already, changes nothing.
struct RecordDealOutcome {
    bool won = false;
    std::string request_number;
    std::string opportunity_id;
    std::string reason;      // lost: the opportunity's reason
    std::string decided_by;  // who closed the opportunity
    Clock::time_point decided_at;
};

struct Customer final {
    using Event = v1::CustomerEvent;
    using Command = std::variant<CreateCustomer, UpdateCustomer, LinkToCrm, BlockCustomer, SetLimits, OnboardPartner,
                                 CreateHierarchy, ChangeMember, AddPartnerUser, ActivatePartnerUser, UpdatePartnerUser,
                                 RemovePartnerUser, ChangeInvitation, ExpireInvitations, SetPassword,
                                 ChangeAdministrator, ResetPassword, SyncUsersWithPerson, RecordDealOutcome>;
    using State = CustomerState;
    static constexpr std::string_view kAggregateType = "customer";

    static State initial() { return {}; }
    static kernel::Decision<Event> decide(const Command& command, const State& state);
    static State evolve(State state, const Event& event);
};

static_assert(kernel::Decider<Customer>);

}  // namespace gatehouse::customers
