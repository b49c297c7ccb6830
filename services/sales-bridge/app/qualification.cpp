#include "app/qualification.h"

#include <algorithm>
#include <cstdint>
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
    // An unassigned lead qualified by a manager becomes the manager's opportunity; one HQ's approval
    // qualified stays unassigned (HQ users are not sales users).
    const bool unassigned = lead.owner_user_id.empty();
    body.set_owner_user_id(unassigned ? (qualified.decided_by_hq() ? "" : qualified.qualified_by())
                                      : lead.owner_user_id);
    body.set_owner_email(lead.owner_user_id.empty() ? "" : lead.owner_email);
    *body.mutable_created_at() = qualified.qualified_at();
    return rejection_of(aggregates.opportunities.execute(qualified.opportunity_id(), opportunity, context));
}

std::size_t complete_pending_qualifications(SalesAggregates& aggregates) {
    // Every opportunity, account and contact is made by completing a qualification, with ids derived
    // from the lead's request number, after the lead's LeadQualified is committed. So each count
    // below the number of qualified leads is how many of them lack that record — normally none, and
    // then this costs three counter reads. (The qualified leads are counted first: a qualification
    // completing meanwhile can make a deficit look smaller, found at the next check, never larger.)
    const std::int64_t qualified = aggregates.leads.count(kQualifiedLeadsCounter);
    const auto lacking = [qualified](std::int64_t existing) { return std::max<std::int64_t>(0, qualified - existing); };
    std::int64_t missing_opportunities = lacking(aggregates.opportunities.count(kOpportunitiesCounter));
    std::int64_t missing_accounts = lacking(aggregates.accounts.count(kAccountsCounter));
    std::int64_t missing_contacts = lacking(aggregates.contacts.count(kContactsCounter));
    if (missing_opportunities == 0 && missing_accounts == 0 && missing_contacts == 0) {
        return 0;
    }
    // Interrupted qualifications are recent: look from the newest back, until every missing record
    // is accounted for.
    std::vector<LeadState> pending;
    aggregates.leads.visit_index(kQualifiedLeadsIndex, {}, {}, [&](const kernel::IndexHit& hit) {
        const auto lead = aggregates.leads.find(hit.aggregate_id);
        if (!lead || lead->state.status != LeadStatus::qualified) {
            return true;
        }
        const LeadState& state = lead->state;
        const bool lacks_opportunity = !aggregates.opportunities.find(state.opportunity_id);
        const bool lacks_account = !aggregates.accounts.find(state.account_id);
        const bool lacks_contact = !aggregates.contacts.find(state.contact_id);
        if (lacks_opportunity || lacks_account || lacks_contact) {
            pending.push_back(state);
            missing_opportunities -= lacks_opportunity ? 1 : 0;
            missing_accounts -= lacks_account ? 1 : 0;
            missing_contacts -= lacks_contact ? 1 : 0;
        }
        return missing_opportunities > 0 || missing_accounts > 0 || missing_contacts > 0;
    });
    std::size_t completed = 0;
    for (const LeadState& lead : pending) {
        if (auto failed = complete_qualification(aggregates, lead, "")) {
            kernel::logger("sales-bridge")
                ->error("completing the qualification of {} failed: {}", lead.lead.lead_id(), failed->message);
            continue;
        }
        ++completed;
    }
    return completed;
}

void check_qualifications(SalesAggregates& aggregates) {
    if (const auto completed = complete_pending_qualifications(aggregates); completed > 0) {
        kernel::logger("sales-bridge")->warn("completed {} interrupted lead qualifications", completed);
    }
}

}  // namespace gatehouse::sales
