// Given events / when command / then events (or rejection), for the Customer aggregate.
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "domain/customer.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse;
using namespace gatehouse::customers;
using gatehouse::kernel::Rejection;
using gatehouse::kernel::RejectionCode;
using namespace std::chrono_literals;

namespace {

const Clock::time_point kT0 = Clock::from_time_t(1'764'000'000);

v1::CustomerEvent organization_created(const std::string& id = "CU-000001",
                                       common::v1::ChangeOrigin origin = common::v1::CHANGE_ORIGIN_LOCAL,
                                       Clock::time_point at = kT0) {
    v1::CustomerEvent event;
    auto& created = *event.mutable_customer_created();
    created.set_customer_id(id);
    created.set_type(v1::CUSTOMER_TYPE_ORGANIZATION);
    created.mutable_details()->set_name("Acme GmbH");
    created.mutable_details()->set_phone("+49 30 1");
    created.set_source(v1::CUSTOMER_SOURCE_HQ);
    created.set_origin(origin);
    *created.mutable_changed_at() = kernel::to_timestamp(at);
    return event;
}

CustomerState given(const std::vector<v1::CustomerEvent>& history) { return testing::given<Customer>(history); }

std::vector<v1::CustomerEvent> accepted(const Customer::Command& command, const CustomerState& state) {
    return testing::then_events(Customer::decide(command, state));
}

Rejection rejected(const Customer::Command& command, const CustomerState& state) {
    return testing::then_rejected(Customer::decide(command, state));
}

CustomerState after(CustomerState state, const std::vector<v1::CustomerEvent>& events) {
    return testing::evolved<Customer>(std::move(state), events);
}

UpdateCustomer rename(const std::string& name, Clock::time_point at, Side side) {
    UpdateCustomer update;
    update.details.set_name(name);
    update.fields = {"name"};
    update.changed_at = at;
    update.side = side;
    update.changed_by = side == Side::customers ? "alice" : "sales-bridge";
    return update;
}

v1::InvitationIssued invitation(const std::string& id, Clock::time_point expires) {
    v1::InvitationIssued issued;
    issued.set_invitation_id(id);
    issued.set_token_sealed_for_notifier("sealed:" + id);
    *issued.mutable_expires_at() = kernel::to_timestamp(expires);
    return issued;
}

v1::PartnerUserAdded user(const std::string& user_id, const std::string& customer_id, const std::string& email) {
    v1::PartnerUserAdded added;
    added.set_user_id(user_id);
    added.set_customer_id(customer_id);
    added.set_email(email);
    added.set_first_name("Jane");
    added.set_last_name("Doe");
    return added;
}

// An onboarded partner: organization CU-000001, admin U-000001 (customer CU-000002), hierarchy CH-000001.
std::vector<v1::CustomerEvent> onboarded_history() {
    OnboardPartner onboard;
    v1::CustomerCreated organization = organization_created().customer_created();
    onboard.organization = organization;
    onboard.request_number = "PR-000007";
    onboard.hierarchy_id = "CH-000001";
    onboard.admin = user("U-000001", "CU-000002", "jane@acme.example");
    onboard.invitation = invitation("inv-1", kT0 + 72h);
    return accepted(onboard, Customer::initial());
}

}  // namespace

TEST_CASE("create: a new customer, the same id twice is ALREADY_EXISTS", "[domain]") {
    const auto events = accepted(CreateCustomer{organization_created().customer_created()}, Customer::initial());
    REQUIRE(events.size() == 1);
    CHECK(events[0].customer_created().customer_id() == "CU-000001");
    CHECK(rejected(CreateCustomer{organization_created().customer_created()}, given(events)).code ==
          RejectionCode::already_exists);
}

TEST_CASE("HQ update: only changed fields are published, LOCAL, a field of the other type is refused",
          "[domain][replication]") {
    const CustomerState state = given({organization_created()});
    UpdateCustomer update = rename("Acme AG", kT0 + 1h, Side::customers);
    update.details.set_phone("+49 30 1");  // unchanged
    update.fields.push_back("phone");
    const auto events = accepted(update, state);
    REQUIRE(events.size() == 1);
    const auto& updated = events[0].customer_updated();
    CHECK(std::vector<std::string>(updated.changed_fields().begin(), updated.changed_fields().end()) ==
          std::vector<std::string>{"name"});
    CHECK(updated.origin() == common::v1::CHANGE_ORIGIN_LOCAL);
    CHECK(updated.details().name() == "Acme AG");
    CHECK(accepted(rename("Acme GmbH", kT0 + 1h, Side::customers), state).empty());  // same value: no write

    UpdateCustomer person_field;
    person_field.fields = {"first_name"};
    person_field.changed_at = kT0 + 1h;
    CHECK(rejected(person_field, state).code == RejectionCode::invalid_argument);
}

TEST_CASE("replication: a later CRM change wins, an earlier one loses silently, ties go to customers",
          "[domain][replication]") {
    const CustomerState state = given({organization_created()});
    const auto later = accepted(rename("Acme CRM", kT0 + 1h, Side::sales), state);
    REQUIRE(later.size() == 1);
    CHECK(later[0].customer_updated().origin() == common::v1::CHANGE_ORIGIN_REPLICATED);
    CHECK(after(state, later).details.name() == "Acme CRM");

    const CustomerState hq_edit = after(state, accepted(rename("Acme HQ", kT0 + 2h, Side::customers), state));
    CHECK(accepted(rename("Acme older", kT0 + 1h, Side::sales), hq_edit).empty());  // rule 3: nothing published
    CHECK(accepted(rename("Acme tie", kT0 + 2h, Side::sales), hq_edit).empty());    // tie: customers wins
    CHECK(after(hq_edit, accepted(rename("Acme newer", kT0 + 3h, Side::sales), hq_edit)).details.name() ==
          "Acme newer");
}

TEST_CASE("replication: both sides converge whatever order concurrent changes arrive in", "[domain][replication]") {
    // Three concurrent writes of one field: HQ at t+1h, CRM at t+1h (tie), CRM at t+30m. Each side
    // sees its own first and the other's later, in any order; all orders end on HQ's value.
    const std::vector<UpdateCustomer> changes = {rename("from HQ", kT0 + 1h, Side::customers),
                                                 rename("from CRM tie", kT0 + 1h, Side::sales),
                                                 rename("from CRM early", kT0 + 30min, Side::sales)};
    std::vector<int> order = {0, 1, 2};
    std::set<std::string> finals;
    do {
        CustomerState state = given({organization_created()});
        for (int index : order) {
            auto decision = Customer::decide(changes[static_cast<std::size_t>(index)], state);
            state = after(state, std::get<std::vector<v1::CustomerEvent>>(decision));
        }
        finals.insert(state.details.name());
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(finals == std::set<std::string>{"from HQ"});
}

TEST_CASE("a CRM change re-delivered is applied once: the second delivery loses to its own stamp",
          "[domain][replication]") {
    const CustomerState state = given({organization_created("CU-000001", common::v1::CHANGE_ORIGIN_REPLICATED)});
    const auto first = accepted(rename("Acme CRM", kT0 + 1h, Side::sales), state);
    REQUIRE(first.size() == 1);
    CHECK(accepted(rename("Acme CRM", kT0 + 1h, Side::sales), after(state, first)).empty());
}

TEST_CASE("onboard: organization, hierarchy, admin user Active with an ADMIN_ON_APPROVAL invitation, once",
          "[domain]") {
    const auto events = onboarded_history();
    std::vector<v1::CustomerEvent::EventCase> cases;
    for (const auto& event : events) {
        cases.push_back(event.event_case());
    }
    CHECK(cases == std::vector<v1::CustomerEvent::EventCase>{
                       v1::CustomerEvent::kCustomerCreated, v1::CustomerEvent::kHierarchyCreated,
                       v1::CustomerEvent::kMemberAdded, v1::CustomerEvent::kMemberAdded, v1::CustomerEvent::kUserAdded,
                       v1::CustomerEvent::kUserActivated, v1::CustomerEvent::kInvitationIssued,
                       v1::CustomerEvent::kPartnerOnboarded});
    const auto& issued = events[6].invitation_issued();
    CHECK(issued.kind() == v1::INVITATION_KIND_ADMIN_ON_APPROVAL);
    CHECK(issued.request_number() == "PR-000007");
    CHECK(issued.organization_name() == "Acme GmbH");
    CHECK(issued.email() == "jane@acme.example");
    const CustomerState state = given(events);
    CHECK(state.admin_user_id == "U-000001");
    CHECK(state.hierarchies.at("CH-000001").members == std::vector<std::string>{"CU-000001", "CU-000002"});

    OnboardPartner again;
    again.request_number = "PR-000007";
    again.hierarchy_id = "CH-000009";
    again.admin = user("U-000009", "CU-000009", "jane@acme.example");
    CHECK(accepted(again, state).empty());
}

TEST_CASE("partner users: Pending, then Active in the hierarchy with an invitation, one email per organization",
          "[domain][users]") {
    CustomerState state = given(onboarded_history());
    const auto added = accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state);
    REQUIRE(added.size() == 1);
    CHECK_FALSE(added[0].user_added().administrator());
    CHECK_FALSE(added[0].user_added().permissions().view_financials());
    state = after(state, added);
    CHECK(state.user("U-000002")->status == UserStatus::pending);
    CHECK(rejected(AddPartnerUser{user("U-000003", "CU-000004", "MAX@acme.example")}, state).code ==
          RejectionCode::already_exists);

    const auto activated = accepted(ActivatePartnerUser{"U-000002", invitation("inv-2", kT0 + 72h)}, state);
    REQUIRE(activated.size() == 3);
    CHECK(activated[0].member_added().customer_id() == "CU-000003");
    CHECK(activated[2].invitation_issued().kind() == v1::INVITATION_KIND_PARTNER_USER);
    state = after(state, activated);
    CHECK(state.user("U-000002")->status == UserStatus::active);
}

TEST_CASE("remove: out of the hierarchy, customer kept, the admin cannot be removed", "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state));
    state = after(state, accepted(ActivatePartnerUser{"U-000002", invitation("inv-2", kT0 + 72h)}, state));
    const auto removed = accepted(RemovePartnerUser{"U-000002", "U-000001"}, state);
    REQUIRE(removed.size() == 2);
    CHECK(removed[0].member_removed().customer_id() == "CU-000003");
    CHECK(removed[1].user_removed().organization_name() == "Acme GmbH");
    state = after(state, removed);
    CHECK(state.hierarchies.at("CH-000001").members == std::vector<std::string>{"CU-000001", "CU-000002"});
    CHECK(state.user("U-000002")->status == UserStatus::removed);
    CHECK(accepted(RemovePartnerUser{"U-000002", "U-000001"}, state).empty());
    CHECK(rejected(RemovePartnerUser{"U-000001", "hq"}, state).code == RejectionCode::failed_precondition);
}

TEST_CASE("set password: only with the open, unexpired link, once, a resend replaces the link", "[domain][users]") {
    CustomerState state = given(onboarded_history());
    CHECK(rejected(SetPassword{"U-000001", "inv-wrong", "cred-1", kT0 + 1h}, state).code ==
          RejectionCode::invalid_argument);
    CHECK(rejected(SetPassword{"U-000001", "inv-1", "cred-1", kT0 + 73h}, state).code ==
          RejectionCode::invalid_argument);

    const auto resent = accepted(ChangeInvitation{"U-000001", invitation("inv-2", kT0 + 80h), "hq"}, state);
    REQUIRE(resent.size() == 1);
    CHECK(resent[0].invitation_issued().resend_count() == 1);
    CHECK(resent[0].invitation_issued().kind() == v1::INVITATION_KIND_ADMIN_ON_APPROVAL);
    state = after(state, resent);
    CHECK(rejected(SetPassword{"U-000001", "inv-1", "cred-1", kT0 + 1h}, state).code ==
          RejectionCode::invalid_argument);

    const auto set = accepted(SetPassword{"U-000001", "inv-2", "cred-1", kT0 + 1h}, state);
    REQUIRE(set.size() == 1);
    CHECK(set[0].password_set().credential_id() == "cred-1");
    state = after(state, set);
    CHECK(rejected(SetPassword{"U-000001", "inv-2", "cred-2", kT0 + 2h}, state).code ==
          RejectionCode::invalid_argument);
    CHECK(rejected(ChangeInvitation{"U-000001", invitation("inv-3", kT0 + 90h), "hq"}, state).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("invitations expire and can be revoked", "[domain][users]") {
    CustomerState state = given(onboarded_history());
    CHECK(accepted(ExpireInvitations{kT0 + 1h}, state).empty());
    const auto expired = accepted(ExpireInvitations{kT0 + 73h}, state);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].invitation_expired().user_id() == "U-000001");

    const auto revoked = accepted(ChangeInvitation{"U-000001", std::nullopt, "hq"}, state);
    REQUIRE(revoked.size() == 1);
    CHECK(revoked[0].invitation_revoked().invitation_id() == "inv-1");
    CHECK(rejected(SetPassword{"U-000001", "inv-1", "c", kT0 + 1h}, after(state, revoked)).code ==
          RejectionCode::invalid_argument);
}

TEST_CASE("change administrator: exactly one, the old one becomes a normal user", "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state));
    CHECK(rejected(ChangeAdministrator{"U-000002", "hq"}, state).code == RejectionCode::failed_precondition);
    state = after(state, accepted(ActivatePartnerUser{"U-000002", invitation("inv-2", kT0 + 72h)}, state));
    const auto changed = accepted(ChangeAdministrator{"U-000002", "hq"}, state);
    REQUIRE(changed.size() == 1);
    CHECK(changed[0].administrator_changed().old_admin().user_id() == "U-000001");
    CHECK(changed[0].administrator_changed().new_admin().email() == "max@acme.example");
    state = after(state, changed);
    CHECK(state.admin_user_id == "U-000002");
    CHECK_FALSE(state.user("U-000001")->user.administrator());
    CHECK(state.user("U-000002")->user.administrator());
    CHECK(rejected(ChangeAdministrator{"U-404", "hq"}, state).code == RejectionCode::not_found);
}

TEST_CASE("hierarchy members: add and remove, removing keeps the customer, block needs a reason", "[domain]") {
    CustomerState state = given({organization_created()});
    state = after(state, accepted(CreateHierarchy{"CH-000002", "Acme buyers", "alice"}, state));
    state = after(state, accepted(ChangeMember{"CH-000002", "CU-000005", true}, state));
    CHECK(accepted(ChangeMember{"CH-000002", "CU-000005", true}, state).empty());
    state = after(state, accepted(ChangeMember{"CH-000002", "CU-000005", false}, state));
    CHECK(state.hierarchies.at("CH-000002").members == std::vector<std::string>{"CU-000001"});
    CHECK(rejected(ChangeMember{"CH-404", "CU-000005", true}, state).code == RejectionCode::not_found);
    CHECK(rejected(BlockCustomer{true, "", "alice"}, state).code == RejectionCode::invalid_argument);
    state = after(state, accepted(BlockCustomer{true, "unpaid invoices", "alice"}, state));
    CHECK(state.blocked);
    CHECK(rejected(AddPartnerUser{user("U-000009", "CU-000009", "x@acme.example")}, state).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE("limits: credit limit and terms for an Organization, spending limit for a Person", "[domain]") {
    const CustomerState state = given({organization_created()});
    SetLimits limits;
    common::v1::Money money;
    money.set_currency_code("EUR");
    money.set_minor_units(500000);
    limits.credit_limit = money;
    limits.payment_terms = "30 days net";
    CHECK(after(state, accepted(limits, state)).payment_terms == "30 days net");
    SetLimits spending;
    spending.spending_limit = money;
    CHECK(rejected(spending, state).code == RejectionCode::invalid_argument);
}

TEST_CASE("link to CRM: an existing customer gets its CRM id once, never a second one", "[domain][replication]") {
    CustomerState state = given({organization_created()});
    const auto linked = accepted(LinkToCrm{"ACC-1", ""}, state);
    REQUIRE(linked.size() == 1);
    state = after(state, linked);
    CHECK(state.created.crm_account_id() == "ACC-1");
    CHECK(accepted(LinkToCrm{"ACC-1", ""}, state).empty());
    CHECK(rejected(LinkToCrm{"ACC-2", ""}, state).code == RejectionCode::failed_precondition);
}

TEST_CASE("an HQ edit wins over a CRM change stamped ahead by a skewed clock: its stamp moves past it",
          "[domain][replication]") {
    CustomerState state = given({organization_created()});
    state = after(state, accepted(rename("CRM, clock ahead", kT0 + 10h, Side::sales), state));
    const auto edit = accepted(rename("HQ now", kT0 + 1h, Side::customers), state);
    REQUIRE(edit.size() == 1);
    CHECK(kernel::to_time_point(edit[0].customer_updated().changed_at()) > kT0 + 10h);
    state = after(state, edit);
    CHECK(state.details.name() == "HQ now");
    // The CRM's own change at the same instant as the moved stamp would still lose (tie: customers).
    CHECK(accepted(rename("CRM", kernel::to_time_point(edit[0].customer_updated().changed_at()), Side::sales), state)
              .empty());
}

TEST_CASE("re-add: a removed user's Person gets a new account (new user id) and the old one stays removed",
          "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state));
    state = after(state, accepted(ActivatePartnerUser{"U-000002", invitation("inv-2", kT0 + 72h)}, state));
    state = after(state, accepted(SetPassword{"U-000002", "inv-2", "cred-2", kT0 + 1h}, state));
    state = after(state, accepted(RemovePartnerUser{"U-000002", "U-000001"}, state));

    // Given the removal, when the same email is added again for the same Person: a new user.
    const auto added = accepted(AddPartnerUser{user("U-000003", "CU-000003", "max@acme.example")}, state);
    REQUIRE(added.size() == 1);
    CHECK(added[0].user_added().user_id() == "U-000003");
    CHECK(added[0].user_added().customer_id() == "CU-000003");
    state = after(state, added);
    const auto activated = accepted(ActivatePartnerUser{"U-000003", invitation("inv-3", kT0 + 72h)}, state);
    REQUIRE(activated.size() == 3);
    CHECK(activated[0].member_added().customer_id() == "CU-000003");  // back in the hierarchy
    CHECK(activated[2].invitation_issued().user_id() == "U-000003");
    state = after(state, activated);
    CHECK(state.user("U-000002")->status == UserStatus::removed);  // its history is its own
    CHECK(state.user("U-000002")->credential_id == "cred-2");
    CHECK(state.user("U-000003")->status == UserStatus::active);
    CHECK(state.user("U-000003")->credential_id.empty());  // no password carried over
    CHECK(state.user_by_customer("CU-000003")->user.user_id() == "U-000003");

    // A Person has one live account per organisation.
    CHECK(rejected(AddPartnerUser{user("U-000004", "CU-000003", "other@acme.example")}, state).code ==
          RejectionCode::already_exists);
}

TEST_CASE(
    "password reset: an Active user gets a PASSWORD_RESET link that SetPassword takes (not when Pending or "
    "blocked)",
    "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(SetPassword{"U-000001", "inv-1", "cred-1", kT0 + 1h}, state));

    const auto reset = accepted(ResetPassword{"U-000001", invitation("reset-1", kT0 + 2h)}, state);
    REQUIRE(reset.size() == 1);
    CHECK(reset[0].invitation_issued().kind() == v1::INVITATION_KIND_PASSWORD_RESET);
    CHECK(reset[0].invitation_issued().email() == "jane@acme.example");
    CHECK(reset[0].invitation_issued().resend_count() == 1);
    state = after(state, reset);
    CHECK(rejected(SetPassword{"U-000001", "reset-1", "cred-2", kT0 + 3h}, state).code ==
          RejectionCode::invalid_argument);  // expired
    const auto set = accepted(SetPassword{"U-000001", "reset-1", "cred-2", kT0 + 90min}, state);
    REQUIRE(set.size() == 1);
    state = after(state, set);
    CHECK(state.user("U-000001")->credential_id == "cred-2");
    CHECK(rejected(SetPassword{"U-000001", "reset-1", "cred-3", kT0 + 95min}, state).code ==
          RejectionCode::invalid_argument);  // single use

    state = after(state, accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state));
    CHECK(rejected(ResetPassword{"U-000002", invitation("reset-2", kT0 + 2h)}, state).code ==
          RejectionCode::failed_precondition);  // Pending
    CHECK(rejected(ResetPassword{"U-404", invitation("reset-3", kT0 + 2h)}, state).code == RejectionCode::not_found);
    state = after(state, accepted(BlockCustomer{true, "unpaid", "hq"}, state));
    CHECK(rejected(ResetPassword{"U-000001", invitation("reset-4", kT0 + 2h)}, state).code ==
          RejectionCode::failed_precondition);
}

TEST_CASE(
    "a new invitation after a restore from the topic: refused while the credential is stored and issued "
    "when it is lost",
    "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(SetPassword{"U-000001", "inv-1", "cred-1", kT0 + 1h}, state));
    CHECK(rejected(ChangeInvitation{"U-000001", invitation("inv-2", kT0 + 80h), "hq"}, state).code ==
          RejectionCode::failed_precondition);
    const auto reissued = accepted(ChangeInvitation{"U-000001", invitation("inv-2", kT0 + 80h), "hq", true}, state);
    REQUIRE(reissued.size() == 1);
    CHECK(reissued[0].invitation_issued().kind() == v1::INVITATION_KIND_ADMIN_ON_APPROVAL);
    state = after(state, reissued);
    CHECK(accepted(SetPassword{"U-000001", "inv-2", "cred-2", kT0 + 2h}, state).size() == 1);
}

TEST_CASE(
    "web accounts follow their Person (names, job title and sign-in email) and refuse an email of another "
    "account",
    "[domain][users]") {
    CustomerState state = given(onboarded_history());
    state = after(state, accepted(AddPartnerUser{user("U-000002", "CU-000003", "max@acme.example")}, state));
    v1::CustomerDetails person;
    person.set_first_name("Jane");
    person.set_last_name("Doe");
    person.set_email("jane@acme.example");
    // Given the Person's data unchanged: nothing.
    CHECK(accepted(SyncUsersWithPerson{"CU-000002", person, "alice"}, state).empty());

    person.set_last_name("Roe");
    person.set_email("Jane.Roe@acme.example");
    person.set_job_title("CEO");
    const auto synced = accepted(SyncUsersWithPerson{"CU-000002", person, "alice"}, state);
    REQUIRE(synced.size() == 1);
    CHECK(synced[0].user_updated().user_id() == "U-000001");
    CHECK(synced[0].user_updated().last_name() == "Roe");
    CHECK(synced[0].user_updated().email() == "jane.roe@acme.example");
    state = after(state, synced);
    CHECK(state.user("U-000001")->user.email() == "jane.roe@acme.example");
    CHECK(state.user("U-000001")->user.job_title() == "CEO");
    CHECK(state.user("U-000001")->user.administrator());
    CHECK(state.user_by_email("jane@acme.example") == nullptr);

    // A name-only change leaves the email as it is (an event without email).
    person.set_first_name("Janet");
    const auto renamed = accepted(SyncUsersWithPerson{"CU-000002", person, "sales-bridge"}, state);
    REQUIRE(renamed.size() == 1);
    CHECK(renamed[0].user_updated().email().empty());
    CHECK(after(state, renamed).user("U-000001")->user.email() == "jane.roe@acme.example");

    person.set_email("max@acme.example");
    CHECK(rejected(SyncUsersWithPerson{"CU-000002", person, "alice"}, state).code == RejectionCode::already_exists);
}
