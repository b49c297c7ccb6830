#include "domain/opportunity_read_model.h"

namespace gatehouse::sales {
namespace {

using kernel::IndexKey;

// The status as a key segment and in counter names. Stored: changing one needs a version bump.
std::string_view status_key(OpportunityStatus status) {
    switch (status) {
        case OpportunityStatus::open:
            return "open";
        case OpportunityStatus::won:
            return "won";
        case OpportunityStatus::lost:
            return "lost";
        case OpportunityStatus::none:
            break;
    }
    return "none";
}

std::string status_counter(OpportunityStatus status) { return "status:" + std::string(status_key(status)); }

std::string owner_counter(std::string_view owner) { return "owner:" + std::string(owner); }

std::string status_owner_counter(OpportunityStatus status, std::string_view owner) {
    return status_counter(status) + ":owner:" + std::string(owner);
}

}  // namespace

kernel::ReadModel<OpportunityState> opportunity_read_model() {
    return {kOpportunityReadModelVersion,
            [](const std::string& opportunity_id, const OpportunityState& state, kernel::IndexEntries& entries) {
                if (state.status == OpportunityStatus::none) {
                    return;
                }
                const std::string& owner = state.opportunity.owner_user_id();
                const std::string_view status = status_key(state.status);
                const auto positioned = [&](IndexKey key) {
                    append_position(key, nanos_of(state.opportunity.created_at()), opportunity_id);
                    return key;
                };
                entries.add("all", positioned(IndexKey()));
                entries.add("status", positioned(IndexKey().text(status)));
                entries.add("owner", positioned(IndexKey().text(owner)));
                entries.add("owner_status", positioned(IndexKey().text(owner).text(status)));
                entries.count(kOpportunitiesCounter);
                entries.count(status_counter(state.status));
                entries.count(owner_counter(owner));
                entries.count(status_owner_counter(state.status, owner));
            }};
}

Listing opportunities_listing(const std::optional<std::string>& owner_user_id,
                              std::optional<OpportunityStatus> status) {
    if (owner_user_id && status) {
        return {"owner_status", IndexKey().text(*owner_user_id).text(status_key(*status)),
                status_owner_counter(*status, *owner_user_id)};
    }
    if (owner_user_id) {
        return {"owner", IndexKey().text(*owner_user_id), owner_counter(*owner_user_id)};
    }
    if (status) {
        return {"status", IndexKey().text(status_key(*status)), status_counter(*status)};
    }
    return {"all", IndexKey(), std::string(kOpportunitiesCounter)};
}

}  // namespace gatehouse::sales
