// The Customer read model on a real (temporary) store: what each index and counter holds as
// customers and partner users change, list pages after a customer id, and the invitation-expiry
// range the sweeper visits.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "domain/customer.h"
#include "domain/customer_read_model.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse;
using namespace gatehouse::customers;
using gatehouse::kernel::IndexHit;
using gatehouse::kernel::IndexKey;
using gatehouse::testing::TempDir;
using namespace std::chrono_literals;

namespace {

using Runtime = kernel::AggregateRuntime<Customer>;

const Clock::time_point kT0 = Clock::from_time_t(1'764'000'000);

void require_accepted(const kernel::CommandResult<v1::CustomerEvent>& result) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
}

CreateCustomer create(const std::string& id, v1::CustomerType type, const std::string& name,
                      const std::string& email = {}) {
    CreateCustomer command;
    auto& created = command.created;
    created.set_customer_id(id);
    created.set_type(type);
    created.mutable_details()->set_name(name);
    created.mutable_details()->set_email(email);
    created.set_source(v1::CUSTOMER_SOURCE_HQ);
    created.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    *created.mutable_changed_at() = kernel::to_timestamp(kT0);
    return command;
}

std::vector<std::string> ids_of(const std::vector<IndexHit>& hits) {
    std::vector<std::string> ids;
    for (const IndexHit& hit : hits) {
        ids.push_back(hit.aggregate_id);
    }
    return ids;
}

std::vector<std::string> page_ids(Runtime& runtime, const std::string& segment, const std::string& after_id,
                                  std::size_t limit, bool* more = nullptr) {
    const auto page = runtime.page(customer_index::kList, list_prefix(segment),
                                   after_id.empty() ? std::string() : list_cursor_after(segment, after_id), limit);
    if (more != nullptr) {
        *more = !page.next_cursor.empty();
    }
    return ids_of(page.hits);
}

std::vector<std::string> due_before(const Runtime& runtime, Clock::time_point now) {
    std::vector<std::string> users;
    const IndexKey until = expiry_key(now);
    runtime.visit_index(
        customer_index::kInvitationExpiry, {}, {},
        [&](const IndexHit& hit) {
            users.push_back(hit.value);
            return true;
        },
        &until);
    return users;
}

v1::PartnerUserAdded partner_user(const std::string& user_id, const std::string& customer_id,
                                  const std::string& email) {
    v1::PartnerUserAdded added;
    added.set_user_id(user_id);
    added.set_customer_id(customer_id);
    added.set_email(email);
    added.set_first_name("Jane");
    added.set_last_name("Doe");
    return added;
}

v1::InvitationIssued invitation(const std::string& id, Clock::time_point expires) {
    v1::InvitationIssued issued;
    issued.set_invitation_id(id);
    issued.set_token_sealed_for_notifier("sealed:" + id);
    *issued.mutable_expires_at() = kernel::to_timestamp(expires);
    return issued;
}

}  // namespace

TEST_CASE("read model: list segments and counters follow type and status, pages continue after an id",
          "[domain][read_model]") {
    TempDir dir;
    auto store = kernel::EventStore::open(dir.path());
    Runtime customers(*store, {"tests"}, customer_read_model());
    require_accepted(customers.execute("CU-000001", create("CU-000001", v1::CUSTOMER_TYPE_ORGANIZATION, "Acme GmbH")));
    require_accepted(
        customers.execute("CU-000002", create("CU-000002", v1::CUSTOMER_TYPE_PERSON, "Jane Doe", "jane@acme.example")));
    require_accepted(customers.execute("CU-000003", create("CU-000003", v1::CUSTOMER_TYPE_ORGANIZATION, "Umbrella")));
    require_accepted(customers.execute("CU-000003", BlockCustomer{true, "unpaid", "alice"}));

    const std::string all = list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::any);
    const std::string organizations = list_segment(v1::CUSTOMER_TYPE_ORGANIZATION, ListStatus::any);
    const std::string blocked = list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::blocked);
    const std::string active_organizations = list_segment(v1::CUSTOMER_TYPE_ORGANIZATION, ListStatus::active);
    CHECK(customers.count(all) == 3);
    CHECK(customers.count(organizations) == 2);
    CHECK(customers.count(blocked) == 1);
    CHECK(customers.count(active_organizations) == 1);
    CHECK(page_ids(customers, all, "", 10) == std::vector<std::string>{"CU-000001", "CU-000002", "CU-000003"});
    CHECK(page_ids(customers, blocked, "", 10) == std::vector<std::string>{"CU-000003"});
    CHECK(page_ids(customers, active_organizations, "", 10) == std::vector<std::string>{"CU-000001"});

    bool more = false;
    CHECK(page_ids(customers, all, "", 1, &more) == std::vector<std::string>{"CU-000001"});
    CHECK(more);
    CHECK(page_ids(customers, all, "CU-000001", 1, &more) == std::vector<std::string>{"CU-000002"});
    CHECK(more);
    CHECK(page_ids(customers, all, "CU-000002", 1, &more) == std::vector<std::string>{"CU-000003"});
    CHECK_FALSE(more);
    // After an id that is not in the segment (or does not exist): the next greater id.
    CHECK(page_ids(customers, organizations, "CU-000002", 5) == std::vector<std::string>{"CU-000003"});
    CHECK(page_ids(customers, all, "CU-0000015", 5) == std::vector<std::string>{"CU-000002", "CU-000003"});
    CHECK(page_ids(customers, all, "CU-000003", 5).empty());
    CHECK(page_ids(customers, all, "A", 5).size() == 3);

    // Unblocking moves the customer between segments; the summary is the entry's value.
    require_accepted(customers.execute("CU-000003", BlockCustomer{false, "", "alice"}));
    CHECK(customers.count(blocked) == 0);
    CHECK(customers.count(active_organizations) == 2);
    const auto hits = customers.lookup(customer_index::kList, list_prefix(all));
    REQUIRE(hits.size() == 3);
    CHECK(hits[1].value == "jane doe\njane@acme.example\ncu-000002\n\n");
    CHECK(customers.differences_from_log().empty());
}

TEST_CASE("read model: person emails (not blocked), CRM ids and request numbers", "[domain][read_model]") {
    TempDir dir;
    auto store = kernel::EventStore::open(dir.path());
    Runtime customers(*store, {"tests"}, customer_read_model());
    CreateCustomer person = create("CU-000002", v1::CUSTOMER_TYPE_PERSON, "Jane Doe", "Jane@Acme.example");
    person.created.set_prospect_request_number("PR-000001");
    require_accepted(customers.execute("CU-000002", person));
    CreateCustomer organization = create("CU-000001", v1::CUSTOMER_TYPE_ORGANIZATION, "Acme GmbH");
    organization.created.set_prospect_request_number("PR-000001");
    require_accepted(customers.execute("CU-000001", organization));

    CHECK(ids_of(customers.lookup(customer_index::kPersonEmail, IndexKey().text("jane@acme.example"))) ==
          std::vector<std::string>{"CU-000002"});
    CHECK(ids_of(customers.lookup(customer_index::kRequest,
                                  request_key("PR-000001", v1::CUSTOMER_TYPE_ORGANIZATION, false))) ==
          std::vector<std::string>{"CU-000001"});
    CHECK(customers.lookup(customer_index::kRequest, request_key("PR-000001", v1::CUSTOMER_TYPE_ORGANIZATION, true))
              .empty());

    require_accepted(customers.execute("CU-000001", LinkToCrm{"ACC-1", ""}));
    require_accepted(customers.execute("CU-000002", LinkToCrm{"ACC-1", "CON-1"}));
    CHECK(ids_of(customers.lookup(customer_index::kCrmAccount, IndexKey().text("ACC-1"))) ==
          std::vector<std::string>{"CU-000001"});  // the Organization only, not its contact's Person
    CHECK(ids_of(customers.lookup(customer_index::kCrmContact, IndexKey().text("CON-1"))) ==
          std::vector<std::string>{"CU-000002"});
    CHECK(
        ids_of(customers.lookup(customer_index::kRequest, request_key("PR-000001", v1::CUSTOMER_TYPE_PERSON, true))) ==
        std::vector<std::string>{"CU-000002"});
    CHECK(
        customers.lookup(customer_index::kRequest, request_key("PR-000001", v1::CUSTOMER_TYPE_PERSON, false)).empty());

    require_accepted(customers.execute("CU-000002", BlockCustomer{true, "left", "alice"}));
    CHECK(customers.lookup(customer_index::kPersonEmail, IndexKey().text("jane@acme.example")).empty());
    CHECK(customers.differences_from_log().empty());
}

TEST_CASE("read model: partner users by id and email, hierarchies, invitations by expiry", "[domain][read_model]") {
    TempDir dir;
    auto store = kernel::EventStore::open(dir.path());
    Runtime customers(*store, {"tests"}, customer_read_model());
    OnboardPartner onboard;
    onboard.organization = create("CU-000001", v1::CUSTOMER_TYPE_ORGANIZATION, "Acme GmbH").created;
    onboard.request_number = "PR-000007";
    onboard.hierarchy_id = "CH-000001";
    onboard.admin = partner_user("U-000001", "CU-000002", "jane@acme.example");
    onboard.invitation = invitation("inv-1", kT0 + 72h);
    require_accepted(customers.execute("CU-000001", onboard));
    require_accepted(
        customers.execute("CU-000001", AddPartnerUser{partner_user("U-000002", "CU-000003", "max@acme.example")}));

    CHECK(ids_of(customers.lookup(customer_index::kOnboarded, IndexKey().text("PR-000007"))) ==
          std::vector<std::string>{"CU-000001"});
    CHECK(ids_of(customers.lookup(customer_index::kHierarchy, IndexKey().text("CH-000001"))) ==
          std::vector<std::string>{"CU-000001"});
    CHECK(ids_of(customers.lookup(customer_index::kUser, IndexKey().text("U-000002"))) ==
          std::vector<std::string>{"CU-000001"});
    // Only Active users sign in: Max is Pending.
    CHECK(customers.lookup(customer_index::kUserEmail, IndexKey().text("max@acme.example")).empty());
    const auto jane = customers.lookup(customer_index::kUserEmail, IndexKey().text("jane@acme.example"));
    REQUIRE(jane.size() == 1);
    CHECK(jane[0].value == "U-000001");

    require_accepted(customers.execute("CU-000001", ActivatePartnerUser{"U-000002", invitation("inv-2", kT0 + 24h)}));
    CHECK(customers.lookup(customer_index::kUserEmail, IndexKey().text("max@acme.example")).size() == 1);
    // Due before a time: the invitations whose link expired before it, oldest first.
    CHECK(due_before(customers, kT0 + 24h).empty());  // "expired" means strictly before now
    CHECK(due_before(customers, kT0 + 24h + 1ns) == std::vector<std::string>{"U-000002"});
    CHECK(due_before(customers, kT0 + 100h) == std::vector<std::string>{"U-000002", "U-000001"});

    require_accepted(customers.execute("CU-000001", ExpireInvitations{kT0 + 48h}));
    CHECK(due_before(customers, kT0 + 100h) == std::vector<std::string>{"U-000001"});
    require_accepted(customers.execute("CU-000001", ChangeInvitation{"U-000001", std::nullopt, "alice"}));
    CHECK(due_before(customers, kT0 + 100h).empty());
    // A Person's live web accounts, for its master data to reach them.
    const auto max_accounts = customers.lookup(customer_index::kUserCustomer, IndexKey().text("CU-000003"));
    REQUIRE(max_accounts.size() == 1);
    CHECK(max_accounts[0].aggregate_id == "CU-000001");
    CHECK(max_accounts[0].value == "U-000002");
    require_accepted(customers.execute("CU-000001", RemovePartnerUser{"U-000002", "alice"}));
    CHECK(customers.lookup(customer_index::kUserEmail, IndexKey().text("max@acme.example")).empty());
    CHECK(customers.lookup(customer_index::kUserCustomer, IndexKey().text("CU-000003")).empty());
    CHECK(customers.lookup(customer_index::kUser, IndexKey().text("U-000002")).size() == 1);  // still found by id
    CHECK(customers.differences_from_log().empty());
}

TEST_CASE("read model: built from the log when it was never built", "[domain][read_model]") {
    TempDir dir;
    auto store = kernel::EventStore::open(dir.path());
    {
        Runtime without_model(*store, {"tests"});
        require_accepted(
            without_model.execute("CU-000001", create("CU-000001", v1::CUSTOMER_TYPE_ORGANIZATION, "Acme GmbH")));
        require_accepted(without_model.execute(
            "CU-000002", create("CU-000002", v1::CUSTOMER_TYPE_PERSON, "Jane Doe", "jane@acme.example")));
    }
    Runtime customers(*store, {"tests"}, customer_read_model());
    CHECK(customers.bring_up_to_date() == 2);
    CHECK(customers.bring_up_to_date() == 0);
    CHECK(customers.count(list_segment(v1::CUSTOMER_TYPE_UNSPECIFIED, ListStatus::any)) == 2);
    CHECK(customers.lookup(customer_index::kPersonEmail, IndexKey().text("jane@acme.example")).size() == 1);
    CHECK(customers.differences_from_log().empty());
}
