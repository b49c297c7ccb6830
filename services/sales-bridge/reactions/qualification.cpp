#include "reactions/qualification.h"

#include <vector>

#include "gatehouse/kernel/logging.h"

namespace gatehouse::sales {
namespace {

template <class Result>
std::optional<kernel::Rejection> rejection_of(const Result& result) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return *rejection;
    }
    return std::nullopt;
}

}  // namespace

std::optional<kernel::Rejection> complete_qualification(SalesAggregates& aggregates, const LeadState& lead,
                                                        const std::string& correlation_id) {
    const v1::LeadQualified& qualified = lead.qualification;
    const v1::LeadCreated& created = lead.lead;
    const kernel::CommandContext context{.correlation_id = correlation_id, .actor = qualified.qualified_by()};

    CreateAccount account;
    account.account.set_account_id(qualified.account_id());
    account.account.set_prospect_request_number(created.prospect_request_number());
    account.account.set_name(created.company_name());
    *account.account.mutable_address() = created.company_address();
    account.account.set_phone(created.company_phone());
    account.account.set_website(created.company_website());
    account.account.set_tax_id(created.company_tax_id());
    account.account.set_primary_contact_id(qualified.contact_id());
    account.account.set_opportunity_id(qualified.opportunity_id());
    account.now = qualified.qualified_at();
    if (auto failed = rejection_of(aggregates.accounts.execute(qualified.account_id(), account, context))) {
        return failed;
    }

    CreateContact contact;
    contact.contact.set_contact_id(qualified.contact_id());
    contact.contact.set_account_id(qualified.account_id());
    contact.contact.set_prospect_request_number(created.prospect_request_number());
    contact.contact.set_first_name(created.contact().first_name());
    contact.contact.set_last_name(created.contact().last_name());
    contact.contact.set_email(created.contact().email());
    contact.contact.set_phone(created.contact().phone());
    contact.contact.set_job_title(created.contact().job_title());
    contact.now = qualified.qualified_at();
    if (auto failed = rejection_of(aggregates.contacts.execute(qualified.contact_id(), contact, context))) {
        return failed;
    }

    CreateOpportunity opportunity;
    auto& body = opportunity.opportunity;
    body.set_opportunity_id(qualified.opportunity_id());
    body.set_lead_id(created.lead_id());
    body.set_prospect_request_number(created.prospect_request_number());
    body.set_topic(created.topic());
    body.set_company_name(created.company_name());
    body.set_account_id(qualified.account_id());
    body.set_contact_id(qualified.contact_id());
    *body.mutable_estimated_value() = qualified.estimated_value();
    body.set_estimated_close_date(qualified.estimated_close_date());
    // An unassigned lead qualified by a manager becomes the manager's opportunity.
    body.set_owner_user_id(lead.owner_user_id.empty() ? qualified.qualified_by() : lead.owner_user_id);
    body.set_owner_email(lead.owner_user_id.empty() ? "" : lead.owner_email);
    *body.mutable_created_at() = qualified.qualified_at();
    return rejection_of(aggregates.opportunities.execute(qualified.opportunity_id(), opportunity, context));
}

std::size_t complete_pending_qualifications(SalesAggregates& aggregates) {
    std::vector<LeadState> qualified;
    aggregates.leads.for_each([&](const std::string&, const LeadState& lead, kernel::StreamVersion) {
        if (lead.status == LeadStatus::qualified) {
            qualified.push_back(lead);
        }
    });
    std::size_t completed = 0;
    for (const LeadState& lead : qualified) {
        if (aggregates.opportunities.find(lead.opportunity_id) && aggregates.accounts.find(lead.account_id) &&
            aggregates.contacts.find(lead.contact_id)) {
            continue;
        }
        if (auto failed = complete_qualification(aggregates, lead, "")) {
            kernel::logger("sales")->error("completing the qualification of {} failed: {}", lead.lead.lead_id(),
                                           failed->message);
            continue;
        }
        ++completed;
    }
    return completed;
}

}  // namespace gatehouse::sales
