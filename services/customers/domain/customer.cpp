#include "domain/customer.h"

#include <algorithm>
#include <cctype>

#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {
namespace {

using kernel::Decision;
using kernel::Rejection;
using kernel::RejectionCode;
using Events = std::vector<v1::CustomerEvent>;

Decision<v1::CustomerEvent> nothing() { return Events{}; }

Rejection not_found(const std::string& what) {
    return Rejection{RejectionCode::not_found, what + ": no such customer"};
}

bool is_organization(const CustomerState& state) { return state.created.type() == v1::CUSTOMER_TYPE_ORGANIZATION; }

std::optional<Rejection> require_organization(const CustomerState& state) {
    if (!state.exists) {
        return Rejection{RejectionCode::not_found, "organization_customer_id: no such customer"};
    }
    if (!is_organization(state)) {
        return Rejection{RejectionCode::failed_precondition,
                         "customer " + state.created.customer_id() + " is a Person; only an Organization has this"};
    }
    return std::nullopt;
}

std::int64_t nanos(Clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

Decision<v1::CustomerEvent> decide_create(const CreateCustomer& command, const CustomerState& state) {
    if (state.exists) {
        return Rejection{RejectionCode::already_exists, "customer " + state.created.customer_id() + " exists"};
    }
    v1::CustomerEvent created;
    *created.mutable_customer_created() = command.created;
    return Events{created};
}

Decision<v1::CustomerEvent> decide_update(const UpdateCustomer& command, const CustomerState& state) {
    if (!state.exists) {
        return not_found("customer_id");
    }
    if (nanos(command.changed_at) <= 0) {
        return Rejection{RejectionCode::invalid_argument, "changed_at: is required"};
    }
    FieldStamp incoming{nanos(command.changed_at), command.side};
    if (command.side == Side::customers) {
        // Rule 4: a local edit overwrites what the user sees (replication.h).
        std::vector<FieldStamp> stored;
        for (const std::string& field : command.fields) {
            if (const auto found = state.stamps.find(field); found != state.stamps.end()) {
                stored.push_back(found->second);
            }
        }
        incoming = platform::replication::local_edit_stamp(incoming, stored);
    }
    v1::CustomerEvent event;
    auto& updated = *event.mutable_customer_updated();
    for (const std::string& field : command.fields) {
        if (!field_applies(state.created.type(), field)) {
            if (command.side == Side::customers) {
                return Rejection{RejectionCode::invalid_argument,
                                 "fields: " + field + " is not a field of this customer type"};
            }
            continue;  // the CRM may send fields we do not keep for this type
        }
        const auto stored = state.stamps.find(field);
        if (!platform::replication::wins(
                incoming, stored == state.stamps.end() ? std::nullopt : std::optional<FieldStamp>(stored->second))) {
            continue;  // the stored value is the later write (docs/replication.md rule 2)
        }
        // A local edit to the same value is no write; a replicated one still records its stamp,
        // so that both sides keep the same stamp for the field and converge.
        if (command.side == Side::customers &&
            field_value(state.details, field) == field_value(command.details, field)) {
            continue;
        }
        if (std::find(updated.changed_fields().begin(), updated.changed_fields().end(), field) !=
            updated.changed_fields().end()) {
            continue;
        }
        updated.add_changed_fields(field);
        copy_field(command.details, *updated.mutable_details(), field);
    }
    if (updated.changed_fields().empty()) {
        return nothing();  // rule 3: nothing applied, nothing published
    }
    updated.set_customer_id(state.created.customer_id());
    updated.set_type(state.created.type());
    *updated.mutable_changed_at() = platform::replication::changed_at_of(incoming);
    updated.set_origin(platform::replication::origin_of(command.side, Side::customers));
    updated.set_crm_account_id(state.created.crm_account_id());
    updated.set_crm_contact_id(state.created.crm_contact_id());
    updated.set_changed_by(command.changed_by);
    return Events{event};
}

Decision<v1::CustomerEvent> decide_link(const LinkToCrm& command, const CustomerState& state) {
    if (!state.exists) {
        return not_found("customer_id");
    }
    const bool organization = is_organization(state);
    const std::string& wanted = organization ? command.crm_account_id : command.crm_contact_id;
    const std::string& current = organization ? state.created.crm_account_id() : state.created.crm_contact_id();
    if (wanted.empty()) {
        return Rejection{RejectionCode::invalid_argument, "the CRM id for this customer type is missing"};
    }
    if (current == wanted) {
        return nothing();
    }
    if (!current.empty()) {
        return Rejection{RejectionCode::failed_precondition,
                         "customer " + state.created.customer_id() + " is linked to CRM record " + current};
    }
    v1::CustomerEvent event;
    auto& linked = *event.mutable_linked_to_crm();
    linked.set_customer_id(state.created.customer_id());
    linked.set_crm_account_id(command.crm_account_id);
    linked.set_crm_contact_id(organization ? std::string() : command.crm_contact_id);
    return Events{event};
}

Decision<v1::CustomerEvent> decide_block(const BlockCustomer& command, const CustomerState& state) {
    if (!state.exists) {
        return not_found("customer_id");
    }
    if (state.blocked == command.blocked) {
        return nothing();
    }
    v1::CustomerEvent event;
    if (command.blocked) {
        if (command.reason.empty()) {
            return Rejection{RejectionCode::invalid_argument, "reason: is required to block a customer"};
        }
        auto& blocked = *event.mutable_blocked();
        blocked.set_customer_id(state.created.customer_id());
        blocked.set_reason(command.reason);
        blocked.set_blocked_by(command.by);
    } else {
        event.mutable_unblocked()->set_customer_id(state.created.customer_id());
        event.mutable_unblocked()->set_unblocked_by(command.by);
    }
    return Events{event};
}

Decision<v1::CustomerEvent> decide_limits(const SetLimits& command, const CustomerState& state) {
    if (!state.exists) {
        return not_found("customer_id");
    }
    Events events;
    const bool credit_unchanged = command.credit_limit.value_or(state.credit_limit).SerializeAsString() ==
                                      state.credit_limit.SerializeAsString() &&
                                  command.payment_terms.value_or(state.payment_terms) == state.payment_terms;
    if ((command.credit_limit || command.payment_terms) && !credit_unchanged) {
        if (!is_organization(state)) {
            return Rejection{RejectionCode::invalid_argument,
                             "credit_limit: credit limit and payment terms are for an Organization"};
        }
        v1::CustomerEvent& event = events.emplace_back();
        auto& set = *event.mutable_credit_limit_set();
        set.set_customer_id(state.created.customer_id());
        *set.mutable_credit_limit() = command.credit_limit.value_or(state.credit_limit);
        set.set_payment_terms(command.payment_terms.value_or(state.payment_terms));
        set.set_set_by(command.by);
    }
    if (command.spending_limit &&
        command.spending_limit->SerializeAsString() != state.spending_limit.SerializeAsString()) {
        if (is_organization(state)) {
            return Rejection{RejectionCode::invalid_argument, "spending_limit: a spending limit is for a Person"};
        }
        v1::CustomerEvent& event = events.emplace_back();
        auto& set = *event.mutable_spending_limit_set();
        set.set_customer_id(state.created.customer_id());
        *set.mutable_spending_limit() = *command.spending_limit;
        set.set_set_by(command.by);
    }
    for (const auto& money : {command.credit_limit, command.spending_limit}) {
        if (money && money->minor_units() < 0) {
            return Rejection{RejectionCode::invalid_argument, "limit: must not be negative"};
        }
    }
    return events;
}

v1::CustomerEvent member_added(const std::string& hierarchy_id, const std::string& customer_id,
                               const std::string& organization) {
    v1::CustomerEvent event;
    auto& added = *event.mutable_member_added();
    added.set_hierarchy_id(hierarchy_id);
    added.set_customer_id(customer_id);
    added.set_organization_customer_id(organization);
    return event;
}

v1::CustomerEvent invitation_event(v1::InvitationIssued invitation, const CustomerState& state,
                                   const PartnerUserState& user_state, const v1::PartnerUserAdded& user) {
    v1::CustomerEvent event;
    invitation.set_user_id(user.user_id());
    invitation.set_customer_id(user.customer_id());
    invitation.set_organization_customer_id(state.created.customer_id());
    invitation.set_organization_name(state.details.name());
    invitation.set_email(user.email());
    invitation.set_first_name(user.first_name());
    invitation.set_last_name(user.last_name());
    invitation.set_resend_count(user_state.resend_count);
    *event.mutable_invitation_issued() = std::move(invitation);
    return event;
}

Decision<v1::CustomerEvent> decide_onboard(const OnboardPartner& command, const CustomerState& state) {
    if (!state.onboarded_request.empty()) {
        return nothing();  // one partner per organization: a second approval changes nothing
    }
    Events events;
    CustomerState organization = state;
    if (command.organization) {
        if (state.exists) {
            return Rejection{RejectionCode::already_exists, "customer " + state.created.customer_id() + " exists"};
        }
        v1::CustomerEvent& created = events.emplace_back();
        *created.mutable_customer_created() = *command.organization;
        organization = Customer::evolve(organization, created);
    }
    if (auto problem = require_organization(organization)) {
        return *problem;
    }
    const std::string& org_id = organization.created.customer_id();
    v1::CustomerEvent hierarchy;
    hierarchy.mutable_hierarchy_created()->set_hierarchy_id(command.hierarchy_id);
    hierarchy.mutable_hierarchy_created()->set_name(organization.details.name());
    hierarchy.mutable_hierarchy_created()->set_organization_customer_id(org_id);
    hierarchy.mutable_hierarchy_created()->set_created_by("onboarding");
    events.push_back(hierarchy);
    events.push_back(member_added(command.hierarchy_id, org_id, org_id));
    events.push_back(member_added(command.hierarchy_id, command.admin.customer_id(), org_id));
    v1::CustomerEvent added;
    *added.mutable_user_added() = command.admin;
    added.mutable_user_added()->set_organization_customer_id(org_id);
    added.mutable_user_added()->set_administrator(true);
    events.push_back(added);
    v1::CustomerEvent activated;
    activated.mutable_user_activated()->set_user_id(command.admin.user_id());
    activated.mutable_user_activated()->set_customer_id(command.admin.customer_id());
    activated.mutable_user_activated()->set_organization_customer_id(org_id);
    events.push_back(activated);
    v1::InvitationIssued invitation = command.invitation;
    invitation.set_kind(v1::INVITATION_KIND_ADMIN_ON_APPROVAL);
    invitation.set_request_number(command.request_number);
    events.push_back(invitation_event(invitation, organization, PartnerUserState{}, added.user_added()));
    v1::CustomerEvent onboarded;
    auto& body = *onboarded.mutable_partner_onboarded();
    body.set_organization_customer_id(org_id);
    body.set_request_number(command.request_number);
    body.set_admin_customer_id(command.admin.customer_id());
    body.set_admin_user_id(command.admin.user_id());
    events.push_back(onboarded);
    return events;
}

Decision<v1::CustomerEvent> decide_create_hierarchy(const CreateHierarchy& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    if (state.hierarchies.count(command.hierarchy_id) > 0) {
        return nothing();
    }
    if (command.name.empty() || command.name.size() > 200) {
        return Rejection{RejectionCode::invalid_argument, "name: is required (at most 200 characters)"};
    }
    v1::CustomerEvent event;
    auto& created = *event.mutable_hierarchy_created();
    created.set_hierarchy_id(command.hierarchy_id);
    created.set_name(command.name);
    created.set_organization_customer_id(state.created.customer_id());
    created.set_created_by(command.by);
    return Events{event, member_added(command.hierarchy_id, state.created.customer_id(), state.created.customer_id())};
}

Decision<v1::CustomerEvent> decide_change_member(const ChangeMember& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const auto hierarchy = state.hierarchies.find(command.hierarchy_id);
    if (hierarchy == state.hierarchies.end()) {
        return Rejection{RejectionCode::not_found, "hierarchy_id: no such hierarchy"};
    }
    const auto& members = hierarchy->second.members;
    const bool member = std::find(members.begin(), members.end(), command.customer_id) != members.end();
    if (member == command.add) {
        return nothing();
    }
    if (command.add) {
        return Events{member_added(command.hierarchy_id, command.customer_id, state.created.customer_id())};
    }
    v1::CustomerEvent event;
    auto& removed = *event.mutable_member_removed();
    removed.set_hierarchy_id(command.hierarchy_id);
    removed.set_customer_id(command.customer_id);
    removed.set_organization_customer_id(state.created.customer_id());
    return Events{event};
}

Decision<v1::CustomerEvent> decide_add_user(const AddPartnerUser& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    if (state.blocked) {
        return Rejection{RejectionCode::failed_precondition, "the organization is blocked"};
    }
    if (state.user(command.user.user_id()) != nullptr) {
        return nothing();
    }
    if (state.user_by_email(command.user.email()) != nullptr) {
        return Rejection{RejectionCode::already_exists, "email: a user of this organization has this email"};
    }
    // A removed user's Person may get a new web account (a new user id: the removed one keeps its
    // history); a Person has at most one live account per organisation.
    if (state.user_by_customer(command.user.customer_id()) != nullptr) {
        return Rejection{RejectionCode::already_exists, "customer_id: the person has a web account already"};
    }
    v1::CustomerEvent event;
    *event.mutable_user_added() = command.user;
    event.mutable_user_added()->set_organization_customer_id(state.created.customer_id());
    event.mutable_user_added()->set_administrator(false);
    return Events{event};
}

Decision<v1::CustomerEvent> decide_activate_user(const ActivatePartnerUser& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const PartnerUserState* user = state.user(command.user_id);
    if (user == nullptr) {
        return Rejection{RejectionCode::not_found, "user_id: no such user"};
    }
    if (user->status != UserStatus::pending) {
        return nothing();
    }
    Events events;
    v1::CustomerEvent activated;
    activated.mutable_user_activated()->set_user_id(command.user_id);
    activated.mutable_user_activated()->set_customer_id(user->user.customer_id());
    activated.mutable_user_activated()->set_organization_customer_id(state.created.customer_id());
    if (!state.hierarchies.empty()) {
        // Into the organisation's first hierarchy (the one created on approval).
        const auto& [hierarchy_id, hierarchy] = *state.hierarchies.begin();
        if (std::find(hierarchy.members.begin(), hierarchy.members.end(), user->user.customer_id()) ==
            hierarchy.members.end()) {
            events.push_back(member_added(hierarchy_id, user->user.customer_id(), state.created.customer_id()));
        }
    }
    events.push_back(activated);
    v1::InvitationIssued invitation = command.invitation;
    invitation.set_kind(v1::INVITATION_KIND_PARTNER_USER);
    events.push_back(invitation_event(invitation, state, *user, user->user));
    return events;
}

const PartnerUserState* live_user(const CustomerState& state, const std::string& user_id) {
    const PartnerUserState* user = state.user(user_id);
    return user == nullptr || user->status == UserStatus::removed ? nullptr : user;
}

Decision<v1::CustomerEvent> decide_update_user(const UpdatePartnerUser& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    if (live_user(state, command.update.user_id()) == nullptr) {
        return Rejection{RejectionCode::not_found, "user_id: no such user"};
    }
    v1::CustomerEvent event;
    *event.mutable_user_updated() = command.update;
    event.mutable_user_updated()->set_organization_customer_id(state.created.customer_id());
    return Events{event};
}

Decision<v1::CustomerEvent> decide_remove_user(const RemovePartnerUser& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const PartnerUserState* user = state.user(command.user_id);
    if (user == nullptr) {
        return Rejection{RejectionCode::not_found, "user_id: no such user"};
    }
    if (user->status == UserStatus::removed) {
        return nothing();
    }
    if (command.user_id == state.admin_user_id) {
        return Rejection{RejectionCode::failed_precondition,
                         "the administrator cannot be removed; HQ changes the administrator first"};
    }
    Events events;
    for (const auto& [hierarchy_id, hierarchy] : state.hierarchies) {
        if (std::find(hierarchy.members.begin(), hierarchy.members.end(), user->user.customer_id()) !=
            hierarchy.members.end()) {
            v1::CustomerEvent& event = events.emplace_back();
            auto& removed = *event.mutable_member_removed();
            removed.set_hierarchy_id(hierarchy_id);
            removed.set_customer_id(user->user.customer_id());
            removed.set_organization_customer_id(state.created.customer_id());
        }
    }
    v1::CustomerEvent& event = events.emplace_back();
    auto& removed = *event.mutable_user_removed();
    removed.set_user_id(command.user_id);
    removed.set_email(user->user.email());
    removed.set_first_name(user->user.first_name());
    removed.set_last_name(user->user.last_name());
    removed.set_organization_customer_id(state.created.customer_id());
    removed.set_organization_name(state.details.name());
    removed.set_removed_by(command.by);
    removed.set_customer_id(user->user.customer_id());
    return events;
}

Decision<v1::CustomerEvent> decide_invitation(const ChangeInvitation& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const PartnerUserState* user = live_user(state, command.user_id);
    if (user == nullptr) {
        return Rejection{RejectionCode::not_found, "user_id: no such user"};
    }
    if (user->status != UserStatus::active) {
        return Rejection{RejectionCode::failed_precondition, "the user is not Active yet"};
    }
    if (!command.reissue) {
        if (user->invitation_id.empty()) {
            return nothing();
        }
        v1::CustomerEvent event;
        auto& revoked = *event.mutable_invitation_revoked();
        revoked.set_user_id(command.user_id);
        revoked.set_invitation_id(user->invitation_id);
        revoked.set_organization_customer_id(state.created.customer_id());
        revoked.set_revoked_by(command.by);
        return Events{event};
    }
    if (!user->credential_id.empty() && !command.credential_lost) {
        return Rejection{RejectionCode::failed_precondition,
                         "the user has set a password already (they can reset it with RequestPasswordReset)"};
    }
    v1::InvitationIssued invitation = *command.reissue;
    invitation.set_kind(command.user_id == state.admin_user_id && !state.onboarded_request.empty()
                            ? v1::INVITATION_KIND_ADMIN_ON_APPROVAL
                            : v1::INVITATION_KIND_PARTNER_USER);
    if (invitation.kind() == v1::INVITATION_KIND_ADMIN_ON_APPROVAL) {
        invitation.set_request_number(state.onboarded_request);
    }
    PartnerUserState next = *user;
    next.resend_count = user->resend_count + 1;
    return Events{invitation_event(invitation, state, next, user->user)};
}

Decision<v1::CustomerEvent> decide_reset(const ResetPassword& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const PartnerUserState* user = live_user(state, command.user_id);
    if (user == nullptr) {
        return Rejection{RejectionCode::not_found, "user_id: no such user"};
    }
    if (user->status != UserStatus::active || state.blocked) {
        return Rejection{RejectionCode::failed_precondition, "only an Active user of a partner that is not blocked"};
    }
    v1::InvitationIssued invitation = command.invitation;
    invitation.set_kind(v1::INVITATION_KIND_PASSWORD_RESET);
    PartnerUserState next = *user;
    next.resend_count = user->resend_count + 1;
    return Events{invitation_event(invitation, state, next, user->user)};
}

Decision<v1::CustomerEvent> decide_sync_users(const SyncUsersWithPerson& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const std::string email = platform::to_lower(command.details.email());
    Events events;
    for (const auto& [user_id, user] : state.users) {
        if (user.status == UserStatus::removed || user.user.customer_id() != command.customer_id) {
            continue;
        }
        const bool email_changed = !email.empty() && email != platform::to_lower(user.user.email());
        if (email_changed) {
            const PartnerUserState* other = state.user_by_email(email);
            if (other != nullptr && other->user.user_id() != user_id) {
                return Rejection{RejectionCode::already_exists,
                                 "details.email: another web account of the organization has this email"};
            }
        }
        if (!email_changed && user.user.first_name() == command.details.first_name() &&
            user.user.last_name() == command.details.last_name() &&
            user.user.job_title() == command.details.job_title()) {
            continue;
        }
        v1::CustomerEvent& event = events.emplace_back();
        auto& updated = *event.mutable_user_updated();
        updated.set_user_id(user_id);
        updated.set_organization_customer_id(state.created.customer_id());
        updated.set_first_name(command.details.first_name());
        updated.set_last_name(command.details.last_name());
        updated.set_job_title(command.details.job_title());
        *updated.mutable_spending_limit() = user.user.spending_limit();
        *updated.mutable_permissions() = user.user.permissions();
        updated.set_updated_by(command.by);
        if (email_changed) {
            updated.set_email(email);
        }
    }
    return events;
}

Decision<v1::CustomerEvent> decide_deal_outcome(const RecordDealOutcome& command, const CustomerState& state) {
    if (!state.exists) {
        return not_found("customer_id");
    }
    if (state.partner_status != v1::PARTNER_STATUS_PROSPECTIVE) {
        return nothing();  // waits for no deal, or it was recorded already (a redelivery)
    }
    v1::CustomerEvent event;
    auto& changed = *event.mutable_partner_status_changed();
    changed.set_customer_id(state.created.customer_id());
    changed.set_type(state.created.type());
    changed.set_partner_status(command.won ? v1::PARTNER_STATUS_PARTNER : v1::PARTNER_STATUS_CLOSED);
    changed.set_previous_partner_status(state.partner_status);
    changed.set_prospect_request_number(command.request_number);
    changed.set_opportunity_id(command.opportunity_id);
    changed.set_reason(command.reason);
    changed.set_decided_by(command.decided_by);
    *changed.mutable_decided_at() = kernel::to_timestamp(command.decided_at);
    return Events{event};
}

Decision<v1::CustomerEvent> decide_expire(const ExpireInvitations& command, const CustomerState& state) {
    Events events;
    for (const auto& [user_id, user] : state.users) {
        if (!user.invitation_id.empty() && command.now > user.invitation_expires_at) {
            v1::CustomerEvent& event = events.emplace_back();
            event.mutable_invitation_expired()->set_user_id(user_id);
            event.mutable_invitation_expired()->set_organization_customer_id(state.created.customer_id());
        }
    }
    return events;
}

Decision<v1::CustomerEvent> decide_set_password(const SetPassword& command, const CustomerState& state) {
    // One answer for every way a link can be wrong: the caller learns nothing about which.
    const Rejection invalid{RejectionCode::invalid_argument, "token: the link is invalid or has expired"};
    const PartnerUserState* user = live_user(state, command.user_id);
    if (user == nullptr || user->status != UserStatus::active || user->invitation_id.empty() ||
        user->invitation_id != command.invitation_id || command.now > user->invitation_expires_at) {
        return invalid;
    }
    v1::CustomerEvent event;
    auto& set = *event.mutable_password_set();
    set.set_user_id(command.user_id);
    *set.mutable_set_at() = kernel::to_timestamp(command.now);
    set.set_organization_customer_id(state.created.customer_id());
    set.set_credential_id(command.credential_id);
    return Events{event};
}

v1::PersonRef person_ref(const PartnerUserState& user) {
    v1::PersonRef ref;
    ref.set_user_id(user.user.user_id());
    ref.set_email(user.user.email());
    ref.set_first_name(user.user.first_name());
    ref.set_last_name(user.user.last_name());
    ref.set_customer_id(user.user.customer_id());
    return ref;
}

Decision<v1::CustomerEvent> decide_change_admin(const ChangeAdministrator& command, const CustomerState& state) {
    if (auto problem = require_organization(state)) {
        return *problem;
    }
    const PartnerUserState* next = live_user(state, command.new_admin_user_id);
    if (next == nullptr) {
        return Rejection{RejectionCode::not_found, "new_admin_user_id: no such user in this organization"};
    }
    if (next->status != UserStatus::active) {
        return Rejection{RejectionCode::failed_precondition, "the new administrator must be an Active user"};
    }
    if (command.new_admin_user_id == state.admin_user_id) {
        return nothing();
    }
    v1::CustomerEvent event;
    auto& changed = *event.mutable_administrator_changed();
    changed.set_organization_customer_id(state.created.customer_id());
    changed.set_organization_name(state.details.name());
    if (const PartnerUserState* old = state.user(state.admin_user_id)) {
        *changed.mutable_old_admin() = person_ref(*old);
    }
    *changed.mutable_new_admin() = person_ref(*next);
    changed.set_changed_by(command.by);
    return Events{event};
}

void apply_details(CustomerState& state, const v1::CustomerDetails& details, const std::vector<std::string>& fields,
                   FieldStamp stamp) {
    for (const std::string& field : fields) {
        copy_field(details, state.details, field);
        state.stamps[field] = stamp;
    }
}

}  // namespace

const std::vector<std::string>& replicated_fields() {
    static const std::vector<std::string> fields = {"name",    "phone",      "email",     "website",  "tax_id",
                                                    "address", "first_name", "last_name", "job_title"};
    return fields;
}

bool is_replicated_field(const std::string& name) {
    const auto& fields = replicated_fields();
    return std::find(fields.begin(), fields.end(), name) != fields.end();
}

bool field_applies(v1::CustomerType type, const std::string& name) {
    if (type == v1::CUSTOMER_TYPE_ORGANIZATION) {
        return name == "name" || name == "phone" || name == "email" || name == "website" || name == "tax_id" ||
               name == "address";
    }
    return name == "first_name" || name == "last_name" || name == "email" || name == "phone" || name == "job_title";
}

std::string field_value(const v1::CustomerDetails& details, const std::string& name) {
    if (name == "name") return details.name();
    if (name == "phone") return details.phone();
    if (name == "email") return details.email();
    if (name == "website") return details.website();
    if (name == "tax_id") return details.tax_id();
    if (name == "address") return details.address().SerializeAsString();
    if (name == "first_name") return details.first_name();
    if (name == "last_name") return details.last_name();
    if (name == "job_title") return details.job_title();
    return {};
}

void copy_field(const v1::CustomerDetails& from, v1::CustomerDetails& to, const std::string& name) {
    if (name == "name") to.set_name(from.name());
    if (name == "phone") to.set_phone(from.phone());
    if (name == "email") to.set_email(from.email());
    if (name == "website") to.set_website(from.website());
    if (name == "tax_id") to.set_tax_id(from.tax_id());
    if (name == "address") *to.mutable_address() = from.address();
    if (name == "first_name") to.set_first_name(from.first_name());
    if (name == "last_name") to.set_last_name(from.last_name());
    if (name == "job_title") to.set_job_title(from.job_title());
}

const PartnerUserState* CustomerState::user(const std::string& user_id) const {
    const auto it = users.find(user_id);
    return it == users.end() ? nullptr : &it->second;
}

const PartnerUserState* CustomerState::user_by_email(const std::string& email) const {
    const std::string wanted = platform::to_lower(email);
    for (const auto& [id, user] : users) {
        if (user.status != UserStatus::removed && platform::to_lower(user.user.email()) == wanted) {
            return &user;
        }
    }
    return nullptr;
}

const PartnerUserState* CustomerState::user_by_customer(const std::string& customer_id) const {
    for (const auto& [id, user] : users) {
        if (user.status != UserStatus::removed && user.user.customer_id() == customer_id) {
            return &user;
        }
    }
    return nullptr;
}

bool CustomerState::has_member(const std::string& customer_id) const {
    return std::any_of(hierarchies.begin(), hierarchies.end(), [&](const auto& hierarchy) {
        const auto& members = hierarchy.second.members;
        return std::find(members.begin(), members.end(), customer_id) != members.end();
    });
}

kernel::Decision<v1::CustomerEvent> Customer::decide(const Command& command, const State& state) {
    return std::visit(
        [&](const auto& c) -> kernel::Decision<v1::CustomerEvent> {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, CreateCustomer>) {
                return decide_create(c, state);
            } else if constexpr (std::is_same_v<C, UpdateCustomer>) {
                return decide_update(c, state);
            } else if constexpr (std::is_same_v<C, LinkToCrm>) {
                return decide_link(c, state);
            } else if constexpr (std::is_same_v<C, BlockCustomer>) {
                return decide_block(c, state);
            } else if constexpr (std::is_same_v<C, SetLimits>) {
                return decide_limits(c, state);
            } else if constexpr (std::is_same_v<C, OnboardPartner>) {
                return decide_onboard(c, state);
            } else if constexpr (std::is_same_v<C, CreateHierarchy>) {
                return decide_create_hierarchy(c, state);
            } else if constexpr (std::is_same_v<C, ChangeMember>) {
                return decide_change_member(c, state);
            } else if constexpr (std::is_same_v<C, AddPartnerUser>) {
                return decide_add_user(c, state);
            } else if constexpr (std::is_same_v<C, ActivatePartnerUser>) {
                return decide_activate_user(c, state);
            } else if constexpr (std::is_same_v<C, UpdatePartnerUser>) {
                return decide_update_user(c, state);
            } else if constexpr (std::is_same_v<C, RemovePartnerUser>) {
                return decide_remove_user(c, state);
            } else if constexpr (std::is_same_v<C, ChangeInvitation>) {
                return decide_invitation(c, state);
            } else if constexpr (std::is_same_v<C, ExpireInvitations>) {
                return decide_expire(c, state);
            } else if constexpr (std::is_same_v<C, SetPassword>) {
                return decide_set_password(c, state);
            } else if constexpr (std::is_same_v<C, ChangeAdministrator>) {
                return decide_change_admin(c, state);
            } else if constexpr (std::is_same_v<C, ResetPassword>) {
                return decide_reset(c, state);
            } else if constexpr (std::is_same_v<C, RecordDealOutcome>) {
                return decide_deal_outcome(c, state);
            } else {
                return decide_sync_users(c, state);
            }
        },
        command);
}

CustomerState Customer::evolve(State state, const Event& event) {
    switch (event.event_case()) {
        case Event::kCustomerCreated: {
            const auto& created = event.customer_created();
            state.exists = true;
            state.created = created;
            state.details = created.details();
            state.created.clear_details();
            state.partner_status = created.partner_status();
            const FieldStamp stamp = platform::replication::stamp_of(
                created.changed_at(), platform::replication::side_of(created.origin(), Side::customers));
            for (const std::string& field : replicated_fields()) {
                if (field_applies(created.type(), field)) {
                    state.stamps[field] = stamp;
                }
            }
            break;
        }
        case Event::kCustomerUpdated: {
            const auto& updated = event.customer_updated();
            apply_details(state, updated.details(), {updated.changed_fields().begin(), updated.changed_fields().end()},
                          platform::replication::stamp_of(
                              updated.changed_at(), platform::replication::side_of(updated.origin(), Side::customers)));
            if (state.created.type() == v1::CUSTOMER_TYPE_PERSON) {
                state.details.set_name(state.details.first_name() + " " + state.details.last_name());
            }
            break;
        }
        case Event::kLinkedToCrm:
            if (!event.linked_to_crm().crm_account_id().empty()) {
                state.created.set_crm_account_id(event.linked_to_crm().crm_account_id());
            }
            if (!event.linked_to_crm().crm_contact_id().empty()) {
                state.created.set_crm_contact_id(event.linked_to_crm().crm_contact_id());
            }
            break;
        case Event::kBlocked:
            state.blocked = true;
            break;
        case Event::kUnblocked:
            state.blocked = false;
            break;
        case Event::kCreditLimitSet:
            state.credit_limit = event.credit_limit_set().credit_limit();
            state.payment_terms = event.credit_limit_set().payment_terms();
            break;
        case Event::kSpendingLimitSet:
            state.spending_limit = event.spending_limit_set().spending_limit();
            break;
        case Event::kHierarchyCreated:
            state.hierarchies[event.hierarchy_created().hierarchy_id()].name = event.hierarchy_created().name();
            break;
        case Event::kMemberAdded:
            state.hierarchies[event.member_added().hierarchy_id()].members.push_back(
                event.member_added().customer_id());
            break;
        case Event::kMemberRemoved: {
            auto& members = state.hierarchies[event.member_removed().hierarchy_id()].members;
            members.erase(std::remove(members.begin(), members.end(), event.member_removed().customer_id()),
                          members.end());
            break;
        }
        case Event::kUserAdded: {
            PartnerUserState& user = state.users[event.user_added().user_id()];
            user.user = event.user_added();
            user.status = UserStatus::pending;
            if (event.user_added().administrator()) {
                state.admin_user_id = event.user_added().user_id();
            }
            break;
        }
        case Event::kUserActivated:
            state.users[event.user_activated().user_id()].status = UserStatus::active;
            break;
        case Event::kUserUpdated: {
            const auto& update = event.user_updated();
            auto& user = state.users[update.user_id()].user;
            user.set_first_name(update.first_name());
            user.set_last_name(update.last_name());
            user.set_job_title(update.job_title());
            *user.mutable_spending_limit() = update.spending_limit();
            *user.mutable_permissions() = update.permissions();
            if (!update.email().empty()) {
                user.set_email(update.email());
            }
            break;
        }
        case Event::kUserRemoved: {
            PartnerUserState& user = state.users[event.user_removed().user_id()];
            user.status = UserStatus::removed;
            user.invitation_id.clear();
            break;
        }
        case Event::kAdministratorChanged: {
            const auto& changed = event.administrator_changed();
            if (auto it = state.users.find(changed.old_admin().user_id()); it != state.users.end()) {
                it->second.user.set_administrator(false);
            }
            state.users[changed.new_admin().user_id()].user.set_administrator(true);
            state.admin_user_id = changed.new_admin().user_id();
            break;
        }
        case Event::kInvitationIssued: {
            const auto& issued = event.invitation_issued();
            PartnerUserState& user = state.users[issued.user_id()];
            user.invitation_id = issued.invitation_id();
            user.invitation_expires_at = kernel::to_time_point(issued.expires_at());
            user.resend_count = issued.resend_count();
            break;
        }
        case Event::kInvitationRevoked:
            state.users[event.invitation_revoked().user_id()].invitation_id.clear();
            break;
        case Event::kInvitationExpired:
            state.users[event.invitation_expired().user_id()].invitation_id.clear();
            break;
        case Event::kPasswordSet: {
            PartnerUserState& user = state.users[event.password_set().user_id()];
            user.credential_id = event.password_set().credential_id();
            user.invitation_id.clear();  // the link is used up
            break;
        }
        case Event::kPartnerOnboarded:
            state.onboarded_request = event.partner_onboarded().request_number();
            break;
        case Event::kPartnerStatusChanged:
            state.partner_status = event.partner_status_changed().partner_status();
            break;
        case Event::EVENT_NOT_SET:
            break;
    }
    return state;
}

}  // namespace gatehouse::customers
