#include "app/crm_replication.h"

#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::customers {
namespace {

// The outcome ("won" / "lost") of a request's CRM opportunity, for its customers replicated later.
std::string deal_key(const std::string& request_number) { return "deal/" + request_number; }

}  // namespace

kernel::HandlerVerdict CrmReplication::replicate(const CrmChange& change, const kernel::InboundEvent& event) {
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge",
                                         .inbox_key = event.inbox_key};
    if (change.created && change.origin == common::v1::CHANGE_ORIGIN_REPLICATED && !change.customer_id.empty()) {
        // The CRM record sales-bridge made from one of our customers: its values are ours (no
        // echo), only the link is new.
        return verdict_of(
            context_.customers().execute(change.customer_id,
                                         LinkToCrm{change.account_id, change.account ? "" : change.crm_id}, context),
            event);
    }
    if (change.origin != common::v1::CHANGE_ORIGIN_LOCAL) {
        return kernel::HandlerVerdict::ignored();  // rule 1: no echo
    }
    const auto wanted_type = change.account ? v1::CUSTOMER_TYPE_ORGANIZATION : v1::CUSTOMER_TYPE_PERSON;
    const std::lock_guard turn(context_.request_customers());  // see PartnerOnboarding::onboard()
    auto linked = change.account ? lookups_.organization_by_crm_account(change.crm_id)
                                 : lookups_.customer_by_crm_contact(change.crm_id);
    if (!linked && change.created && !change.request_number.empty()) {
        // The CRM record of a partner approved here first (e.g. an HQ override in CRM mode): link
        // the customers that request created instead of creating a second one.
        auto unlinked = lookups_.customer_of_request(change.request_number, wanted_type, false);
        if (unlinked) {
            auto result = context_.customers().execute(
                unlinked->created.customer_id(), LinkToCrm{change.account_id, change.account ? "" : change.crm_id},
                {.correlation_id = context.correlation_id,
                 .causation_id = context.causation_id,
                 .actor = context.actor});
            if (std::holds_alternative<kernel::Rejection>(result)) {
                return verdict_of(result, event);
            }
            linked = lookups_.customer(unlinked->created.customer_id());
        }
    }
    if (linked) {
        // An update, or a "created" delivered again / for a record we know: apply as an update.
        UpdateCustomer update;
        update.details = change.details;
        update.fields = change.fields;
        if (change.created && update.fields.empty()) {
            for (const std::string& field : replicated_fields()) {
                update.fields.push_back(field);
            }
        }
        update.changed_at = kernel::to_time_point(change.changed_at);
        update.side = Side::sales;
        update.changed_by = "sales-bridge";
        // A contact's names and email reach its web accounts too (seed 003).
        return verdict_of(master_data_.update_customer(linked->created.customer_id(), update, context), event);
    }
    if (!change.created) {
        // Account / contact events share their CRM record's partition, so "created" came first; an
        // update of a record we never linked (e.g. one created before replication started) is skipped.
        kernel::logger("customers")
            ->warn("{} for unknown CRM record {} ignored", event.envelope.event_type(), change.crm_id);
        return kernel::HandlerVerdict::ignored();
    }
    // A new CRM record: one customer per CRM id (the key makes a redelivery find the first one).
    const std::string key = std::string(change.account ? "crm-account:" : "crm-contact:") + change.crm_id;
    if (context_.customers().previous_answer(key)) {
        return kernel::HandlerVerdict::ignored();
    }
    CreateCustomer create;
    auto& created = create.created;
    created.set_customer_id(customer_numbers_.next());
    created.set_type(change.account ? v1::CUSTOMER_TYPE_ORGANIZATION : v1::CUSTOMER_TYPE_PERSON);
    for (const std::string& field : replicated_fields()) {
        if (field_applies(created.type(), field)) {
            copy_field(change.details, *created.mutable_details(), field);
        }
    }
    if (!change.account) {
        created.mutable_details()->set_name(change.details.name());
    }
    created.set_source(v1::CUSTOMER_SOURCE_CRM);
    created.set_origin(common::v1::CHANGE_ORIGIN_REPLICATED);
    *created.mutable_changed_at() = change.changed_at;
    created.set_crm_account_id(change.account_id);
    if (!change.account) {
        created.set_crm_contact_id(change.crm_id);
        if (const auto organization = lookups_.organization_by_crm_account(change.account_id)) {
            created.set_organization_customer_id(organization->created.customer_id());
        }
    }
    created.set_prospect_request_number(change.request_number);
    if (!change.request_number.empty()) {
        // Made at the lead's qualification (seed 000): not yet a partner's until its opportunity is
        // won (record_deal) — or decided already, when that outcome arrived first.
        const auto deal = context_.store().read_metadata(deal_key(change.request_number));
        created.set_partner_status(!deal            ? v1::PARTNER_STATUS_PROSPECTIVE
                                   : *deal == "won" ? v1::PARTNER_STATUS_PARTNER
                                                    : v1::PARTNER_STATUS_CLOSED);
    }
    kernel::CommandContext keyed = context;
    keyed.idempotency_key = key;
    return verdict_of(context_.customers().execute(created.customer_id(), create, keyed), event);
}

kernel::HandlerVerdict CrmReplication::record_deal(const RecordDealOutcome& outcome,
                                                   const kernel::InboundEvent& event) {
    if (outcome.request_number.empty()) {
        return kernel::HandlerVerdict::ignored();  // an opportunity not made from an onboarding request
    }
    // The account and contact were created with the opportunity (qualification) but travel on their
    // own keys, in no order with this event, on this same consumer (waiting here would hold them up):
    // the outcome is kept for the request, and a customer replicated after it is created decided
    // (replicate(), under the same lock).
    const std::lock_guard turn(context_.request_customers());
    kernel::Commit commit;
    commit.metadata.emplace_back(deal_key(outcome.request_number), outcome.won ? "won" : "lost");
    (void)context_.store().commit(std::move(commit));
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge"};
    // Idempotent (a recorded outcome changes nothing), so a redelivery completes what a crash left;
    // the inbox records the event as processed after the last of them.
    for (const auto customer_type : {v1::CUSTOMER_TYPE_ORGANIZATION, v1::CUSTOMER_TYPE_PERSON}) {
        if (const auto customer = lookups_.customer_of_request(outcome.request_number, customer_type, true)) {
            const auto result = context_.customers().execute(customer->created.customer_id(), outcome, context);
            if (std::holds_alternative<kernel::Rejection>(result)) {
                return verdict_of(result, event);
            }
        }
    }
    return kernel::HandlerVerdict::applied();
}

}  // namespace gatehouse::customers
