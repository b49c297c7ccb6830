#include "app/customer_lookups.h"

#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {

std::optional<CustomerState> CustomerLookups::customer(const std::string& customer_id) const {
    if (customer_id.empty()) {
        return std::nullopt;  // e.g. the organization of a Person that belongs to none
    }
    if (auto found = customers_.find(customer_id)) {
        return found->state;
    }
    return std::nullopt;
}

std::optional<CustomerState> CustomerLookups::first_customer(std::string_view index,
                                                             const kernel::IndexKey& key) const {
    const auto hits = customers_.lookup(index, key, 1);
    return hits.empty() ? std::nullopt : customer(hits.front().aggregate_id);
}

std::optional<CustomerState> CustomerLookups::organization_by_crm_account(const std::string& crm_account_id) const {
    return first_customer(customer_index::kCrmAccount, kernel::IndexKey().text(crm_account_id));
}

std::optional<CustomerState> CustomerLookups::customer_by_crm_contact(const std::string& crm_contact_id) const {
    return first_customer(customer_index::kCrmContact, kernel::IndexKey().text(crm_contact_id));
}

std::optional<CustomerState> CustomerLookups::customer_of_request(const std::string& request_number,
                                                                  v1::CustomerType type, bool crm_linked) const {
    return first_customer(customer_index::kRequest, request_key(request_number, type, crm_linked));
}

bool CustomerLookups::request_onboarded(const std::string& request_number) const {
    return !customers_.lookup(customer_index::kOnboarded, kernel::IndexKey().text(request_number), 1).empty();
}

std::optional<CustomerState> CustomerLookups::organization_of_hierarchy(const std::string& hierarchy_id) const {
    return first_customer(customer_index::kHierarchy, kernel::IndexKey().text(hierarchy_id));
}

std::optional<UserRef> CustomerLookups::user(const std::string& user_id) const {
    for (const kernel::IndexHit& hit : customers_.lookup(customer_index::kUser, kernel::IndexKey().text(user_id), 1)) {
        if (const auto organization = customer(hit.aggregate_id)) {
            if (const PartnerUserState* found = organization->user(user_id)) {
                return UserRef{hit.aggregate_id, *found};
            }
        }
    }
    return std::nullopt;
}

std::optional<UserRef> CustomerLookups::active_user_by_email(const std::string& email) const {
    for (const kernel::IndexHit& hit :
         customers_.lookup(customer_index::kUserEmail, kernel::IndexKey().text(platform::to_lower(email)), 1)) {
        if (const auto organization = customer(hit.aggregate_id)) {
            if (const PartnerUserState* found = organization->user(hit.value)) {
                return UserRef{hit.aggregate_id, *found};
            }
        }
    }
    return std::nullopt;
}

std::string CustomerLookups::organization_of(const CustomerState& person) const {
    if (!person.created.organization_customer_id().empty() || person.created.type() == v1::CUSTOMER_TYPE_ORGANIZATION ||
        person.created.crm_account_id().empty()) {
        return person.created.organization_customer_id();
    }
    const auto hits =
        customers_.lookup(customer_index::kCrmAccount, kernel::IndexKey().text(person.created.crm_account_id()), 1);
    return hits.empty() ? std::string() : hits.front().aggregate_id;
}

std::string CustomerLookups::organization_of_person(const CustomerState& person) const {
    if (std::string linked = organization_of(person); !linked.empty()) {
        return linked;
    }
    // A Person HQ put into a hierarchy without a link: the organisation where it has a web account.
    const auto hits =
        customers_.lookup(customer_index::kUserCustomer, kernel::IndexKey().text(person.created.customer_id()), 1);
    return hits.empty() ? std::string() : hits.front().aggregate_id;
}

bool CustomerLookups::person_email_taken(const std::string& email) const {
    return !customers_.lookup(customer_index::kPersonEmail, kernel::IndexKey().text(platform::to_lower(email)), 1)
                .empty();
}

bool CustomerLookups::person_email_taken_in(const std::string& email, const std::string& organization_id) const {
    // Few Persons share an email (one per organisation at most, through AddPartnerUser): a short scan.
    const auto organization = customer(organization_id);
    return organization && person_in(email, *organization).has_value();
}

bool CustomerLookups::belongs_to(const CustomerState& person, const CustomerState& organization) const {
    if (!person.exists || person.created.type() != v1::CUSTOMER_TYPE_PERSON) {
        return false;
    }
    return organization_of(person) == organization.created.customer_id() ||
           organization.has_member(person.created.customer_id());
}

std::optional<CustomerState> CustomerLookups::person_in(const std::string& email,
                                                        const CustomerState& organization) const {
    constexpr std::size_t kPersonsPerEmail = 64;  // one per organisation at most, in practice
    for (const kernel::IndexHit& hit : customers_.lookup(
             customer_index::kPersonEmail, kernel::IndexKey().text(platform::to_lower(email)), kPersonsPerEmail)) {
        if (auto person = customer(hit.aggregate_id); person && belongs_to(*person, organization)) {
            return person;
        }
    }
    return std::nullopt;
}

CustomerPage CustomerLookups::list_customers(const CustomerQuery& query) const {
    const std::string segment = list_segment(query.type, query.status);
    const kernel::IndexKey prefix = list_prefix(segment);
    CustomerPage page;
    std::vector<std::string> ids;
    if (query.text.empty()) {
        const kernel::IndexPage found = customers_.page(customer_index::kList, prefix, query.after, query.page_size);
        for (const kernel::IndexHit& hit : found.hits) {
            ids.push_back(hit.aggregate_id);
        }
        page.last_cursor = found.next_cursor;
        page.total = customers_.count(segment);
    } else {
        // The one linear path: every entry of the segment is compared (its summary, never the
        // customer), to count the matches; only the page's customers are loaded.
        std::string last_cursor;
        bool more = false;
        customers_.visit_index(customer_index::kList, prefix, {}, [&](const kernel::IndexHit& hit) {
            if (hit.value.find(query.text) == std::string::npos) {
                return true;
            }
            ++page.total;
            // Cursors order as the index does: the page starts after the previous one's last entry.
            if (!query.after.empty() && hit.cursor <= query.after) {
                return true;
            }
            if (ids.size() < query.page_size) {
                ids.push_back(hit.aggregate_id);
                last_cursor = hit.cursor;
            } else {
                more = true;
            }
            return true;
        });
        if (more) {
            page.last_cursor = last_cursor;
        }
    }
    for (const std::string& id : ids) {
        if (auto state = customer(id)) {
            page.customers.push_back(std::move(*state));
        }
    }
    return page;
}

std::vector<HistoryEntry> CustomerLookups::history(const std::string& customer_id) const {
    std::vector<HistoryEntry> entries;
    for (const auto& recorded :
         store_.read_stream(kernel::StreamId{std::string(Customer::kAggregateType), customer_id})) {
        entries.push_back(
            HistoryEntry{recorded.envelope.occurred_at(), recorded.envelope.event_type(), recorded.envelope.actor()});
    }
    return entries;
}

}  // namespace gatehouse::customers
