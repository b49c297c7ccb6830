#include "app/master_data.h"

#include <algorithm>

#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::customers {

Result MasterData::create_customer(const CreateCustomer& create, const std::string& actor) {
    std::unique_lock lock(context_.person_emails(), std::defer_lock);
    if (create.created.type() == v1::CUSTOMER_TYPE_PERSON) {
        lock.lock();
        if (lookups_.person_email_taken(create.created.details().email())) {
            return kernel::Rejection{kernel::RejectionCode::already_exists,
                                     "details.email: is the email of an active person customer"};
        }
    }
    return execute(create.created.customer_id(), create, actor);
}

std::variant<std::string, kernel::Rejection> MasterData::create_by_hq(const NewCustomer& customer,
                                                                      const std::string& actor) {
    CreateCustomer create;
    auto& created = create.created;
    if (!customer.organization_id.empty()) {
        const auto organization = lookups_.customer(customer.organization_id);
        if (!organization || organization->created.type() != v1::CUSTOMER_TYPE_ORGANIZATION) {
            return kernel::Rejection{kernel::RejectionCode::not_found,
                                     "organization_customer_id: no such organization"};
        }
        // A Person's crm_account_id is its organisation's account: where the CRM puts its contact.
        created.set_crm_account_id(organization->created.crm_account_id());
    }
    created.set_customer_id(numbers_.next());
    created.set_type(customer.type);
    *created.mutable_details() = customer.details;
    if (customer.type == v1::CUSTOMER_TYPE_PERSON) {
        created.mutable_details()->set_name(customer.details.first_name() + " " + customer.details.last_name());
    }
    created.set_source(v1::CUSTOMER_SOURCE_HQ);
    created.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    *created.mutable_changed_at() = kernel::to_timestamp(Clock::now());
    created.set_organization_customer_id(customer.organization_id);
    created.set_b2b_admin(customer.b2b_admin);
    auto result = create_customer(create, actor);
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    if (customer.b2b_admin) {
        // "B2B administrator = Yes": the person's web account, invited, as the administrator.
        auto admin = users_.make_administrator(customer.organization_id, created.customer_id(), actor);
        if (auto* rejection = std::get_if<kernel::Rejection>(&admin)) {
            return std::move(*rejection);
        }
    }
    return created.customer_id();
}

Result MasterData::update_customer(const std::string& customer_id, const UpdateCustomer& update,
                                   const kernel::CommandContext& context) {
    const auto current = lookups_.customer(customer_id);
    if (current && current->created.type() == v1::CUSTOMER_TYPE_PERSON) {
        // What the change will make of the Person (the decider is pure): its accounts follow first.
        auto decision = Customer::decide(update, *current);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&decision)) {
            return *rejection;
        }
        CustomerState next = *current;
        bool email_changed = false;
        for (const auto& event : std::get<std::vector<v1::CustomerEvent>>(decision)) {
            const auto& fields = event.customer_updated().changed_fields();
            email_changed = email_changed || std::find(fields.begin(), fields.end(), "email") != fields.end();
            next = Customer::evolve(std::move(next), event);
        }
        if (!email_changed || update.side == Side::sales) {
            // Only HQ moves a sign-in email, and only by changing the Person's email. A CRM edit
            // never does: the address that signs in, and that a password reset goes to, is one the
            // person verified or HQ set — a sales user who edits a contact's email must not be able
            // to take the account over with a reset (docs/security.md). Names follow from both sides.
            next.details.set_email(std::string());
        }
        auto synced = users_.sync_users(next, context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&synced)) {
            if (update.side == Side::customers || rejection->code != kernel::RejectionCode::already_exists) {
                return synced;  // HQ is told (e.g. the email is another account's); a conflict is retried
            }
            // A CRM change cannot be refused: the accounts keep their email, the rest follows.
            kernel::logger("customers")
                ->warn("customer {}: {}; its web account keeps its sign-in email", customer_id, rejection->message);
            next.details.set_email(std::string());
            if (auto retried = users_.sync_users(next, context); std::holds_alternative<kernel::Rejection>(retried)) {
                return retried;
            }
        }
    }
    return context_.customers().execute(customer_id, update, context);
}

}  // namespace gatehouse::customers
