#include "app/hierarchies.h"

namespace gatehouse::customers {

HierarchyResult Hierarchies::current(const std::string& organization_id, const std::string& hierarchy_id) const {
    const auto organization = lookups_.customer(organization_id);
    return HierarchyRef{hierarchy_id, organization_id, organization->hierarchies.at(hierarchy_id)};
}

HierarchyResult Hierarchies::create(const std::string& organization_id, const std::string& name,
                                    const std::string& by) {
    const std::string id = numbers_.next();
    auto result = context_.execute(organization_id, CreateHierarchy{id, name, by}, by);
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return current(organization_id, id);
}

HierarchyResult Hierarchies::change_member(const std::string& hierarchy_id, const std::string& customer_id, bool add,
                                           const std::string& by) {
    const auto organization = lookups_.organization_of_hierarchy(hierarchy_id);
    if (!organization) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "hierarchy_id: no such hierarchy"};
    }
    if (add && !lookups_.customer(customer_id)) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "customer_id: no such customer"};
    }
    const std::string& organization_id = organization->created.customer_id();
    auto result = context_.execute(organization_id, ChangeMember{hierarchy_id, customer_id, add}, by);
    if (auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return std::move(*rejection);
    }
    return current(organization_id, hierarchy_id);
}

std::vector<HierarchyRef> Hierarchies::list(const std::string& organization_id) const {
    std::vector<HierarchyRef> found;
    if (!organization_id.empty()) {
        if (const auto organization = lookups_.customer(organization_id)) {
            for (const auto& [id, hierarchy] : organization->hierarchies) {
                found.push_back(HierarchyRef{id, organization_id, hierarchy});
            }
        }
        return found;
    }
    // Every hierarchy, in id order: the answer itself is that long (the API has no pages here).
    std::optional<CustomerState> organization;
    context_.customers().visit_index(customer_index::kHierarchy, {}, {}, [&](const kernel::IndexHit& hit) {
        if (!organization || organization->created.customer_id() != hit.aggregate_id) {
            organization = lookups_.customer(hit.aggregate_id);
        }
        if (organization) {
            if (const auto it = organization->hierarchies.find(hit.value); it != organization->hierarchies.end()) {
                found.push_back(HierarchyRef{it->first, hit.aggregate_id, it->second});
            }
        }
        return true;
    });
    return found;
}

}  // namespace gatehouse::customers
