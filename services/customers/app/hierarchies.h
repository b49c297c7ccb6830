// Customer hierarchies: an Organization's named groups of Person customers (seed 001: HQ builds
// them). Creating one, adding or removing a member, and listing them. No gRPC here; safe on any
// thread (commands go through the Customer runtime, which serialises each organisation's).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "app/app_context.h"
#include "app/customer_lookups.h"
#include "gatehouse/kernel/number_sequence.h"

namespace gatehouse::customers {

// A hierarchy with the organisation it belongs to.
struct HierarchyRef final {
    std::string hierarchy_id;
    std::string organization_id;
    HierarchyState hierarchy;
};

using HierarchyResult = std::variant<HierarchyRef, kernel::Rejection>;

class Hierarchies final {
  public:
    Hierarchies(AppContext& context, const CustomerLookups& lookups, kernel::NumberSequence& numbers)
        : context_(context), lookups_(lookups), numbers_(numbers) {}

    // A new hierarchy of the organisation, under the next hierarchy number.
    HierarchyResult create(const std::string& organization_id, const std::string& name, const std::string& by);
    // Adds or removes a member; NOT_FOUND for an unknown hierarchy, or an unknown customer to add.
    HierarchyResult change_member(const std::string& hierarchy_id, const std::string& customer_id, bool add,
                                  const std::string& by);
    // The hierarchies of one organisation (empty id: of all), in hierarchy id order.
    [[nodiscard]] std::vector<HierarchyRef> list(const std::string& organization_id) const;

  private:
    // The hierarchy as it is now, after a command on it was accepted.
    [[nodiscard]] HierarchyResult current(const std::string& organization_id, const std::string& hierarchy_id) const;

    AppContext& context_;
    const CustomerLookups& lookups_;
    kernel::NumberSequence& numbers_;
};

}  // namespace gatehouse::customers
