#include "app/partner_onboarding.h"

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {
namespace {

v1::CustomerDetails organization_details(const onboarding::v1::CompanyDetails& company) {
    v1::CustomerDetails details;
    details.set_name(company.name());
    details.set_phone(company.phone());
    details.set_website(company.website());
    details.set_tax_id(company.tax_id());
    *details.mutable_address() = company.address();
    return details;
}

v1::CustomerDetails person_details(const common::v1::ContactPerson& contact) {
    v1::CustomerDetails details;
    details.set_first_name(contact.first_name());
    details.set_last_name(contact.last_name());
    details.set_name(contact.first_name() + " " + contact.last_name());
    details.set_email(platform::to_lower(contact.email()));
    details.set_phone(contact.phone());
    details.set_job_title(contact.job_title());
    return details;
}

}  // namespace

kernel::HandlerVerdict PartnerOnboarding::onboard(const onboarding::v1::ProspectApproved& approved,
                                                  const kernel::InboundEvent& event) {
    const auto& prospect = approved.prospect();
    const std::string& request = prospect.request_number();
    // Consistency with the request, before anything is created (defence in depth: the envelope's
    // producer is checked by the kernel inbox, these are what only customers knows to check).
    const std::string what = "ProspectApproved of " + request + ": ";
    if (event.envelope.aggregate_type() != "prospect" || event.envelope.aggregate_id() != request) {
        return kernel::HandlerVerdict::poison(what + "it is on the stream of " + event.envelope.aggregate_type() + " " +
                                              event.envelope.aggregate_id() + ", not of the request it approves");
    }
    if (prospect.approval_mode() != onboarding::v1::APPROVAL_MODE_CRM &&
        approved.path() == onboarding::v1::DECISION_PATH_CRM) {
        return kernel::HandlerVerdict::poison(what + "a CRM-path decision for a direct-mode request");
    }
    // The address the requester verified in onboarding: the administrator's, in both modes.
    const std::string verified_email = platform::to_lower(prospect.contact().email());
    if (!platform::valid_email(verified_email)) {
        return kernel::HandlerVerdict::poison(what + "the requester's email is not an email address");
    }
    // The approval and the CRM's account / contact of one request (both on their way when HQ decides
    // in crm mode) must not both create its customers: their find-or-create steps take turns.
    const std::lock_guard turn(context_.request_customers());
    if (lookups_.request_onboarded(request)) {
        return kernel::HandlerVerdict::ignored();  // this request made a partner already
    }
    const auto now = Clock::now();
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "onboarding",
                                         .inbox_key = event.inbox_key};

    // The customers replicated from the CRM for this request (CRM mode), if any.
    auto crm_organization = lookups_.customer_of_request(request, v1::CUSTOMER_TYPE_ORGANIZATION, true);
    auto crm_person = lookups_.customer_of_request(request, v1::CUSTOMER_TYPE_PERSON, true);
    const bool crm_decided = prospect.approval_mode() == onboarding::v1::APPROVAL_MODE_CRM &&
                             approved.path() == onboarding::v1::DECISION_PATH_CRM;
    // Half replicated (HQ decided in crm mode while sales-bridge was qualifying the lead): the other
    // half is on its way; waiting for it keeps one Organization and one Person per request.
    const bool crm_half = prospect.approval_mode() == onboarding::v1::APPROVAL_MODE_CRM &&
                          static_cast<bool>(crm_organization) != static_cast<bool>(crm_person);
    if ((crm_decided || crm_half) && (!crm_organization || !crm_person)) {
        // The CRM account / contact come on the sales topic, in no order with this one: retry later.
        throw kernel::TransientError("the CRM account and contact of " + request + " have not been replicated yet");
    }

    OnboardPartner command;
    command.request_number = request;
    std::string organization_id;
    std::string person_id;
    if (crm_organization && crm_person) {
        organization_id = crm_organization->created.customer_id();
        person_id = crm_person->created.customer_id();
    } else {
        // The admin's Person customer first, under a key of the request: a redelivery after a crash
        // between the two commits finds it and reuses it (and the organization id it names).
        const std::string person_key = "approval-person:" + request;
        if (auto first = context_.customers().previous_answer(person_key)) {
            person_id = first->aggregate_id;
            organization_id = lookups_.customer(person_id)->created.organization_customer_id();
        } else {
            organization_id = customer_numbers_.next();
            person_id = customer_numbers_.next();
            CreateCustomer create;
            auto& person = create.created;
            person.set_customer_id(person_id);
            person.set_type(v1::CUSTOMER_TYPE_PERSON);
            *person.mutable_details() = person_details(prospect.contact());
            person.set_source(v1::CUSTOMER_SOURCE_SELF_SERVE);
            person.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
            *person.mutable_changed_at() = kernel::to_timestamp(now);
            person.set_organization_customer_id(organization_id);
            person.set_b2b_admin(true);
            person.set_prospect_request_number(request);
            auto created = context_.customers().execute(person_id, create,
                                                        {.idempotency_key = person_key,
                                                         .correlation_id = context.correlation_id,
                                                         .causation_id = context.causation_id,
                                                         .actor = context.actor});
            if (std::holds_alternative<kernel::Rejection>(created)) {
                return verdict_of(created, event);
            }
        }
        v1::CustomerCreated organization;
        organization.set_customer_id(organization_id);
        organization.set_type(v1::CUSTOMER_TYPE_ORGANIZATION);
        *organization.mutable_details() = organization_details(prospect.company());
        organization.mutable_details()->set_email(platform::to_lower(prospect.contact().email()));
        organization.set_source(v1::CUSTOMER_SOURCE_SELF_SERVE);
        organization.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
        *organization.mutable_changed_at() = kernel::to_timestamp(now);
        organization.set_prospect_request_number(request);
        command.organization = organization;
    }
    const auto person = lookups_.customer(person_id);
    if (!person) {
        throw kernel::TransientError("customer " + person_id + " not readable yet");
    }
    command.hierarchy_id = hierarchy_numbers_.next();
    auto& admin = command.admin;
    admin.set_user_id(user_numbers_.next());
    admin.set_customer_id(person_id);
    // The verified address, not the Person's: in CRM mode the Person is the replicated CRM contact,
    // whose email a sales user can edit before winning the opportunity. A different contact email
    // stays on the Person customer (the CRM's record) and gets no account (README, "CRM mode").
    admin.set_email(verified_email);
    admin.set_first_name(person->details.first_name());
    admin.set_last_name(person->details.last_name());
    admin.set_job_title(person->details.job_title());
    admin.set_added_by("onboarding");
    command.invitation = invitations_.issue(organization_id, admin.user_id(), now + invitations_.ttl());
    return verdict_of(context_.customers().execute(organization_id, command, context), event);
}

}  // namespace gatehouse::customers
