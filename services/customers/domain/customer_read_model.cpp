#include "domain/customer_read_model.h"

#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {
namespace {

std::int64_t nanos_since_epoch(Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

void index(const CustomerState& state, kernel::IndexEntries& entries) {
    if (!state.exists) {
        return;
    }
    const auto& created = state.created;
    const v1::CustomerType type = created.type();
    const bool organization = type == v1::CUSTOMER_TYPE_ORGANIZATION;
    const ListStatus status = list_status_of(state);

    // The lists: one entry (and one count) per filter combination the API offers.
    const std::string summary = list_summary(state);
    for (const std::string& segment :
         {list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::any), list_segment(type, ListStatus::any),
          list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, status), list_segment(type, status)}) {
        entries.add(customer_index::kList, list_prefix(segment).text(created.customer_id()), summary);
        entries.count(segment);
    }

    if (type == v1::CUSTOMER_TYPE_PERSON && status == ListStatus::active) {
        entries.add(customer_index::kPersonEmail, kernel::IndexKey().text(platform::to_lower(state.details.email())));
    }
    if (organization && !created.crm_account_id().empty()) {
        entries.add(customer_index::kCrmAccount, kernel::IndexKey().text(created.crm_account_id()));
    }
    if (!created.crm_contact_id().empty()) {
        entries.add(customer_index::kCrmContact, kernel::IndexKey().text(created.crm_contact_id()));
    }
    if (!created.prospect_request_number().empty()) {
        const bool crm_linked = organization ? !created.crm_account_id().empty() : !created.crm_contact_id().empty();
        entries.add(customer_index::kRequest, request_key(created.prospect_request_number(), type, crm_linked));
    }
    if (!state.onboarded_request.empty()) {
        entries.add(customer_index::kOnboarded, kernel::IndexKey().text(state.onboarded_request));
    }
    for (const auto& hierarchy : state.hierarchies) {
        entries.add(customer_index::kHierarchy, kernel::IndexKey().text(hierarchy.first), hierarchy.first);
    }
    // The partner users live on their Organization's stream: one entry per user.
    for (const auto& [user_id, user] : state.users) {
        entries.add(customer_index::kUser, kernel::IndexKey().text(user_id), user_id);
        if (user.status == UserStatus::active) {
            entries.add(customer_index::kUserEmail,
                        kernel::IndexKey().text(platform::to_lower(user.user.email())).text(user_id), user_id);
        }
        if (user.status != UserStatus::removed) {
            // The web accounts of a Person (its master data changes reach them: SyncUsersWithPerson).
            entries.add(customer_index::kUserCustomer, kernel::IndexKey().text(user.user.customer_id()).text(user_id),
                        user_id);
        }
        if (!user.invitation_id.empty()) {
            entries.add(customer_index::kInvitationExpiry, expiry_key(user.invitation_expires_at).text(user_id),
                        user_id);
        }
    }
}

}  // namespace

kernel::ReadModel<CustomerState> customer_read_model() {
    return {kCustomerReadModelVersion, [](const std::string&, const CustomerState& state,
                                          kernel::IndexEntries& entries) { index(state, entries); }};
}

std::string list_segment(v1::CustomerType type, ListStatus status) {
    const bool by_type = type != v1::CUSTOMER_TYPE_UNSPECIFIED;
    if (!by_type && status == ListStatus::any) {
        return "all";
    }
    std::string segment;
    if (by_type) {
        segment = "type=" + std::to_string(static_cast<int>(type));
    }
    if (status != ListStatus::any) {
        segment += by_type ? "," : "";
        segment += status == ListStatus::blocked  ? "status=blocked"
                   : status == ListStatus::closed ? "status=closed"
                                                  : "status=active";
    }
    return segment;
}

ListStatus list_status_of(const CustomerState& state) {
    if (state.partner_status == v1::PARTNER_STATUS_CLOSED) {
        return ListStatus::closed;
    }
    return state.blocked ? ListStatus::blocked : ListStatus::active;
}

kernel::IndexKey list_prefix(std::string_view segment) { return kernel::IndexKey().text(segment); }

std::string list_cursor_after(std::string_view segment, std::string_view customer_id) {
    // The customer's own entry in the segment: the page resumes after it.
    return kernel::index_layout::cursor_of(list_prefix(segment).text(customer_id), customer_id);
}

std::string list_summary(const CustomerState& state) {
    return platform::to_lower(state.details.name() + "\n" + state.details.email() + "\n" + state.created.customer_id() +
                              "\n" + state.created.crm_account_id() + "\n" + state.created.crm_contact_id());
}

kernel::IndexKey request_key(std::string_view request_number, v1::CustomerType type, bool crm_linked) {
    return kernel::IndexKey()
        .text(request_number)
        .u64(static_cast<std::uint64_t>(type))
        .text(crm_linked ? "crm" : "local");
}

kernel::IndexKey expiry_key(Clock::time_point at) { return kernel::IndexKey().i64(nanos_since_epoch(at)); }

}  // namespace gatehouse::customers
