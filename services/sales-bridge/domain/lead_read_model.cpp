#include "domain/lead_read_model.h"

namespace gatehouse::sales {
namespace {

using kernel::IndexKey;

// The status as a key segment and in counter names. Stored: changing one needs a version bump.
std::string_view status_key(LeadStatus status) {
    switch (status) {
        case LeadStatus::open:
            return "open";
        case LeadStatus::qualified:
            return "qualified";
        case LeadStatus::disqualified:
            return "disqualified";
        case LeadStatus::none:
            break;
    }
    return "none";
}

std::string status_counter(LeadStatus status) { return "commerce:status:" + std::string(status_key(status)); }

std::string owner_counter(std::string_view owner) { return "commerce:owner:" + std::string(owner); }

std::string status_owner_counter(LeadStatus status, std::string_view owner) {
    return status_counter(status) + ":owner:" + std::string(owner);
}

std::string my_open_counter(std::string_view owner) { return "open:owner:" + std::string(owner); }

IndexKey positioned(IndexKey key, const LeadState& state, const std::string& lead_id) {
    append_position(key, nanos_of(state.lead.created_at()), lead_id);
    return key;
}

}  // namespace

kernel::ReadModel<LeadState> lead_read_model() {
    return {
        kLeadReadModelVersion, [](const std::string& lead_id, const LeadState& state, kernel::IndexEntries& entries) {
            if (state.status == LeadStatus::none) {
                return;
            }
            entries.count(kLeadsCounter);
            const std::string& owner = state.owner_user_id;
            const std::string text = search_text(state.lead.company_name(), state.lead.contact().email());
            if (state.status == LeadStatus::open) {
                entries.add("my_open", positioned(IndexKey().text(owner), state, lead_id), text);
                entries.count(my_open_counter(owner));
            }
            if (state.status == LeadStatus::qualified) {
                entries.add(kQualifiedLeadsIndex,
                            IndexKey().i64_descending(nanos_of(state.qualification.qualified_at())));
                entries.count(kQualifiedLeadsCounter);
            }
            if (state.lead.origin() != kCommerceOrigin) {
                return;
            }
            const std::string_view status = status_key(state.status);
            entries.add("commerce", positioned(IndexKey(), state, lead_id), text);
            entries.add("commerce_status", positioned(IndexKey().text(status), state, lead_id), text);
            entries.add("commerce_owner", positioned(IndexKey().text(owner), state, lead_id), text);
            entries.add("commerce_status_owner", positioned(IndexKey().text(status).text(owner), state, lead_id), text);
            entries.count("commerce");
            entries.count(status_counter(state.status));
            entries.count(owner_counter(owner));
            entries.count(status_owner_counter(state.status, owner));
        }};
}

Listing my_open_leads(std::string_view owner_user_id) {
    return {"my_open", IndexKey().text(owner_user_id), my_open_counter(owner_user_id)};
}

Listing commerce_leads(std::optional<LeadStatus> status, const std::optional<std::string>& owner_user_id) {
    if (status && owner_user_id) {
        return {"commerce_status_owner", IndexKey().text(status_key(*status)).text(*owner_user_id),
                status_owner_counter(*status, *owner_user_id)};
    }
    if (status) {
        return {"commerce_status", IndexKey().text(status_key(*status)), status_counter(*status)};
    }
    if (owner_user_id) {
        return {"commerce_owner", IndexKey().text(*owner_user_id), owner_counter(*owner_user_id)};
    }
    return {"commerce", IndexKey(), "commerce"};
}

}  // namespace gatehouse::sales
