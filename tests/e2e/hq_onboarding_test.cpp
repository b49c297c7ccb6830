// Seed 001's second path, "On-boarding business partner & users from Commerce HQ", and the
// forgotten-password flow, end to end: the four service processes, Kafka and the real SMTP server;
// asserted through the public APIs and the emails received.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "platform.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace cu = gatehouse::customers::v1;

namespace {

constexpr auto kFlow = 60s;  // the longest any hop of a story may take (consumer group joins included)
constexpr const char* kPassword = "correct horse battery staple 42";

cu::Customer create_customer(Platform& platform, cu::CustomerType type, const std::string& name,
                             const std::string& email, const std::string& organization, bool b2b_admin) {
    cu::CreateCustomerRequest request;
    request.set_type(type);
    if (type == cu::CUSTOMER_TYPE_ORGANIZATION) {
        request.mutable_details()->set_name(name);
        request.mutable_details()->set_phone("+49 89 123456");
    } else {
        request.mutable_details()->set_first_name(name.substr(0, name.find(' ')));
        request.mutable_details()->set_last_name(name.substr(name.find(' ') + 1));
        request.mutable_details()->set_email(email);
    }
    request.set_organization_customer_id(organization);
    request.set_b2b_admin(b2b_admin);
    cu::CreateCustomerResponse response;
    const auto status = platform.customers()->CreateCustomer(call_as(kHq).get(), request, &response);
    REQUIRE(status.error_message().empty());
    return response.customer();
}

grpc::Status set_password(Platform& platform, const std::string& token, const std::string& password) {
    cu::SetPasswordRequest set;
    set.set_token(token);
    set.set_password(password);
    cu::SetPasswordResponse done;
    return platform.customers()->SetPassword(call_as().get(), set, &done);
}

grpc::Status sign_in(Platform& platform, const std::string& email, const std::string& password,
                     cu::SignInResponse& session) {
    cu::SignInRequest request;
    request.set_email(email);
    request.set_password(password);
    return platform.customers()->SignIn(call_as().get(), request, &session);
}

// The emails to `address` whose subject contains `subject_part`, once there are `count`.
std::vector<nlohmann::json> wait_for_emails(Platform& platform, const std::string& address,
                                            const std::string& subject_part, std::size_t count = 1) {
    std::vector<nlohmann::json> found;
    REQUIRE(
        wait_until([&] { return (found = emails_to(platform.smtp(), address, subject_part)).size() >= count; }, kFlow));
    return found;
}

}  // namespace

TEST_CASE(
    "HQ onboarding (seed 001): HQ creates the organization and its people and a hierarchy, sets B2B administrator, "
    "the administrator is invited, signs in and adds a user",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);

    // 1-2. HQ creates the Organization and the Person customers (with their primary emails).
    const cu::Customer organization =
        create_customer(platform, cu::CUSTOMER_TYPE_ORGANIZATION, "Fabrikam Tools GmbH", "", "", false);
    const cu::Customer klara = create_customer(platform, cu::CUSTOMER_TYPE_PERSON, "Klara Kunde",
                                               "klara@fabrikam.example", organization.customer_id(), false);
    const cu::Customer paul = create_customer(platform, cu::CUSTOMER_TYPE_PERSON, "Paul Person",
                                              "paul@fabrikam.example", organization.customer_id(), false);
    CHECK_FALSE(klara.b2b_admin());

    // 4. A customer hierarchy with the organization and the people.
    cu::CreateHierarchyRequest hierarchy;
    hierarchy.set_organization_customer_id(organization.customer_id());
    hierarchy.set_name("Fabrikam buyers");
    cu::CreateHierarchyResponse created;
    REQUIRE(platform.customers()->CreateHierarchy(call_as(kHq).get(), hierarchy, &created).ok());
    for (const auto& person : {klara, paul}) {
        cu::ChangeHierarchyMemberRequest member;
        member.set_hierarchy_id(created.hierarchy().hierarchy_id());
        member.set_customer_id(person.customer_id());
        member.set_add(true);
        cu::ChangeHierarchyMemberResponse changed;
        REQUIRE(platform.customers()->ChangeHierarchyMember(call_as(kHq).get(), member, &changed).ok());
    }

    // 3. "B2B administrator = Yes" on Klara: her web account, as the organization's administrator.
    cu::UpdateCustomerRequest admin;
    admin.set_customer_id(klara.customer_id());
    admin.set_b2b_admin(true);
    cu::UpdateCustomerResponse updated;
    const auto admin_status = platform.customers()->UpdateCustomer(call_as(kHq).get(), admin, &updated);
    REQUIRE(admin_status.error_message().empty());
    CHECK(updated.customer().b2b_admin());

    // The invitation with the set-password link arrives at the SMTP server; Klara sets a password and signs in.
    const auto invitation = wait_for_emails(platform, "klara@fabrikam.example", "invited");
    REQUIRE(invitation.size() == 1);
    CHECK_THAT(invitation[0]["text"].get<std::string>(), Catch::Contains("Fabrikam Tools GmbH"));
    CHECK_THAT(invitation[0]["text"].get<std::string>(), Catch::Contains("/set-password?token="));
    wait_for_emails(platform, "klara@fabrikam.example", "administrator");
    REQUIRE(set_password(platform, link_token(invitation[0]), kPassword).ok());
    cu::SignInResponse session;
    REQUIRE(sign_in(platform, "klara@fabrikam.example", kPassword, session).ok());
    CHECK(session.organization_customer_id() == organization.customer_id());

    // As the administrator she adds Paul, whom HQ created already: his own Person gets the web account.
    cu::AddPartnerUserRequest add;
    add.set_email("paul@fabrikam.example");
    add.set_first_name("Paul");
    add.set_last_name("Person");
    cu::AddPartnerUserResponse added;
    const auto add_status = platform.customers()->AddPartnerUser(call_as(session.session_token()).get(), add, &added);
    REQUIRE(add_status.error_message().empty());
    CHECK(added.user().customer_id() == paul.customer_id());
    CHECK(added.user().status() == cu::PARTNER_USER_STATUS_ACTIVE);
    const auto paul_invitation = wait_for_emails(platform, "paul@fabrikam.example", "invited");
    REQUIRE(set_password(platform, link_token(paul_invitation[0]), "paul's own long password").ok());
    cu::SignInResponse paul_session;
    REQUIRE(sign_in(platform, "paul@fabrikam.example", "paul's own long password", paul_session).ok());

    // No second Person for Paul, and the hierarchy is the one HQ built.
    cu::ListCustomersRequest people;
    people.set_text("paul@fabrikam.example");
    people.set_type(cu::CUSTOMER_TYPE_PERSON);
    cu::ListCustomersResponse listed;
    REQUIRE(platform.customers()->ListCustomers(call_as(kHq).get(), people, &listed).ok());
    CHECK(listed.total() == 1);
    cu::ListPartnerUsersRequest users_request;
    cu::ListPartnerUsersResponse users;
    REQUIRE(platform.customers()->ListPartnerUsers(call_as(session.session_token()).get(), users_request, &users).ok());
    REQUIRE(users.users_size() == 2);
    CHECK(std::count_if(users.users().begin(), users.users().end(),
                        [](const cu::PartnerUser& user) { return user.administrator(); }) == 1);
}

TEST_CASE(
    "forgotten password: the same answer for any email, the reset email arrives at the SMTP server, its link sets a "
    "new password, the old one stops working",
    "[e2e]") {
    KafkaTestCluster kafka;
    Platform platform(kafka);
    const cu::Customer organization =
        create_customer(platform, cu::CUSTOMER_TYPE_ORGANIZATION, "Contoso Parts AG", "", "", false);
    create_customer(platform, cu::CUSTOMER_TYPE_PERSON, "Rita Reset", "rita@contoso.example",
                    organization.customer_id(), true);
    const auto invitation = wait_for_emails(platform, "rita@contoso.example", "invited");
    REQUIRE(set_password(platform, link_token(invitation[0]), kPassword).ok());

    // "Forgot password": unknown and known emails get the same answer.
    cu::RequestPasswordResetRequest unknown;
    unknown.set_email("nobody@contoso.example");
    cu::RequestPasswordResetRequest known;
    known.set_email("Rita@contoso.example");
    cu::RequestPasswordResetResponse answer;
    const auto unknown_status = platform.customers()->RequestPasswordReset(call_as().get(), unknown, &answer);
    const auto known_status = platform.customers()->RequestPasswordReset(call_as().get(), known, &answer);
    CHECK(unknown_status.error_code() == known_status.error_code());
    CHECK(unknown_status.error_message() == known_status.error_message());
    REQUIRE(known_status.ok());

    const auto reset = wait_for_emails(platform, "rita@contoso.example", "Reset your password");
    REQUIRE(reset.size() == 1);
    CHECK_THAT(reset[0]["text"].get<std::string>(), Catch::Contains("Contoso Parts AG"));
    CHECK_THAT(reset[0]["text"].get<std::string>(), Catch::Contains("/set-password?token="));
    const std::string token = link_token(reset[0]);
    REQUIRE(set_password(platform, token, "a fresh password after the reset").ok());
    CHECK(set_password(platform, token, "yet another password here").error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);  // single use
    cu::SignInResponse session;
    CHECK(sign_in(platform, "rita@contoso.example", kPassword, session).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    REQUIRE(sign_in(platform, "rita@contoso.example", "a fresh password after the reset", session).ok());
    CHECK(session.organization_customer_id() == organization.customer_id());
    CHECK(emails_to(platform.smtp(), "nobody@contoso.example", "").empty());
}
