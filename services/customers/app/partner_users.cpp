#include "app/partner_users.h"

#include <set>

#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {

Result PartnerUsers::add_partner_user(const std::string& organization_id, const NewPartnerUser& user,
                                      const std::string& by) {
    std::unique_lock lock(context_.person_emails());  // until the user's Person customer exists
    const auto organization = lookups_.customer(organization_id);
    if (!organization) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "organization_customer_id: no such organization"};
    }
    // An existing Person of this organisation gets the web account (seed 001: HQ creates the
    // people; seed 003: existing customers get web accounts), named by id or found by its email;
    // a removed user's Person is found so, and gets a new account (a new user id). A person of
    // another organisation is never used nor refused (that would tell this admin it exists): the
    // email simply becomes a new Person here, with a second account; sign-in tells the accounts
    // apart by their passwords.
    std::optional<CustomerState> person;
    if (!user.customer_id.empty()) {
        person = lookups_.customer(user.customer_id);
        if (!person || !lookups_.belongs_to(*person, *organization)) {
            return kernel::Rejection{kernel::RejectionCode::not_found,
                                     "customer_id: no such person in this organization"};
        }
        if (person->blocked || !platform::valid_email(person->details.email())) {
            return kernel::Rejection{kernel::RejectionCode::failed_precondition,
                                     "customer " + user.customer_id + " is blocked or has no valid email"};
        }
    } else {
        person = lookups_.person_in(user.email, *organization);
    }
    AddPartnerUser add;
    auto& added = add.user;
    added.set_user_id(user_numbers_.next());
    added.set_organization_customer_id(organization_id);
    if (person) {
        // The master data is the Person's: its names and email are the account's (they follow it).
        added.set_customer_id(person->created.customer_id());
        added.set_email(platform::to_lower(person->details.email()));
        added.set_first_name(person->details.first_name());
        added.set_last_name(person->details.last_name());
        added.set_job_title(user.job_title.empty() ? person->details.job_title() : user.job_title);
    } else {
        added.set_customer_id(customer_numbers_.next());
        added.set_email(platform::to_lower(user.email));
        added.set_first_name(user.first_name);
        added.set_last_name(user.last_name);
        added.set_job_title(user.job_title);
    }
    *added.mutable_spending_limit() = user.spending_limit;
    *added.mutable_permissions() = user.permissions;
    added.set_added_by(by);
    const std::string correlation = kernel::new_uuid_v7();
    auto pending = context_.customers().execute(organization_id, add, {.correlation_id = correlation, .actor = by});
    if (std::holds_alternative<kernel::Rejection>(pending)) {
        return pending;
    }
    if (!person) {
        // Provisioned as a Person customer of the organisation.
        CreateCustomer create;
        auto& created_person = create.created;
        created_person.set_customer_id(added.customer_id());
        created_person.set_type(v1::CUSTOMER_TYPE_PERSON);
        created_person.mutable_details()->set_first_name(user.first_name);
        created_person.mutable_details()->set_last_name(user.last_name);
        created_person.mutable_details()->set_name(user.first_name + " " + user.last_name);
        created_person.mutable_details()->set_email(platform::to_lower(user.email));
        created_person.mutable_details()->set_job_title(user.job_title);
        created_person.set_source(v1::CUSTOMER_SOURCE_HQ);
        created_person.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
        *created_person.mutable_changed_at() = kernel::to_timestamp(Clock::now());
        created_person.set_organization_customer_id(organization_id);
        // A Person's crm_account_id is its organisation's account: where the CRM puts its contact.
        created_person.set_crm_account_id(organization->created.crm_account_id());
        created_person.set_user_id(added.user_id());
        auto created =
            context_.customers().execute(added.customer_id(), create, {.correlation_id = correlation, .actor = by});
        if (std::holds_alternative<kernel::Rejection>(created)) {
            return created;
        }
    }
    lock.unlock();
    if (user.spending_limit.minor_units() > 0) {
        SetLimits limits;
        limits.spending_limit = user.spending_limit;
        limits.by = by;
        (void)context_.customers().execute(added.customer_id(), limits, {.correlation_id = correlation, .actor = by});
    }
    return context_.customers().execute(
        organization_id, ActivatePartnerUser{added.user_id(), invitations_.issue(organization_id, added.user_id())},
        {.correlation_id = correlation, .actor = by});
}

Result PartnerUsers::make_administrator(const std::string& organization_id, const std::string& person_id,
                                        const std::string& by) {
    const auto organization = lookups_.customer(organization_id);
    if (!organization || organization->created.type() != v1::CUSTOMER_TYPE_ORGANIZATION) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "organization_customer_id: no such organization"};
    }
    const auto person = lookups_.customer(person_id);
    if (!person || !lookups_.belongs_to(*person, *organization)) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "customer_id: no such person in this organization"};
    }
    const PartnerUserState* user = organization->user_by_customer(person_id);
    std::string user_id = user != nullptr ? user->user.user_id() : std::string();
    if (user == nullptr) {
        NewPartnerUser account;
        account.customer_id = person_id;
        auto added = add_partner_user(organization_id, account, by);
        if (std::holds_alternative<kernel::Rejection>(added)) {
            return added;
        }
        const auto now_organization = lookups_.customer(organization_id);
        const PartnerUserState* now_user = now_organization ? now_organization->user_by_customer(person_id) : nullptr;
        if (now_user == nullptr) {
            return kernel::Rejection{kernel::RejectionCode::unavailable, "the web account is not readable yet; retry"};
        }
        user_id = now_user->user.user_id();
    } else if (user->status == UserStatus::pending) {
        // An earlier add stopped before activation (a crash between its commits): finish it.
        auto activated = context_.execute(
            organization_id, ActivatePartnerUser{user_id, invitations_.issue(organization_id, user_id)}, by);
        if (std::holds_alternative<kernel::Rejection>(activated)) {
            return activated;
        }
    }
    return context_.execute(organization_id, ChangeAdministrator{user_id, by}, by);
}

Result PartnerUsers::set_administrator(const std::string& organization_id, const std::string& person_id,
                                       bool administrator, const std::string& by) {
    const auto organization = lookups_.customer(organization_id);
    const PartnerUserState* admin = organization ? organization->user(organization->admin_user_id) : nullptr;
    const bool is_admin = admin != nullptr && admin->user.customer_id() == person_id;
    if (administrator && !is_admin) {
        return make_administrator(organization_id, person_id, by);
    }
    if (!administrator && is_admin) {
        return kernel::Rejection{
            kernel::RejectionCode::failed_precondition,
            "b2b_admin: the organization keeps one administrator; set b2b_admin on another person instead"};
    }
    return kernel::Accepted<v1::CustomerEvent>{};
}

Result PartnerUsers::update_partner_user(const UserRef& user, const PartnerUserChange& change, const std::string& by) {
    const std::string& user_id = user.user.user.user_id();
    UpdatePartnerUser update;
    update.update.set_user_id(user_id);
    update.update.set_first_name(change.first_name);
    update.update.set_last_name(change.last_name);
    update.update.set_job_title(change.job_title);
    *update.update.mutable_spending_limit() = change.spending_limit;
    *update.update.mutable_permissions() = change.permissions;
    update.update.set_updated_by(by);
    auto result = context_.execute(user.organization_id, update, by);
    if (std::holds_alternative<kernel::Rejection>(result)) {
        return result;
    }
    // The user's Person customer follows (and the change goes to the CRM contact like an HQ edit).
    const std::string& person_id = user.user.user.customer_id();
    UpdateCustomer person;
    person.details.set_first_name(change.first_name);
    person.details.set_last_name(change.last_name);
    person.details.set_job_title(change.job_title);
    person.fields = {"first_name", "last_name", "job_title"};
    person.changed_at = Clock::now();
    person.side = Side::customers;
    person.changed_by = by;
    (void)context_.execute(person_id, person, by);
    SetLimits spending;
    spending.spending_limit = change.spending_limit;
    spending.by = by;
    (void)context_.execute(person_id, spending, by);
    return result;
}

Result PartnerUsers::sync_users(const CustomerState& next, const kernel::CommandContext& context) {
    std::set<std::string> organizations;
    constexpr std::size_t kAccountsPerPerson = 16;  // one per organisation: a Person belongs to one
    for (const kernel::IndexHit& hit : context_.customers().lookup(
             customer_index::kUserCustomer, kernel::IndexKey().text(next.created.customer_id()), kAccountsPerPerson)) {
        organizations.insert(hit.aggregate_id);
    }
    Result last = kernel::Accepted<v1::CustomerEvent>{};
    for (const std::string& organization_id : organizations) {
        SyncUsersWithPerson sync{next.created.customer_id(), next.details, context.actor};
        kernel::CommandContext sync_context = context;
        sync_context.inbox_key.clear();  // the inbox record goes with the Person's change
        sync_context.idempotency_key.clear();
        last = context_.customers().execute(organization_id, sync, sync_context);
        if (std::holds_alternative<kernel::Rejection>(last)) {
            return last;
        }
    }
    return last;
}

Result PartnerUsers::resend_invitation(const std::string& organization_id, const std::string& user_id,
                                       const std::string& by) {
    // A user whose stored hash is gone (a log rebuilt from the topic keeps no credentials) cannot
    // sign in: a new link is what they need, though PasswordSet names a credential.
    bool credential_lost = false;
    if (const auto organization = lookups_.customer(organization_id)) {
        if (const PartnerUserState* user = organization->user(user_id);
            user != nullptr && !user->credential_id.empty()) {
            credential_lost = !context_.store().read_metadata(credential_key(user_id, user->credential_id)).has_value();
        }
    }
    return context_.execute(
        organization_id, ChangeInvitation{user_id, invitations_.issue(organization_id, user_id), by, credential_lost},
        by);
}

std::size_t PartnerUsers::expire_invitations(Clock::time_point now) {
    // The organisations with an open invitation whose link expired before `now`, from the
    // time-ordered index: O(log n + due), however many invitations are open. In batches, so that
    // a backlog (e.g. after a long outage) is not held in memory at once.
    constexpr std::size_t kOrganizationsPerBatch = 1'000;
    const kernel::IndexKey until = expiry_key(now);
    std::size_t expired = 0;
    while (true) {
        std::set<std::string> due;
        context_.customers().visit_index(
            customer_index::kInvitationExpiry, {}, {},
            [&](const kernel::IndexHit& hit) {
                due.insert(hit.aggregate_id);
                return due.size() < kOrganizationsPerBatch;
            },
            &until);
        std::size_t in_batch = 0;
        for (const std::string& id : due) {
            auto result = context_.customers().execute(id, ExpireInvitations{now}, {.actor = "system"});
            if (const auto* accepted = std::get_if<kernel::Accepted<v1::CustomerEvent>>(&result)) {
                in_batch += accepted->events.size();
            }
        }
        expired += in_batch;
        // A full batch that closed something: there may be more. Otherwise done (what is left
        // failed this time, and is tried again on the next sweep).
        if (due.size() < kOrganizationsPerBatch || in_batch == 0) {
            return expired;
        }
    }
}

}  // namespace gatehouse::customers
