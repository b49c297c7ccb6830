// The customers service over loopback, against the real process: reactions to onboarding and
// sales events, replication, partner users, set-password and sign-in, and the authorization matrix.
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "customers_process.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/settings_docs.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace cv1 = gatehouse::customers::v1;

namespace {

constexpr const char* kPassword = "correct horse battery";

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 60s) {
    return wait_until(condition, timeout, 100ms);
}

std::string envelope(const google::protobuf::Message& event, const std::string& id, const std::string& aggregate_type,
                     const std::string& key, const std::string& producer) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(id);
    envelope.set_event_type(event.GetDescriptor()->full_name());
    envelope.set_aggregate_type(aggregate_type);
    envelope.set_aggregate_id(key);
    envelope.set_aggregate_version(1);
    envelope.set_producer(producer);
    envelope.set_correlation_id(id);
    envelope.set_payload(event.SerializeAsString());
    return envelope.SerializeAsString();
}

onboarding::v1::ProspectApproved approval(const std::string& request_number, const std::string& company,
                                          const std::string& email,
                                          onboarding::v1::ApprovalMode mode = onboarding::v1::APPROVAL_MODE_DIRECT) {
    onboarding::v1::ProspectApproved approved;
    approved.set_approved_by(mode == onboarding::v1::APPROVAL_MODE_CRM ? "sales-bridge" : "alice");
    approved.set_path(mode == onboarding::v1::APPROVAL_MODE_CRM ? onboarding::v1::DECISION_PATH_CRM
                                                                : onboarding::v1::DECISION_PATH_HQ);
    auto& prospect = *approved.mutable_prospect();
    prospect.set_request_number(request_number);
    prospect.mutable_company()->set_name(company);
    prospect.mutable_company()->mutable_address()->set_city("Berlin");
    prospect.mutable_company()->mutable_address()->set_country_code("DE");
    prospect.mutable_company()->set_phone("+49 30 1234567");
    prospect.mutable_contact()->set_first_name("Jane");
    prospect.mutable_contact()->set_last_name(company);
    prospect.mutable_contact()->set_email(email);
    prospect.set_approval_mode(mode);
    return approved;
}

// Every event on the customers topic: (event type, payload).
std::vector<std::pair<std::string, std::string>> customer_events(KafkaTestCluster& kafka, CustomersProcess& service,
                                                                 std::size_t at_least = 1) {
    std::vector<std::pair<std::string, std::string>> events;
    for (const auto& record : kafka.read_all(service.customers_topic(), at_least, 30s)) {
        kernel::v1::EventEnvelope envelope;
        REQUIRE(envelope.ParseFromString(record.value));
        events.emplace_back(envelope.event_type(), envelope.payload());
    }
    return events;
}

template <class Message>
std::vector<Message> events_of(KafkaTestCluster& kafka, CustomersProcess& service) {
    std::vector<Message> found;
    for (const auto& [type, payload] : customer_events(kafka, service)) {
        if (type == Message::descriptor()->full_name()) {
            Message message;
            REQUIRE(message.ParseFromString(payload));
            found.push_back(message);
        }
    }
    return found;
}

// The clear token of the newest invitation to `email`, opened as the notifier would.
std::string invitation_token(KafkaTestCluster& kafka, CustomersProcess& service, const std::string& email,
                             std::size_t resend_count = 0) {
    std::string token;
    eventually([&] {
        for (const auto& issued : events_of<cv1::InvitationIssued>(kafka, service)) {
            if (issued.email() == email && issued.resend_count() == resend_count) {
                token = service.unseal(issued.token_sealed_for_notifier());
            }
        }
        return !token.empty();
    });
    REQUIRE_FALSE(token.empty());
    return token;
}

grpc::Status set_password(CustomersProcess& service, const std::string& token, const std::string& password) {
    cv1::SetPasswordRequest request;
    request.set_token(token);
    request.set_password(password);
    cv1::SetPasswordResponse response;
    return service.api().SetPassword(as().get(), request, &response);
}

std::string sign_in(CustomersProcess& service, const std::string& email, const std::string& password = kPassword,
                    grpc::StatusCode expected = grpc::StatusCode::OK) {
    cv1::SignInRequest request;
    request.set_email(email);
    request.set_password(password);
    cv1::SignInResponse response;
    const auto status = service.api().SignIn(as().get(), request, &response);
    CHECK(status.error_code() == expected);
    return response.session_token();
}

cv1::ListCustomersResponse list(CustomersProcess& service, const std::string& text,
                                cv1::CustomerType type = cv1::CUSTOMER_TYPE_UNSPECIFIED) {
    cv1::ListCustomersRequest request;
    request.set_text(text);
    request.set_type(type);
    cv1::ListCustomersResponse response;
    REQUIRE(service.api().ListCustomers(as(kHqToken).get(), request, &response).ok());
    return response;
}

std::vector<cv1::PartnerUser> users_of(CustomersProcess& service, const std::string& organization) {
    cv1::ListPartnerUsersRequest request;
    request.set_organization_customer_id(organization);
    cv1::ListPartnerUsersResponse response;
    if (!service.api().ListPartnerUsers(as(kHqToken).get(), request, &response).ok()) {
        return {};
    }
    return {response.users().begin(), response.users().end()};
}

// The organization created for a company name (empty until it exists).
std::string organization_named(CustomersProcess& service, const std::string& name) {
    const auto found = list(service, name, cv1::CUSTOMER_TYPE_ORGANIZATION);
    for (const auto& customer : found.customers()) {
        if (customer.details().name() == name) {
            return customer.customer_id();
        }
    }
    return {};
}

struct Partner {
    std::string organization_id;
    std::string admin_user_id;
    std::string admin_customer_id;
    std::string admin_session;
};

// A partner onboarded through a direct approval, its admin with a password and a session.
Partner onboard(KafkaTestCluster& kafka, CustomersProcess& service, const std::string& request_number,
                const std::string& company, const std::string& email) {
    kafka.produce(service.onboarding_topic(), request_number,
                  envelope(approval(request_number, company, email), "approved-" + request_number, "prospect",
                           request_number, "onboarding"));
    Partner partner;
    REQUIRE(eventually([&] { return !(partner.organization_id = organization_named(service, company)).empty(); }));
    REQUIRE(eventually([&] { return users_of(service, partner.organization_id).size() == 1; }));
    const auto admin = users_of(service, partner.organization_id).front();
    partner.admin_user_id = admin.user_id();
    partner.admin_customer_id = admin.customer_id();
    REQUIRE(set_password(service, invitation_token(kafka, service, email), kPassword).ok());
    partner.admin_session = sign_in(service, email);
    REQUIRE_FALSE(partner.admin_session.empty());
    return partner;
}

cv1::PartnerUser add_user(CustomersProcess& service, const std::string& token, const std::string& organization,
                          const std::string& email, grpc::StatusCode expected = grpc::StatusCode::OK) {
    cv1::AddPartnerUserRequest request;
    request.set_organization_customer_id(organization);
    request.set_email(email);
    request.set_first_name("Max");
    request.set_last_name("Muster");
    request.set_job_title("Buyer");
    cv1::AddPartnerUserResponse response;
    const auto status = service.api().AddPartnerUser(as(token).get(), request, &response);
    CHECK(status.error_code() == expected);
    return response.user();
}

sales::v1::AccountCreated account_created(const std::string& account_id, const std::string& request_number,
                                          const std::string& name, google::protobuf::Timestamp at) {
    sales::v1::AccountCreated account;
    account.set_account_id(account_id);
    account.set_prospect_request_number(request_number);
    account.set_name(name);
    account.set_phone("+49 40 1");
    for (const char* field : {"name", "phone"}) {
        account.add_changed_fields(field);
    }
    *account.mutable_changed_at() = at;
    account.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    return account;
}

sales::v1::ContactCreated contact_created(const std::string& contact_id, const std::string& account_id,
                                          const std::string& request_number, const std::string& email,
                                          google::protobuf::Timestamp at) {
    sales::v1::ContactCreated contact;
    contact.set_contact_id(contact_id);
    contact.set_account_id(account_id);
    contact.set_prospect_request_number(request_number);
    contact.set_first_name("Carla");
    contact.set_last_name("Contact");
    contact.set_email(email);
    for (const char* field : {"first_name", "last_name", "email"}) {
        contact.add_changed_fields(field);
    }
    *contact.mutable_changed_at() = at;
    contact.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    return contact;
}

cv1::Customer get(CustomersProcess& service, const std::string& id) {
    cv1::GetCustomerRequest request;
    request.set_customer_id(id);
    cv1::GetCustomerResponse response;
    REQUIRE(service.api().GetCustomer(as(kHqToken).get(), request, &response).ok());
    return response.customer();
}

google::protobuf::Timestamp now_plus(std::chrono::seconds offset) {
    return kernel::to_timestamp(std::chrono::system_clock::now() + offset);
}

}  // namespace

TEST_CASE("prospect approved: organization, admin, hierarchy and invitation, exactly once under redelivery",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const std::string record = envelope(approval("PR-000001", "Acme GmbH", "Jane@Acme.example"), "approved-1",
                                        "prospect", "PR-000001", "onboarding");
    kafka.produce(service.onboarding_topic(), "PR-000001", record);
    kafka.produce(service.onboarding_topic(), "PR-000001", record);  // redelivered
    // The same approval again under another event id (e.g. a republished topic).
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000001", "Acme GmbH", "jane@acme.example"), "approved-1-again", "prospect",
                           "PR-000001", "onboarding"));
    // A later approval on the same partition: once it is applied, the three before it were handled.
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000002", "Marker AG", "mark@marker.example"), "approved-2", "prospect",
                           "PR-000002", "onboarding"));
    REQUIRE(eventually([&] { return !organization_named(service, "Marker AG").empty(); }));

    const std::string organization = organization_named(service, "Acme GmbH");
    REQUIRE_FALSE(organization.empty());
    CHECK(list(service, "acme").total() == 2);  // the Organization and the admin's Person, once each
    const auto users = users_of(service, organization);
    REQUIRE(users.size() == 1);
    CHECK(users[0].administrator());
    CHECK(users[0].email() == "jane@acme.example");
    CHECK(users[0].status() == cv1::PARTNER_USER_STATUS_ACTIVE);
    const cv1::Customer admin = get(service, users[0].customer_id());
    CHECK(admin.b2b_admin());
    CHECK(admin.organization_customer_id() == organization);
    CHECK(admin.source() == cv1::CUSTOMER_SOURCE_SELF_SERVE);

    cv1::ListHierarchiesRequest hierarchies_request;
    hierarchies_request.set_organization_customer_id(organization);
    cv1::ListHierarchiesResponse hierarchies;
    REQUIRE(service.api().ListHierarchies(as(kHqToken).get(), hierarchies_request, &hierarchies).ok());
    REQUIRE(hierarchies.hierarchies_size() == 1);
    CHECK(hierarchies.hierarchies(0).member_customer_ids_size() == 2);

    // The relay publishes after the commit: wait until Marker's invitation, logged after every
    // copy of Acme's approval was handled, is on the topic too.
    std::vector<cv1::InvitationIssued> invitations;
    REQUIRE(eventually([&] {
        invitations.clear();
        bool marker_invited = false;
        for (const auto& issued : events_of<cv1::InvitationIssued>(kafka, service)) {
            if (issued.organization_customer_id() == organization) {
                invitations.push_back(issued);
            }
            marker_invited = marker_invited || issued.organization_name() == "Marker AG";
        }
        return marker_invited && !invitations.empty();
    }));
    REQUIRE(invitations.size() == 1);
    CHECK(invitations[0].kind() == cv1::INVITATION_KIND_ADMIN_ON_APPROVAL);
    CHECK(invitations[0].request_number() == "PR-000001");
    CHECK(invitations[0].organization_name() == "Acme GmbH");
    const std::string token = service.unseal(invitations[0].token_sealed_for_notifier());
    REQUIRE(token.size() >= 22);  // at least 128 random bits
    for (const auto& record_on_topic : kafka.read_all(service.customers_topic(), 1, 10s)) {
        CHECK(record_on_topic.value.find(token) == std::string::npos);
    }
}

TEST_CASE("crm mode: the approval waits for the replicated account and contact, then reuses them", "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    // The approval arrives first; the CRM records come later on their own topic.
    kafka.produce(service.onboarding_topic(), "PR-000005",
                  envelope(approval("PR-000005", "Initech", "carla@initech.example", onboarding::v1::APPROVAL_MODE_CRM),
                           "approved-5", "prospect", "PR-000005", "onboarding"));
    kafka.produce(service.sales_topic(), "ACC-5",
                  envelope(account_created("ACC-5", "PR-000005", "Initech", now_plus(-60s)), "sales-1", "account",
                           "ACC-5", "sales-bridge"));
    kafka.produce(service.sales_topic(), "CON-5",
                  envelope(contact_created("CON-5", "ACC-5", "PR-000005", "carla@initech.example", now_plus(-60s)),
                           "sales-2", "contact", "CON-5", "sales-bridge"));
    std::string organization;
    REQUIRE(eventually([&] { return !(organization = organization_named(service, "Initech")).empty(); }));
    REQUIRE(eventually([&] { return users_of(service, organization).size() == 1; }));
    CHECK(list(service, "ACC-5", cv1::CUSTOMER_TYPE_ORGANIZATION).total() == 1);
    CHECK(list(service, "carla@initech.example", cv1::CUSTOMER_TYPE_PERSON).total() == 1);  // reused, not copied
    const auto admin = users_of(service, organization).front();
    const cv1::Customer person = get(service, admin.customer_id());
    CHECK(person.crm_contact_id() == "CON-5");
    CHECK(person.organization_customer_id() == organization);
    CHECK(person.b2b_admin());
    CHECK(get(service, organization).source() == cv1::CUSTOMER_SOURCE_CRM);
    CHECK_FALSE(invitation_token(kafka, service, "carla@initech.example").empty());
}

TEST_CASE(
    "crm mode: an approval whose CRM records do not arrive is parked after its retry budget, later approvals go on, "
    "and a retry applies it once they are there",
    "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(
        kafka, {{"GATEHOUSE_INBOX_RETRY_ATTEMPTS", "2"}, {"GATEHOUSE_INBOX_PARKED_RETRY_INTERVAL", "1h"}});
    auto operators = kernel::v1::OperatorService::NewStub(service.channel());
    kafka.produce(service.onboarding_topic(), "PR-000007",
                  envelope(approval("PR-000007", "Hooli", "gavin@hooli.example", onboarding::v1::APPROVAL_MODE_CRM),
                           "approved-7", "prospect", "PR-000007", "onboarding"));
    // Another request's approval behind it on the same partition (same record key).
    kafka.produce(service.onboarding_topic(), "PR-000007",
                  envelope(approval("PR-000008", "Pied Piper", "richard@piedpiper.example"), "approved-8", "prospect",
                           "PR-000008", "onboarding"));
    REQUIRE(eventually([&] { return !organization_named(service, "Pied Piper").empty(); }));

    kernel::v1::ListParkedRecordsResponse parked;
    REQUIRE(operators->ListParkedRecords(as(kOperatorToken).get(), {}, &parked).ok());
    REQUIRE(parked.parked_size() == 1);
    CHECK(parked.parked(0).aggregate_id() == "PR-000007");
    CHECK(parked.parked(0).event_id() == "approved-7");
    CHECK(parked.parked(0).attempts() == 2);
    CHECK_THAT(parked.parked(0).reason(), Catch::Contains("have not been replicated yet"));
    CHECK(organization_named(service, "Hooli").empty());
    kernel::v1::ListParkedRecordsResponse refused;
    CHECK(operators->ListParkedRecords(as(kHqToken).get(), {}, &refused).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);

    // The CRM records arrive; the operator's retry applies the approval, with them.
    kafka.produce(service.sales_topic(), "ACC-7",
                  envelope(account_created("ACC-7", "PR-000007", "Hooli", now_plus(-60s)), "sales-7a", "account",
                           "ACC-7", "sales-bridge"));
    kafka.produce(service.sales_topic(), "CON-7",
                  envelope(contact_created("CON-7", "ACC-7", "PR-000007", "gavin@hooli.example", now_plus(-60s)),
                           "sales-7b", "contact", "CON-7", "sales-bridge"));
    // Both, not just one: the account and the contact are on different partitions (their own keys),
    // so on a real broker either may be applied first.
    REQUIRE(eventually([&] {
        return list(service, "gavin@hooli.example", cv1::CUSTOMER_TYPE_PERSON).total() == 1 &&
               !organization_named(service, "Hooli").empty();
    }));
    kernel::v1::RetryParkedRecordsRequest retry;
    retry.set_aggregate_id("PR-000007");
    kernel::v1::RetryParkedRecordsResponse retried;
    CHECK(operators->RetryParkedRecords(as(kOperatorToken).get(), retry, &retried).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);  // no reason
    retry.set_reason("the CRM records are replicated now");
    REQUIRE(operators->RetryParkedRecords(as(kOperatorToken).get(), retry, &retried).ok());
    CHECK(retried.processed() == 1);
    CHECK(retried.still_parked() == 0);
    std::string organization;
    REQUIRE(eventually([&] { return !(organization = organization_named(service, "Hooli")).empty(); }));
    REQUIRE(users_of(service, organization).size() == 1);
    CHECK(get(service, users_of(service, organization).front().customer_id()).crm_contact_id() == "CON-7");
    REQUIRE(operators->ListParkedRecords(as(kOperatorToken).get(), {}, &parked).ok());
    CHECK(parked.parked_size() == 0);
}

TEST_CASE("crm mode, HQ override: fresh customers now, linked (not duplicated) when the CRM records arrive",
          "[api][kafka][replication]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    auto approved = approval("PR-000006", "Hooli", "gavin@hooli.example", onboarding::v1::APPROVAL_MODE_CRM);
    approved.set_path(onboarding::v1::DECISION_PATH_HQ_OVERRIDE);
    approved.set_override_reason("strategic partner");
    kafka.produce(service.onboarding_topic(), "PR-000006",
                  envelope(approved, "approved-6", "prospect", "PR-000006", "onboarding"));
    std::string organization;
    REQUIRE(eventually([&] { return !(organization = organization_named(service, "Hooli")).empty(); }));
    kafka.produce(service.sales_topic(), "ACC-6",
                  envelope(account_created("ACC-6", "PR-000006", "Hooli", now_plus(-60s)), "sales-6a", "account",
                           "ACC-6", "sales-bridge"));
    kafka.produce(service.sales_topic(), "CON-6",
                  envelope(contact_created("CON-6", "ACC-6", "PR-000006", "gavin@hooli.example", now_plus(-60s)),
                           "sales-6c", "contact", "CON-6", "sales-bridge"));
    REQUIRE(eventually([&] { return get(service, organization).crm_account_id() == "ACC-6"; }));
    REQUIRE(eventually([&] { return list(service, "CON-6").total() == 1; }));
    CHECK(list(service, "hooli").total() == 2);  // still one Organization and one Person
    CHECK(list(service, "CON-6").customers(0).customer_id() == users_of(service, organization).front().customer_id());
}

TEST_CASE("replication: CRM records become customers once, HQ edits go out LOCAL, nothing echoes, last writer wins",
          "[api][kafka][replication]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const auto created_at = now_plus(-3600s);
    const std::string account =
        envelope(account_created("ACC-1", "", "Globex", created_at), "sales-acc-1", "account", "ACC-1", "sales-bridge");
    kafka.produce(service.sales_topic(), "ACC-1", account);
    kafka.produce(service.sales_topic(), "ACC-1", account);  // redelivered
    kafka.produce(service.sales_topic(), "ACC-1",
                  envelope(account_created("ACC-1", "", "Globex", created_at), "sales-acc-1-again", "account", "ACC-1",
                           "sales-bridge"));
    kafka.produce(service.sales_topic(), "CON-1",
                  envelope(contact_created("CON-1", "ACC-1", "", "greta@globex.example", created_at), "sales-con-1",
                           "contact", "CON-1", "sales-bridge"));
    REQUIRE(eventually([&] { return list(service, "CON-1").total() == 1; }));
    REQUIRE(eventually([&] { return list(service, "ACC-1").total() == 2; }));  // org + person (by its account)
    const std::string organization = organization_named(service, "Globex");
    REQUIRE_FALSE(organization.empty());
    CHECK(get(service, organization).crm_account_id() == "ACC-1");
    CHECK(get(service, list(service, "CON-1").customers(0).customer_id()).organization_customer_id() == organization);

    // HQ edits the name: a LOCAL change for sales-bridge, with the CRM id.
    cv1::UpdateCustomerRequest edit;
    edit.set_customer_id(organization);
    edit.mutable_details()->set_name("Globex HQ");
    edit.add_fields("name");
    cv1::UpdateCustomerResponse edited;
    REQUIRE(service.api().UpdateCustomer(as(kHqToken).get(), edit, &edited).ok());
    const auto hq_edit_at = now_plus(0s);

    auto update = [&](const std::string& id, const std::string& field, const std::string& value,
                      google::protobuf::Timestamp at, common::v1::ChangeOrigin origin) {
        sales::v1::AccountUpdated updated;
        updated.set_account_id("ACC-1");
        updated.add_changed_fields(field);
        if (field == "name") {
            updated.set_name(value);
        } else {
            updated.set_phone(value);
        }
        *updated.mutable_changed_at() = at;
        updated.set_origin(origin);
        kafka.produce(service.sales_topic(), "ACC-1", envelope(updated, id, "account", "ACC-1", "sales-bridge"));
    };
    // sales-bridge's echo of HQ's change (REPLICATED): ignored. A concurrent CRM edit made before
    // HQ's: loses. A later CRM edit of the phone: applied and published REPLICATED.
    update("sales-upd-1", "name", "Globex HQ", hq_edit_at, common::v1::CHANGE_ORIGIN_REPLICATED);
    update("sales-upd-2", "name", "Globex CRM (older)", now_plus(-60s), common::v1::CHANGE_ORIGIN_LOCAL);
    const auto phone_at = now_plus(60s);
    update("sales-upd-3", "phone", "+49 40 999", phone_at, common::v1::CHANGE_ORIGIN_LOCAL);
    REQUIRE(eventually([&] { return get(service, organization).details().phone() == "+49 40 999"; }));
    CHECK(get(service, organization).details().name() == "Globex HQ");

    std::vector<cv1::CustomerUpdated> local;
    std::vector<cv1::CustomerUpdated> replicated;
    REQUIRE(eventually([&] {
        local.clear();
        replicated.clear();
        for (const auto& updated : events_of<cv1::CustomerUpdated>(kafka, service)) {
            (updated.origin() == common::v1::CHANGE_ORIGIN_LOCAL ? local : replicated).push_back(updated);
        }
        return local.size() == 1 && replicated.size() == 1;
    }));
    CHECK(local[0].crm_account_id() == "ACC-1");
    CHECK(std::vector<std::string>(local[0].changed_fields().begin(), local[0].changed_fields().end()) ==
          std::vector<std::string>{"name"});
    CHECK(replicated[0].details().phone() == "+49 40 999");
    CHECK(google::protobuf::util::TimeUtil::TimestampToNanoseconds(replicated[0].changed_at()) ==
          google::protobuf::util::TimeUtil::TimestampToNanoseconds(phone_at));  // kept as replicated
    CHECK(events_of<cv1::CustomerCreated>(kafka, service).size() == 2);         // never duplicated
}

TEST_CASE("partner users: added, invited, password set once, sign-in, removal revokes the session at once",
          "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");

    const auto max = add_user(service, acme.admin_session, "", "max@acme.example");
    CHECK(max.status() == cv1::PARTNER_USER_STATUS_ACTIVE);
    CHECK_FALSE(max.permissions().view_financials());
    add_user(service, acme.admin_session, "", "MAX@acme.example", grpc::StatusCode::ALREADY_EXISTS);
    const std::string token = invitation_token(kafka, service, "max@acme.example");

    // Password policy, then the link works once.
    CHECK(set_password(service, token, "short").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(set_password(service, token, "password1234").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(set_password(service, token, "max@acme.example").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(set_password(service, token + "x", kPassword).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(set_password(service, token, kPassword).ok());
    CHECK(set_password(service, token, std::string(kPassword) + "2").error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    // Sign-in: a wrong password and an unknown email get the same answer.
    sign_in(service, "max@acme.example", "wrong password!", grpc::StatusCode::UNAUTHENTICATED);
    sign_in(service, "nobody@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    const std::string session = sign_in(service, "max@acme.example");
    REQUIRE_FALSE(session.empty());
    cv1::GetCustomerRequest own;
    own.set_customer_id(acme.organization_id);
    cv1::GetCustomerResponse seen;
    CHECK(service.api().GetCustomer(as(session).get(), own, &seen).ok());

    // An edit of the user reaches their Person customer (names, job title, spending limit).
    cv1::UpdatePartnerUserRequest edit;
    edit.set_user_id(max.user_id());
    edit.set_first_name("Maximilian");
    edit.set_last_name("Muster");
    edit.set_job_title("Head of purchasing");
    edit.mutable_spending_limit()->set_currency_code("EUR");
    edit.mutable_spending_limit()->set_minor_units(50'000);
    cv1::UpdatePartnerUserResponse edited;
    REQUIRE(service.api().UpdatePartnerUser(as(acme.admin_session).get(), edit, &edited).ok());
    const cv1::Customer person = get(service, max.customer_id());
    CHECK(person.details().name() == "Maximilian Muster");
    CHECK(person.details().job_title() == "Head of purchasing");
    CHECK(person.spending_limit().minor_units() == 50'000);

    // Removed: out of the hierarchy, the customer kept, the session refused at once.
    cv1::RemovePartnerUserRequest remove;
    remove.set_user_id(max.user_id());
    cv1::RemovePartnerUserResponse removed;
    REQUIRE(service.api().RemovePartnerUser(as(acme.admin_session).get(), remove, &removed).ok());
    CHECK(service.api().GetCustomer(as(session).get(), own, &seen).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    sign_in(service, "max@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    CHECK(get(service, max.customer_id()).customer_id() == max.customer_id());
    std::vector<cv1::PartnerUserRemoved> removed_events;
    REQUIRE(
        eventually([&] { return (removed_events = events_of<cv1::PartnerUserRemoved>(kafka, service)).size() == 1; }));
    CHECK(removed_events[0].organization_name() == "Acme GmbH");
    CHECK(removed_events[0].removed_by() == acme.admin_user_id);

    // No password hash and no token on the topic.
    for (const auto& record : kafka.read_all(service.customers_topic(), 1, 10s)) {
        CHECK(record.value.find("$argon2id$") == std::string::npos);
        CHECK(record.value.find(token) == std::string::npos);
        CHECK(record.value.find(session) == std::string::npos);
    }
}

TEST_CASE("invitations: a resend replaces the link, a revoked link is dead, HQ changes the administrator",
          "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    const auto max = add_user(service, kHqToken, acme.organization_id, "max@acme.example");
    const std::string first = invitation_token(kafka, service, "max@acme.example", 0);

    cv1::ChangeInvitationRequest resend;
    resend.set_user_id(max.user_id());
    cv1::ChangeInvitationResponse resent;
    REQUIRE(service.api().ChangeInvitation(as(acme.admin_session).get(), resend, &resent).ok());
    const std::string second = invitation_token(kafka, service, "max@acme.example", 1);
    CHECK(set_password(service, first, kPassword).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

    cv1::ChangeInvitationRequest revoke;
    revoke.set_user_id(max.user_id());
    revoke.set_revoke(true);
    REQUIRE(service.api().ChangeInvitation(as(kHqToken).get(), revoke, &resent).ok());
    CHECK(set_password(service, second, kPassword).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(service.api().ChangeInvitation(as(kHqToken).get(), resend, &resent).ok());
    REQUIRE(set_password(service, invitation_token(kafka, service, "max@acme.example", 2), kPassword).ok());

    cv1::ChangeAdministratorRequest change;
    change.set_organization_customer_id(acme.organization_id);
    change.set_new_admin_user_id(max.user_id());
    cv1::ChangeAdministratorResponse changed;
    CHECK(service.api().ChangeAdministrator(as(acme.admin_session).get(), change, &changed).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    REQUIRE(service.api().ChangeAdministrator(as(kHqToken).get(), change, &changed).ok());
    const auto users = users_of(service, acme.organization_id);
    REQUIRE(users.size() == 2);
    for (const auto& user : users) {
        CHECK(user.administrator() == (user.user_id() == max.user_id()));
    }
    std::vector<cv1::AdministratorChanged> events;
    REQUIRE(eventually([&] { return (events = events_of<cv1::AdministratorChanged>(kafka, service)).size() == 1; }));
    CHECK(events[0].old_admin().email() == "jane@acme.example");
    CHECK(events[0].new_admin().email() == "max@acme.example");
    // The old administrator is a normal user now: no more user management.
    cv1::ListPartnerUsersRequest list_request;
    cv1::ListPartnerUsersResponse listed;
    CHECK(service.api().ListPartnerUsers(as(acme.admin_session).get(), list_request, &listed).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    const std::string max_session = sign_in(service, "max@acme.example");
    CHECK(service.api().ListPartnerUsers(as(max_session).get(), list_request, &listed).ok());
}

TEST_CASE("an invitation link expires after invitation.ttl and is closed by the sweeper", "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka,
                             {{"GATEHOUSE_INVITATION_TTL", "2s"}, {"GATEHOUSE_INVITATION_SWEEP_INTERVAL", "200ms"}});
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000001", "Acme GmbH", "jane@acme.example"), "approved-1", "prospect",
                           "PR-000001", "onboarding"));
    const std::string token = invitation_token(kafka, service, "jane@acme.example");
    std::vector<cv1::InvitationExpired> expired;
    REQUIRE(eventually([&] { return !(expired = events_of<cv1::InvitationExpired>(kafka, service)).empty(); }));
    CHECK(expired.size() == 1);
    CHECK(set_password(service, token, kPassword).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    const std::string organization = organization_named(service, "Acme GmbH");
    const auto users = users_of(service, organization);
    REQUIRE(users.size() == 1);
    CHECK_FALSE(users[0].has_invitation_expires_at());  // no open link: HQ or the admin resends
}

TEST_CASE("authorization matrix: anonymous, partner user, admin of A, admin of B, HQ, operator",
          "[api][kafka][authz]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner a = onboard(kafka, service, "PR-000001", "Alpha GmbH", "anna@alpha.example");
    const Partner b = onboard(kafka, service, "PR-000002", "Beta GmbH", "bert@beta.example");
    const auto user_a = add_user(service, a.admin_session, "", "udo@alpha.example");
    REQUIRE(set_password(service, invitation_token(kafka, service, "udo@alpha.example"), kPassword).ok());
    const std::string user_a_session = sign_in(service, "udo@alpha.example");

    using Code = grpc::StatusCode;
    struct Caller {
        const char* name;
        std::string token;
    };
    const std::vector<Caller> callers = {{"anonymous", ""},
                                         {"partner user of A", user_a_session},
                                         {"admin of A", a.admin_session},
                                         {"admin of B", b.admin_session},
                                         {"hq", kHqToken},
                                         {"operator", kOperatorToken}};
    int counter = 0;
    using Call = std::function<grpc::Status(const std::string&)>;
    const std::vector<std::pair<std::string, Call>> calls = {
        {"ListPartnerUsers(A)",
         [&](const std::string& token) {
             cv1::ListPartnerUsersRequest request;
             request.set_organization_customer_id(a.organization_id);
             cv1::ListPartnerUsersResponse response;
             return service.api().ListPartnerUsers(as(token).get(), request, &response);
         }},
        {"AddPartnerUser(A)",
         [&](const std::string& token) {
             cv1::AddPartnerUserRequest request;
             request.set_organization_customer_id(a.organization_id);
             request.set_email("new" + std::to_string(++counter) + "@alpha.example");
             request.set_first_name("New");
             request.set_last_name("User");
             cv1::AddPartnerUserResponse response;
             return service.api().AddPartnerUser(as(token).get(), request, &response);
         }},
        {"UpdatePartnerUser(user of A)",
         [&](const std::string& token) {
             cv1::UpdatePartnerUserRequest request;
             request.set_user_id(user_a.user_id());
             request.set_first_name("Udo");
             request.set_last_name("Alpha");
             request.mutable_permissions()->set_view_financials(true);
             cv1::UpdatePartnerUserResponse response;
             return service.api().UpdatePartnerUser(as(token).get(), request, &response);
         }},
        {"GetCustomer(organization A)",
         [&](const std::string& token) {
             cv1::GetCustomerRequest request;
             request.set_customer_id(a.organization_id);
             cv1::GetCustomerResponse response;
             return service.api().GetCustomer(as(token).get(), request, &response);
         }},
        {"GetCustomer(admin of A)",
         [&](const std::string& token) {
             cv1::GetCustomerRequest request;
             request.set_customer_id(a.admin_customer_id);
             cv1::GetCustomerResponse response;
             return service.api().GetCustomer(as(token).get(), request, &response);
         }},
        {"ListHierarchies(A)",
         [&](const std::string& token) {
             cv1::ListHierarchiesRequest request;
             request.set_organization_customer_id(a.organization_id);
             cv1::ListHierarchiesResponse response;
             return service.api().ListHierarchies(as(token).get(), request, &response);
         }},
        {"ListCustomers",
         [&](const std::string& token) {
             cv1::ListCustomersRequest request;
             cv1::ListCustomersResponse response;
             return service.api().ListCustomers(as(token).get(), request, &response);
         }},
        {"CreateCustomer",
         [&](const std::string& token) {
             cv1::CreateCustomerRequest request;
             request.set_type(cv1::CUSTOMER_TYPE_ORGANIZATION);
             request.mutable_details()->set_name("Gamma " + std::to_string(++counter));
             cv1::CreateCustomerResponse response;
             return service.api().CreateCustomer(as(token).get(), request, &response);
         }},
        {"UpdateCustomer(A)",
         [&](const std::string& token) {
             cv1::UpdateCustomerRequest request;
             request.set_customer_id(a.organization_id);
             request.mutable_details()->set_phone("+49 " + std::to_string(++counter));
             request.add_fields("phone");
             cv1::UpdateCustomerResponse response;
             return service.api().UpdateCustomer(as(token).get(), request, &response);
         }},
        {"ChangeAdministrator(A, same admin)",
         [&](const std::string& token) {
             cv1::ChangeAdministratorRequest request;
             request.set_organization_customer_id(a.organization_id);
             request.set_new_admin_user_id(a.admin_user_id);
             cv1::ChangeAdministratorResponse response;
             return service.api().ChangeAdministrator(as(token).get(), request, &response);
         }},
        {"RemovePartnerUser(admin of A)",
         [&](const std::string& token) {
             cv1::RemovePartnerUserRequest request;
             request.set_user_id(a.admin_user_id);
             cv1::RemovePartnerUserResponse response;
             return service.api().RemovePartnerUser(as(token).get(), request, &response);
         }},
    };
    const Code U = Code::UNAUTHENTICATED, D = Code::PERMISSION_DENIED, N = Code::NOT_FOUND, O = Code::OK,
               F = Code::FAILED_PRECONDITION;
    // Rows: calls; columns: anonymous, partner user of A, admin of A, admin of B, hq, operator.
    const std::vector<std::vector<Code>> expected = {
        {U, D, O, N, O, D},  // ListPartnerUsers(A)
        {U, D, O, N, O, D},  // AddPartnerUser(A)
        {U, D, O, N, O, D},  // UpdatePartnerUser(user of A)
        {U, O, O, N, O, O},  // GetCustomer(organization A)
        {U, N, O, N, O, O},  // GetCustomer(admin of A)
        {U, D, O, N, O, O},  // ListHierarchies(A)
        {U, D, D, D, O, O},  // ListCustomers
        {U, D, D, D, O, D},  // CreateCustomer
        {U, D, D, D, O, D},  // UpdateCustomer(A)
        {U, D, D, D, O, D},  // ChangeAdministrator(A, same admin)
        {U, D, F, N, F, D},  // RemovePartnerUser(admin of A): nobody removes the administrator
    };
    for (std::size_t row = 0; row < calls.size(); ++row) {
        for (std::size_t column = 0; column < callers.size(); ++column) {
            const auto status = calls[row].second(callers[column].token);
            INFO(calls[row].first << " as " << callers[column].name << ": " << status.error_message());
            CHECK(status.error_code() == expected[row][column]);
        }
    }
    // A partner user without "View Financials" sees no credit limit; with it (granted above), they do.
    cv1::SetLimitsRequest limits;
    limits.set_customer_id(a.organization_id);
    limits.mutable_credit_limit()->set_currency_code("EUR");
    limits.mutable_credit_limit()->set_minor_units(1'000'000);
    limits.set_payment_terms("30 days net");
    cv1::SetLimitsResponse limited;
    REQUIRE(service.api().SetLimits(as(kHqToken).get(), limits, &limited).ok());
    cv1::GetCustomerRequest request;
    request.set_customer_id(a.organization_id);
    cv1::GetCustomerResponse response;
    REQUIRE(service.api().GetCustomer(as(user_a_session).get(), request, &response).ok());
    CHECK(response.customer().payment_terms() == "30 days net");
    // Errors never carry a token.
    cv1::GetCustomerResponse ignored;
    const auto refused = service.api().GetCustomer(as(user_a_session + "x").get(), request, &ignored);
    CHECK(refused.error_message().find(user_a_session) == std::string::npos);
}

TEST_CASE("hq: create, search, block, hierarchies with members, history per customer", "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    cv1::CreateCustomerRequest organization_request;
    organization_request.set_type(cv1::CUSTOMER_TYPE_ORGANIZATION);
    organization_request.mutable_details()->set_name("Umbrella Corp");
    cv1::CreateCustomerResponse organization;
    REQUIRE(service.api().CreateCustomer(as(kHqToken).get(), organization_request, &organization).ok());
    cv1::CreateCustomerRequest person_request;
    person_request.set_type(cv1::CUSTOMER_TYPE_PERSON);
    person_request.mutable_details()->set_first_name("Alice");
    person_request.mutable_details()->set_last_name("Wesker");
    person_request.mutable_details()->set_email("alice@umbrella.example");
    person_request.set_organization_customer_id(organization.customer().customer_id());
    cv1::CreateCustomerResponse person;
    REQUIRE(service.api().CreateCustomer(as(kHqToken).get(), person_request, &person).ok());
    cv1::CreateCustomerResponse duplicate;
    CHECK(service.api().CreateCustomer(as(kHqToken).get(), person_request, &duplicate).error_code() ==
          grpc::StatusCode::ALREADY_EXISTS);
    person_request.mutable_details()->set_email("not an email");
    CHECK(service.api().CreateCustomer(as(kHqToken).get(), person_request, &duplicate).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    // A Person of no organization (a consumer, say) is fine too.
    cv1::CreateCustomerRequest loner_request;
    loner_request.set_type(cv1::CUSTOMER_TYPE_PERSON);
    loner_request.mutable_details()->set_first_name("Leon");
    loner_request.mutable_details()->set_last_name("Kennedy");
    loner_request.mutable_details()->set_email("leon@example.org");
    cv1::CreateCustomerResponse loner;
    REQUIRE(service.api().CreateCustomer(as(kHqToken).get(), loner_request, &loner).ok());
    CHECK(loner.customer().organization_customer_id().empty());
    CHECK_FALSE(loner.customer().b2b_admin());

    cv1::CreateHierarchyRequest hierarchy_request;
    hierarchy_request.set_organization_customer_id(organization.customer().customer_id());
    hierarchy_request.set_name("Umbrella buyers");
    cv1::CreateHierarchyResponse hierarchy;
    REQUIRE(service.api().CreateHierarchy(as(kHqToken).get(), hierarchy_request, &hierarchy).ok());
    cv1::ChangeHierarchyMemberRequest member;
    member.set_hierarchy_id(hierarchy.hierarchy().hierarchy_id());
    member.set_customer_id(person.customer().customer_id());
    member.set_add(true);
    cv1::ChangeHierarchyMemberResponse changed;
    REQUIRE(service.api().ChangeHierarchyMember(as(kHqToken).get(), member, &changed).ok());
    CHECK(changed.hierarchy().member_customer_ids_size() == 2);
    member.set_add(false);
    REQUIRE(service.api().ChangeHierarchyMember(as(kHqToken).get(), member, &changed).ok());
    CHECK(changed.hierarchy().member_customer_ids_size() == 1);
    CHECK(get(service, person.customer().customer_id()).customer_id() == person.customer().customer_id());

    cv1::BlockCustomerRequest block;
    block.set_customer_id(organization.customer().customer_id());
    block.set_blocked(true);
    cv1::BlockCustomerResponse blocked;
    CHECK(service.api().BlockCustomer(as(kHqToken).get(), block, &blocked).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);  // a reason is required
    block.set_reason("unpaid invoices");
    REQUIRE(service.api().BlockCustomer(as(kHqToken).get(), block, &blocked).ok());
    CHECK(blocked.customer().status() == cv1::CUSTOMER_STATUS_BLOCKED);
    cv1::ListCustomersRequest search;
    search.set_status(cv1::CUSTOMER_STATUS_BLOCKED);
    cv1::ListCustomersResponse found;
    REQUIRE(service.api().ListCustomers(as(kOperatorToken).get(), search, &found).ok());
    REQUIRE(found.total() == 1);
    CHECK(found.customers(0).details().name() == "Umbrella Corp");
    cv1::ListCustomersRequest page;
    page.set_page_size(1);
    REQUIRE(service.api().ListCustomers(as(kHqToken).get(), page, &found).ok());
    CHECK(found.total() == 3);
    REQUIRE(found.customers_size() == 1);
    page.set_page_token(found.next_page_token());
    REQUIRE(service.api().ListCustomers(as(kHqToken).get(), page, &found).ok());
    REQUIRE(found.customers_size() == 1);
    CHECK(found.customers(0).customer_id() == person.customer().customer_id());
    // The platform's paging rule: a token is what a previous page said (a customer id is not one),
    // and a page holds at most 500.
    page.set_page_token(person.customer().customer_id());
    CHECK(service.api().ListCustomers(as(kHqToken).get(), page, &found).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    page.clear_page_token();
    page.set_page_size(500);
    CHECK(service.api().ListCustomers(as(kHqToken).get(), page, &found).ok());
    page.set_page_size(501);
    CHECK(service.api().ListCustomers(as(kHqToken).get(), page, &found).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    // The same pages through a text filter (the scan path): the token continues where the page ended.
    cv1::ListCustomersRequest text_page;
    text_page.set_text("cu-");
    text_page.set_page_size(1);
    REQUIRE(service.api().ListCustomers(as(kHqToken).get(), text_page, &found).ok());
    CHECK(found.total() == 3);
    text_page.set_page_token(found.next_page_token());
    REQUIRE(service.api().ListCustomers(as(kHqToken).get(), text_page, &found).ok());
    REQUIRE(found.customers_size() == 1);
    CHECK(found.customers(0).customer_id() == person.customer().customer_id());

    cv1::GetCustomerRequest history_request;
    history_request.set_customer_id(organization.customer().customer_id());
    cv1::GetCustomerResponse history;
    REQUIRE(service.api().GetCustomer(as(kHqToken).get(), history_request, &history).ok());
    std::vector<std::string> types;
    for (const auto& entry : history.history()) {
        types.push_back(entry.event_type());
        CHECK(entry.actor() == "alice");
    }
    CHECK(types == std::vector<std::string>{
                       "gatehouse.customers.v1.CustomerCreated", "gatehouse.customers.v1.HierarchyCreated",
                       "gatehouse.customers.v1.HierarchyMemberAdded", "gatehouse.customers.v1.HierarchyMemberAdded",
                       "gatehouse.customers.v1.HierarchyMemberRemoved", "gatehouse.customers.v1.CustomerBlocked"});
}

TEST_CASE(
    "sign-in throttling counts failures per account and client address: an attacker elsewhere does not lock the user "
    "out, unknown emails lock the same way, a success resets",
    "[api][kafka][users]") {
    KafkaTestCluster kafka;
    // Listening on every address: the test calls from 127.0.0.1 (the user) and from ::1 (the attacker).
    CustomersProcess service(kafka, {{"GATEHOUSE_GRPC_LISTEN", "[::]:0"},
                                     {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000"},
                                     {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000"},
                                     {"GATEHOUSE_SIGN_IN_FREE_FAILURES", "3"},
                                     {"GATEHOUSE_SIGN_IN_LOCKOUT", "1h"}});
    onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    auto attacker = cv1::CustomersService::NewStub(
        grpc::CreateChannel("[::1]:" + std::to_string(service.grpc_port()), grpc::InsecureChannelCredentials()));
    auto attempt = [&](const std::string& email, const std::string& password) {
        cv1::SignInRequest request;
        request.set_email(email);
        request.set_password(password);
        cv1::SignInResponse response;
        return attacker->SignIn(as().get(), request, &response);
    };
    // Three failures are answered as failures; then the (account, address) pair is locked, and the
    // answer says until when, for an existing and an unknown email alike.
    for (const std::string& email : {std::string("jane@acme.example"), std::string("nobody@acme.example")}) {
        for (int i = 0; i < 3; ++i) {
            const auto status = attempt(email, "wrong password " + std::to_string(i));
            CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
            CHECK(status.error_message() == "the email or password is not correct");
        }
        for (const std::string& password : {std::string("wrong password 4"), std::string(kPassword)}) {
            const auto locked = attempt(email, password);
            INFO(email << ": " << locked.error_message());
            CHECK(locked.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
            CHECK_THAT(locked.error_message(), Catch::StartsWith("too many attempts, try again at 20"));
        }
    }
    // The real user, from another address, signs in: the attacker's failures are not theirs.
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
    // A success resets the user's count: two failures, a success, two failures are not a lockout.
    sign_in(service, "jane@acme.example", "typo password 1", grpc::StatusCode::UNAUTHENTICATED);
    sign_in(service, "jane@acme.example", "typo password 2", grpc::StatusCode::UNAUTHENTICATED);
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
    sign_in(service, "jane@acme.example", "typo password 3", grpc::StatusCode::UNAUTHENTICATED);
    sign_in(service, "jane@acme.example", "typo password 4", grpc::StatusCode::UNAUTHENTICATED);
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
}

TEST_CASE("after a restart the state rebuilt from the log is the state before, passwords included", "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    const auto max = add_user(service, acme.admin_session, "", "max@acme.example");
    const auto before = list(service, "");
    REQUIRE(service.stop() == 0);
    service.start();
    const auto after = list(service, "");
    REQUIRE(after.total() == before.total());
    for (int i = 0; i < after.customers_size(); ++i) {
        CHECK(after.customers(i).SerializeAsString() == before.customers(i).SerializeAsString());
    }
    CHECK(users_of(service, acme.organization_id).size() == 2);
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
    // A session from before the restart still works (its hash is in the store's metadata).
    cv1::ListPartnerUsersRequest own_users;
    cv1::ListPartnerUsersResponse listed;
    CHECK(service.api().ListPartnerUsers(as(acme.admin_session).get(), own_users, &listed).ok());
    // The redelivered approval after the restart changes nothing.
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000001", "Acme GmbH", "jane@acme.example"), "approved-PR-000001", "prospect",
                           "PR-000001", "onboarding"));
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000009", "Marker AG", "mark@marker.example"), "approved-9", "prospect",
                           "PR-000009", "onboarding"));
    REQUIRE(eventually([&] { return !organization_named(service, "Marker AG").empty(); }));
    CHECK(list(service, "acme").total() == before.total());
    CHECK(max.status() == cv1::PARTNER_USER_STATUS_ACTIVE);
}

namespace {

// The process id of the service: the process whose environment names its data directory.
pid_t pid_of(const CustomersProcess& service) {
    const std::string wanted = std::string(1, '\0') + "GATEHOUSE_DATA_DIR=" + service.data_dir().string() + '\0';
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        std::ifstream in(entry.path() / "environ", std::ios::binary);
        const std::string environment = std::string(1, '\0') + std::string(std::istreambuf_iterator<char>(in), {});
        if (environment.find(wanted) != std::string::npos) {
            return static_cast<pid_t>(std::stoi(name));
        }
    }
    return -1;
}

// The peak resident set size of a process (VmHWM), in MiB.
std::int64_t peak_rss_mib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stoll(line.substr(6)) / 1024;  // "VmHWM:   123456 kB"
        }
    }
    return -1;
}

// `count` sign-ins at once, each with an unknown email; their statuses.
std::vector<grpc::Status> concurrent_sign_ins(CustomersProcess& service, int count) {
    std::vector<grpc::Status> statuses(static_cast<std::size_t>(count));
    std::vector<std::thread> threads;
    threads.reserve(statuses.size());
    for (int i = 0; i < count; ++i) {
        threads.emplace_back([&service, &statuses, i] {
            cv1::SignInRequest request;
            request.set_email("nobody-" + std::to_string(i) + "-" + std::to_string(std::random_device()()) +
                              "@unknown.example");
            request.set_password("not the password " + std::to_string(i));
            cv1::SignInResponse response;
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + 120s);
            statuses[static_cast<std::size_t>(i)] = service.api().SignIn(&context, request, &response);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    return statuses;
}

// Every call answered with a status a client can act on: OK / UNAUTHENTICATED, or RESOURCE_EXHAUSTED (retry).
void check_answered(const std::vector<grpc::Status>& statuses, int& unauthenticated, int& exhausted) {
    unauthenticated = 0;
    exhausted = 0;
    for (const auto& status : statuses) {
        INFO(status.error_code() << ": " << status.error_message());
        CHECK((status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
               status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED));
        unauthenticated += status.error_code() == grpc::StatusCode::UNAUTHENTICATED ? 1 : 0;
        exhausted += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? 1 : 0;
    }
}

constexpr std::int64_t kArgon2Mib = 64;     // crypto_pwhash_MEMLIMIT_INTERACTIVE
constexpr std::int64_t kBaselineMib = 128;  // the process without password hashing, with room to spare

}  // namespace

TEST_CASE(
    "200 concurrent sign-ins with unknown emails: all answered, the service alive, peak RSS under 2 x 64 MiB "
    "+ 128 MiB",
    "[api][kafka][users][load]") {
    KafkaTestCluster kafka;
    // The per-address limit opened wide, as for 200 different addresses: the hash gate alone bounds the work.
    CustomersProcess service(kafka, {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000"},
                                     {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000"}});
    const pid_t pid = pid_of(service);
    REQUIRE(pid > 0);
    int unauthenticated = 0;
    int exhausted = 0;
    check_answered(concurrent_sign_ins(service, 200), unauthenticated, exhausted);
    CHECK(unauthenticated > 0);
    CHECK(exhausted > 0);  // the bounded queue was full for some: refused, not piled up
    // Alive and answering.
    sign_in(service, "nobody@unknown.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    const std::int64_t peak = peak_rss_mib(pid);
    INFO("peak RSS " << peak << " MiB; " << unauthenticated << " checked, " << exhausted << " refused");
    WARN("200 concurrent sign-ins: peak RSS " << peak << " MiB, " << unauthenticated << " checked, " << exhausted
                                              << " refused as busy");
    CHECK(peak > 0);
    CHECK(peak < 2 * kArgon2Mib + kBaselineMib);
}

TEST_CASE(
    "sign-in: when the password hashing queue is full the caller gets RESOURCE_EXHAUSTED (retryable) and "
    "memory stays bounded",
    "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka, {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000"},
                                     {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000"},
                                     {"GATEHOUSE_SECURITY_PASSWORD_HASH_CONCURRENCY", "1"},
                                     {"GATEHOUSE_SECURITY_PASSWORD_HASH_QUEUE", "2"}});
    const pid_t pid = pid_of(service);
    REQUIRE(pid > 0);
    const auto statuses = concurrent_sign_ins(service, 20);
    int unauthenticated = 0;
    int exhausted = 0;
    check_answered(statuses, unauthenticated, exhausted);
    CHECK(unauthenticated >= 1);
    REQUIRE(exhausted >= 1);
    for (const auto& status : statuses) {
        if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
            CHECK_THAT(status.error_message(), Catch::Contains("busy") && Catch::Contains("try again"));
        }
    }
    sign_in(service, "nobody@unknown.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    CHECK(peak_rss_mib(pid) < kArgon2Mib + kBaselineMib);
}

TEST_CASE("crm mode: the administrator gets the email the requester verified, not an edited CRM contact email",
          "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    kafka.produce(service.sales_topic(), "ACC-5",
                  envelope(account_created("ACC-5", "PR-000005", "Initech", now_plus(-120s)), "sales-1", "account",
                           "ACC-5", "sales-bridge"));
    kafka.produce(service.sales_topic(), "CON-5",
                  envelope(contact_created("CON-5", "ACC-5", "PR-000005", "carla@initech.example", now_plus(-120s)),
                           "sales-2", "contact", "CON-5", "sales-bridge"));
    // A sales user edits the contact's email before winning the opportunity.
    sales::v1::ContactUpdated edited;
    edited.set_contact_id("CON-5");
    edited.set_account_id("ACC-5");
    edited.set_email("mallory@evil.example");
    edited.add_changed_fields("email");
    *edited.mutable_changed_at() = now_plus(-60s);
    edited.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    kafka.produce(service.sales_topic(), "CON-5", envelope(edited, "sales-3", "contact", "CON-5", "sales-bridge"));
    REQUIRE(eventually([&] { return list(service, "mallory@evil.example").total() == 1; }));
    kafka.produce(service.onboarding_topic(), "PR-000005",
                  envelope(approval("PR-000005", "Initech", "carla@initech.example", onboarding::v1::APPROVAL_MODE_CRM),
                           "approved-5", "prospect", "PR-000005", "onboarding"));
    std::string organization;
    REQUIRE(eventually([&] { return !(organization = organization_named(service, "Initech")).empty(); }));
    REQUIRE(eventually([&] { return users_of(service, organization).size() == 1; }));
    const auto admin = users_of(service, organization).front();
    CHECK(admin.email() == "carla@initech.example");
    CHECK(get(service, admin.customer_id()).crm_contact_id() == "CON-5");  // still the CRM's contact
    std::vector<cv1::InvitationIssued> invitations;
    REQUIRE(eventually([&] { return !(invitations = events_of<cv1::InvitationIssued>(kafka, service)).empty(); }));
    REQUIRE(invitations.size() == 1);
    CHECK(invitations[0].email() == "carla@initech.example");
}

TEST_CASE("approvals inconsistent with the request are dead-lettered with their reason", "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    // A CRM-path decision for a direct-mode request (e.g. a forged OpportunityWon that onboarding accepted).
    auto crm_for_direct = approval("PR-000011", "Forged One", "one@forged.example");
    crm_for_direct.set_path(onboarding::v1::DECISION_PATH_CRM);
    kafka.produce(service.onboarding_topic(), "PR-000011",
                  envelope(crm_for_direct, "approved-11", "prospect", "PR-000011", "onboarding"));
    // An approval on another prospect's stream than the request it names.
    kafka.produce(service.onboarding_topic(), "PR-000011",
                  envelope(approval("PR-000012", "Forged Two", "two@forged.example"), "approved-12", "prospect",
                           "PR-000011", "onboarding"));
    // An approval whose requester email is not an email address (the mail would go elsewhere).
    kafka.produce(service.onboarding_topic(), "PR-000013",
                  envelope(approval("PR-000013", "Forged Three", "<evil@x.example>v@y.example"), "approved-13",
                           "prospect", "PR-000013", "onboarding"));
    const auto letters = kafka.read_all(service.dead_letter_topic(), 3, 60s);
    REQUIRE(letters.size() == 3);
    std::vector<std::string> reasons;
    for (const auto& letter : letters) {
        reasons.push_back(letter.headers.count("gatehouse.dlq.reason") ? letter.headers.at("gatehouse.dlq.reason")
                                                                       : "");
    }
    std::sort(reasons.begin(), reasons.end());
    INFO(reasons[0] << " | " << reasons[1] << " | " << reasons[2]);
    CHECK_THAT(reasons[0], Catch::Contains("PR-000011") && Catch::Contains("CRM-path decision for a direct-mode"));
    CHECK_THAT(reasons[1], Catch::Contains("PR-000012") && Catch::Contains("PR-000011"));
    CHECK_THAT(reasons[2], Catch::Contains("PR-000013") && Catch::Contains("email"));
    for (const char* name : {"Forged One", "Forged Two", "Forged Three"}) {
        CHECK(organization_named(service, name).empty());
    }
}

TEST_CASE("contract: sign-in failures all answer UNAUTHENTICATED, password limits count characters", "[api][kafka]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    kafka.produce(service.onboarding_topic(), "PR-000001",
                  envelope(approval("PR-000001", "Acme GmbH", "jane@acme.example"), "approved-1", "prospect",
                           "PR-000001", "onboarding"));
    const std::string token = invitation_token(kafka, service, "jane@acme.example");
    // 257 characters (514 bytes) are too many, and the message says characters.
    std::string too_long;
    for (int i = 0; i < 257; ++i) {
        too_long += "\xc3\xa4";  // ä
    }
    const auto refused = set_password(service, token, too_long);
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(refused.error_message() == "password: must have at most 256 characters");
    CHECK(set_password(service, token,
                       "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3"
                       "\xa4\xc3\xa4")
              .error_message() == "password: must have at least 12 characters");  // 11 characters, 22 bytes
    // 200 characters in 400 bytes are a valid length; the user signs in with them.
    std::string umlauts;
    for (int i = 0; i < 200; ++i) {
        umlauts += "\xc3\xa4";
    }
    REQUIRE(set_password(service, token, umlauts).ok());
    CHECK_FALSE(sign_in(service, "jane@acme.example", umlauts).empty());
    // Every failed sign-in is the same answer: over-long password, over-long email, empty fields.
    for (const auto& [email, password] :
         std::vector<std::pair<std::string, std::string>>{{"jane@acme.example", std::string(300, 'x')},
                                                          {"jane@acme.example", too_long},
                                                          {std::string(300, 'j') + "@acme.example", kPassword},
                                                          {"jane@acme.example", ""},
                                                          {"", kPassword}}) {
        cv1::SignInRequest request;
        request.set_email(email);
        request.set_password(password);
        cv1::SignInResponse response;
        const auto status = service.api().SignIn(as().get(), request, &response);
        INFO(email.size() << " / " << password.size() << ": " << status.error_message());
        CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
        CHECK(status.error_message() == "the email or password is not correct");
    }
}

TEST_CASE("contract: adding the email of another organisation's person reveals nothing, strict email rule",
          "[api][kafka][users][authz]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner a = onboard(kafka, service, "PR-000001", "Alpha GmbH", "anna@alpha.example");
    const Partner b = onboard(kafka, service, "PR-000002", "Beta GmbH", "bert@beta.example");
    add_user(service, b.admin_session, "", "bella@beta.example");
    // Admin of A adds B's admin and B's user: answered exactly as for an email nobody has.
    const auto fresh = add_user(service, a.admin_session, "", "fresh@gamma.example");
    const auto bert = add_user(service, a.admin_session, "", "bert@beta.example");
    const auto bella = add_user(service, a.admin_session, "", "BELLA@beta.example");
    for (const auto* added : {&fresh, &bert, &bella}) {
        CHECK(added->status() == fresh.status());
        CHECK(added->organization_customer_id() == a.organization_id);
        CHECK_FALSE(added->user_id().empty());
    }
    // Within one's own organisation a repeated email is still refused (nothing new to its admin).
    add_user(service, a.admin_session, "", "bert@beta.example", grpc::StatusCode::ALREADY_EXISTS);
    // Bert's own account is unchanged: he still signs in to B.
    cv1::SignInRequest request;
    request.set_email("bert@beta.example");
    request.set_password(kPassword);
    cv1::SignInResponse response;
    REQUIRE(service.api().SignIn(as().get(), request, &response).ok());
    CHECK(response.organization_customer_id() == b.organization_id);
    // Bert accepts A's invitation with another password: each password opens its own account.
    std::string alpha_token;
    REQUIRE(eventually([&] {
        for (const auto& issued : events_of<cv1::InvitationIssued>(kafka, service)) {
            if (issued.email() == "bert@beta.example" && issued.organization_customer_id() == a.organization_id) {
                alpha_token = service.unseal(issued.token_sealed_for_notifier());
            }
        }
        return !alpha_token.empty();
    }));
    REQUIRE(set_password(service, alpha_token, "bert at alpha 2024").ok());
    request.set_password("bert at alpha 2024");
    REQUIRE(service.api().SignIn(as().get(), request, &response).ok());
    CHECK(response.organization_customer_id() == a.organization_id);

    // The strict email rule (as onboarding's): no display names, lists, spaces or control characters.
    for (const char* bad :
         {"<evil@x.example>v@y.example", "a@x.example,b@y.example", "a b@x.example", "a@x.example\r\nBcc: b@y.example",
          "a@x.example ", "\"a\"@x.example", "a@x", "a..b@x.example", "a@-x.example"}) {
        INFO(bad);
        add_user(service, a.admin_session, "", bad, grpc::StatusCode::INVALID_ARGUMENT);
    }
    cv1::CreateCustomerRequest person;
    person.set_type(cv1::CUSTOMER_TYPE_PERSON);
    person.mutable_details()->set_first_name("Eve");
    person.mutable_details()->set_last_name("Evil");
    person.mutable_details()->set_email("<evil@x.example>v@y.example");
    cv1::CreateCustomerResponse created;
    CHECK(service.api().CreateCustomer(as(kHqToken).get(), person, &created).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("docs/configuration.md lists every customers setting as the binary describes it", "[docs]") {
    check_settings_documented(GATEHOUSE_CUSTOMERS_BINARY);
}

TEST_CASE("a bad setting stops gatehouse-customers with a message naming it", "[docs]") {
    TempDir dir;
    ChildProcess no_key({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), GATEHOUSE_CUSTOMERS_BINARY},
                        true);
    std::string output;
    while (auto line = no_key.read_line(10s)) {
        output += *line + "\n";
    }
    CHECK(no_key.wait() == 2);
    CHECK_THAT(output, Catch::Contains("notifier.public_key"));
}

namespace {

grpc::Status request_reset(CustomersProcess& service, const std::string& email) {
    cv1::RequestPasswordResetRequest request;
    request.set_email(email);
    cv1::RequestPasswordResetResponse response;
    return service.api().RequestPasswordReset(as().get(), request, &response);
}

// The password-reset links issued to `email` so far, in topic order.
std::vector<cv1::InvitationIssued> resets_to(KafkaTestCluster& kafka, CustomersProcess& service,
                                             const std::string& email) {
    std::vector<cv1::InvitationIssued> found;
    for (const auto& issued : events_of<cv1::InvitationIssued>(kafka, service)) {
        if (issued.email() == email && issued.kind() == cv1::INVITATION_KIND_PASSWORD_RESET) {
            found.push_back(issued);
        }
    }
    return found;
}

void remove_user(CustomersProcess& service, const std::string& token, const std::string& user_id) {
    cv1::RemovePartnerUserRequest remove;
    remove.set_user_id(user_id);
    cv1::RemovePartnerUserResponse removed;
    REQUIRE(service.api().RemovePartnerUser(as(token).get(), remove, &removed).ok());
}

std::vector<std::string> members_of(CustomersProcess& service, const std::string& organization) {
    cv1::ListHierarchiesRequest request;
    request.set_organization_customer_id(organization);
    cv1::ListHierarchiesResponse response;
    REQUIRE(service.api().ListHierarchies(as(kHqToken).get(), request, &response).ok());
    REQUIRE(response.hierarchies_size() >= 1);
    return {response.hierarchies(0).member_customer_ids().begin(), response.hierarchies(0).member_customer_ids().end()};
}

}  // namespace

TEST_CASE("re-add: a removed user's email is added again as a new user of the same Person, who signs in anew",
          "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    const auto max = add_user(service, acme.admin_session, "", "max@acme.example");
    REQUIRE(set_password(service, invitation_token(kafka, service, "max@acme.example"), kPassword).ok());
    remove_user(service, acme.admin_session, max.user_id());
    const auto before = list(service, "max@acme.example", cv1::CUSTOMER_TYPE_PERSON);

    // The email is free again for this organisation: a new user, on the Person HQ kept.
    const auto again = add_user(service, acme.admin_session, "", "MAX@acme.example");
    CHECK(again.status() == cv1::PARTNER_USER_STATUS_ACTIVE);
    CHECK(again.user_id() != max.user_id());
    CHECK(again.customer_id() == max.customer_id());
    CHECK_FALSE(again.password_set());
    CHECK(list(service, "max@acme.example", cv1::CUSTOMER_TYPE_PERSON).total() == before.total());  // no 2nd Person
    const auto members = members_of(service, acme.organization_id);
    CHECK(std::count(members.begin(), members.end(), max.customer_id()) == 1);  // back in the hierarchy
    add_user(service, acme.admin_session, "", "max@acme.example", grpc::StatusCode::ALREADY_EXISTS);

    // The old password belonged to the removed user: it opens nothing; the new link does.
    sign_in(service, "max@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    std::string new_link;
    REQUIRE(eventually([&] {
        for (const auto& issued : events_of<cv1::InvitationIssued>(kafka, service)) {
            if (issued.user_id() == again.user_id()) {
                new_link = service.unseal(issued.token_sealed_for_notifier());
            }
        }
        return !new_link.empty();
    }));
    REQUIRE(set_password(service, new_link, "a brand new password").ok());
    cv1::SignInRequest request;
    request.set_email("max@acme.example");
    request.set_password("a brand new password");
    cv1::SignInResponse response;
    REQUIRE(service.api().SignIn(as().get(), request, &response).ok());
    CHECK(response.user_id() == again.user_id());

    // The removed user keeps its history on the organisation.
    cv1::GetCustomerRequest get_request;
    get_request.set_customer_id(acme.organization_id);
    cv1::GetCustomerResponse organization;
    REQUIRE(service.api().GetCustomer(as(kHqToken).get(), get_request, &organization).ok());
    int removed = 0;
    int added = 0;
    for (const auto& entry : organization.history()) {
        removed += entry.event_type() == "gatehouse.customers.v1.PartnerUserRemoved" ? 1 : 0;
        added += entry.event_type() == "gatehouse.customers.v1.PartnerUserAdded" ? 1 : 0;
    }
    CHECK(removed == 1);
    CHECK(added == 3);  // the admin, max, max again
}

TEST_CASE("password reset: one answer for every email, a link SetPassword takes once, limited per email",
          "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka, {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000"},
                                     {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000"}});
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    const Partner beta = onboard(kafka, service, "PR-000002", "Beta AG", "bert@beta.example");

    // Unknown and known emails get the same answer, in similar time (measured, not asserted).
    const auto timed = [&](const std::string& email) {
        const auto start = std::chrono::steady_clock::now();
        const grpc::Status status = request_reset(service, email);
        return std::make_pair(status, std::chrono::steady_clock::now() - start);
    };
    const auto [unknown, unknown_took] = timed("nobody@acme.example");
    const auto [known, known_took] = timed("JANE@acme.example");
    CHECK(unknown.error_code() == known.error_code());
    CHECK(unknown.error_message() == known.error_message());
    CHECK(known.ok());
    WARN("RequestPasswordReset took " << std::chrono::duration_cast<std::chrono::microseconds>(unknown_took).count()
                                      << " us for an unknown email, "
                                      << std::chrono::duration_cast<std::chrono::microseconds>(known_took).count()
                                      << " us for a known one");
    CHECK(request_reset(service, "not an email").error_code() == grpc::StatusCode::INVALID_ARGUMENT);

    std::vector<cv1::InvitationIssued> resets;
    REQUIRE(eventually([&] { return (resets = resets_to(kafka, service, "jane@acme.example")).size() == 1; }));
    CHECK(resets[0].user_id() == acme.admin_user_id);
    CHECK(resets[0].organization_name() == "Acme GmbH");
    const std::string token = service.unseal(resets[0].token_sealed_for_notifier());
    CHECK(set_password(service, token, "short").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    REQUIRE(set_password(service, token, "my new reset password").ok());
    CHECK(set_password(service, token, "another new password").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    sign_in(service, "jane@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    CHECK_FALSE(sign_in(service, "jane@acme.example", "my new reset password").empty());

    // At most password_reset.per_email_per_hour (3) links per email: the rest are answered alike, sending nothing.
    // Resets are issued in request order; Carl's (same organisation: same partition) marks the end.
    const auto carl = add_user(service, acme.admin_session, "", "carl@acme.example");
    for (int i = 0; i < 4; ++i) {
        CHECK(request_reset(service, "jane@acme.example").ok());
    }
    REQUIRE(request_reset(service, "carl@acme.example").ok());
    REQUIRE(eventually([&] { return resets_to(kafka, service, "carl@acme.example").size() == 1; }));
    CHECK(resets_to(kafka, service, "jane@acme.example").size() == 3);
    REQUIRE(request_reset(service, "bert@beta.example").ok());
    REQUIRE(eventually([&] { return resets_to(kafka, service, "bert@beta.example").size() == 1; }));
    CHECK(carl.status() == cv1::PARTNER_USER_STATUS_ACTIVE);

    // A removed user, or one of a blocked organisation, gets nothing (and the same answer).
    cv1::BlockCustomerRequest block;
    block.set_customer_id(beta.organization_id);
    block.set_blocked(true);
    block.set_reason("unpaid invoices");
    cv1::BlockCustomerResponse blocked;
    REQUIRE(service.api().BlockCustomer(as(kHqToken).get(), block, &blocked).ok());
    const auto max = add_user(service, acme.admin_session, "", "max@acme.example");
    remove_user(service, acme.admin_session, max.user_id());
    CHECK(request_reset(service, "bert@beta.example").ok());
    CHECK(request_reset(service, "max@acme.example").ok());
    CHECK(request_reset(service, "nobody@acme.example").ok());
    REQUIRE(request_reset(service, "carl@acme.example").ok());  // the marker again
    REQUIRE(eventually([&] { return resets_to(kafka, service, "carl@acme.example").size() == 2; }));
    CHECK(resets_to(kafka, service, "bert@beta.example").size() == 1);
    CHECK(resets_to(kafka, service, "max@acme.example").empty());

    // No token on the topic.
    for (const auto& record : kafka.read_all(service.customers_topic(), 1, 10s)) {
        CHECK(record.value.find(token) == std::string::npos);
    }
}

TEST_CASE("after restore-from-topic a user whose password hash is gone can be invited again", "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    cv1::ChangeInvitationRequest resend;
    resend.set_user_id(acme.admin_user_id);
    cv1::ChangeInvitationResponse resent;
    // While the hash is stored, a password is set: no new invitation (a reset is the way).
    CHECK(service.api().ChangeInvitation(as(kHqToken).get(), resend, &resent).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    REQUIRE(eventually([&] { return !events_of<cv1::PasswordSet>(kafka, service).empty(); }));
    REQUIRE(service.stop() == 0);
    std::filesystem::remove_all(service.data_dir());
    const auto [code, output] = service.run_command({"restore-from-topic"});
    INFO(output);
    REQUIRE(code == 0);
    service.start();

    sign_in(service, "jane@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);  // no hash any more
    REQUIRE(service.api().ChangeInvitation(as(kHqToken).get(), resend, &resent).ok());
    const std::string token = invitation_token(kafka, service, "jane@acme.example", 1);
    REQUIRE(set_password(service, token, kPassword).ok());
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
}

TEST_CASE(
    "hq: B2B administrator on an existing Person, ChangeAdministrator and AddPartnerUser take a Person of the "
    "organization only",
    "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const auto create = [&](cv1::CustomerType type, const std::string& name, const std::string& email,
                            const std::string& organization, bool admin, grpc::StatusCode expected) {
        cv1::CreateCustomerRequest request;
        request.set_type(type);
        if (type == cv1::CUSTOMER_TYPE_ORGANIZATION) {
            request.mutable_details()->set_name(name);
        } else {
            request.mutable_details()->set_first_name(name);
            request.mutable_details()->set_last_name("Person");
            request.mutable_details()->set_email(email);
        }
        request.set_organization_customer_id(organization);
        request.set_b2b_admin(admin);
        cv1::CreateCustomerResponse response;
        const auto status = service.api().CreateCustomer(as(kHqToken).get(), request, &response);
        CHECK(status.error_code() == expected);
        return response.customer();
    };
    const auto hq_org = create(cv1::CUSTOMER_TYPE_ORGANIZATION, "Hq Made GmbH", "", "", false, grpc::StatusCode::OK);
    const auto other_org = create(cv1::CUSTOMER_TYPE_ORGANIZATION, "Other AG", "", "", false, grpc::StatusCode::OK);
    create(cv1::CUSTOMER_TYPE_ORGANIZATION, "Wrong", "", "", true, grpc::StatusCode::INVALID_ARGUMENT);
    // "B2B administrator = Yes" at creation: the person's web account, invited, is the administrator.
    const auto anna = create(cv1::CUSTOMER_TYPE_PERSON, "Anna", "anna@hqmade.example", hq_org.customer_id(), true,
                             grpc::StatusCode::OK);
    CHECK(anna.b2b_admin());
    auto users = users_of(service, hq_org.customer_id());
    REQUIRE(users.size() == 1);
    CHECK(users[0].administrator());
    CHECK(users[0].customer_id() == anna.customer_id());
    CHECK(users[0].email() == "anna@hqmade.example");
    const std::string anna_token = invitation_token(kafka, service, "anna@hqmade.example");
    REQUIRE(set_password(service, anna_token, kPassword).ok());
    const std::string anna_session = sign_in(service, "anna@hqmade.example");
    REQUIRE_FALSE(anna_session.empty());

    // A person HQ puts into the organisation's hierarchy, without a link, becomes admin by UpdateCustomer? No:
    // it has no organisation of its own; ChangeAdministrator by customer id takes hierarchy members.
    const auto bob = create(cv1::CUSTOMER_TYPE_PERSON, "Bob", "bob@hqmade.example", "", false, grpc::StatusCode::OK);
    cv1::CreateHierarchyRequest hierarchy;
    hierarchy.set_organization_customer_id(hq_org.customer_id());
    hierarchy.set_name("Hq Made buyers");
    cv1::CreateHierarchyResponse created_hierarchy;
    REQUIRE(service.api().CreateHierarchy(as(kHqToken).get(), hierarchy, &created_hierarchy).ok());
    cv1::ChangeHierarchyMemberRequest member;
    member.set_hierarchy_id(created_hierarchy.hierarchy().hierarchy_id());
    member.set_customer_id(bob.customer_id());
    member.set_add(true);
    cv1::ChangeHierarchyMemberResponse changed_member;
    REQUIRE(service.api().ChangeHierarchyMember(as(kHqToken).get(), member, &changed_member).ok());
    cv1::UpdateCustomerRequest update;
    update.set_customer_id(bob.customer_id());
    update.set_b2b_admin(true);
    cv1::UpdateCustomerResponse updated;
    CHECK(service.api().UpdateCustomer(as(kHqToken).get(), update, &updated).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    cv1::ChangeAdministratorRequest change;
    change.set_organization_customer_id(hq_org.customer_id());
    change.set_new_admin_customer_id(bob.customer_id());
    cv1::ChangeAdministratorResponse changed;
    REQUIRE(service.api().ChangeAdministrator(as(kHqToken).get(), change, &changed).ok());
    users = users_of(service, hq_org.customer_id());
    REQUIRE(users.size() == 2);
    for (const auto& user : users) {
        CHECK(user.administrator() == (user.customer_id() == bob.customer_id()));
    }
    CHECK(get(service, bob.customer_id()).b2b_admin());
    CHECK_FALSE(get(service, anna.customer_id()).b2b_admin());

    // A person of another organisation: NOT_FOUND, as for one that does not exist.
    const auto olga = create(cv1::CUSTOMER_TYPE_PERSON, "Olga", "olga@other.example", other_org.customer_id(), false,
                             grpc::StatusCode::OK);
    change.set_new_admin_customer_id(olga.customer_id());
    CHECK(service.api().ChangeAdministrator(as(kHqToken).get(), change, &changed).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    change.set_new_admin_customer_id("CU-999999");
    CHECK(service.api().ChangeAdministrator(as(kHqToken).get(), change, &changed).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    cv1::AddPartnerUserRequest by_id;
    by_id.set_organization_customer_id(hq_org.customer_id());
    by_id.set_customer_id(olga.customer_id());
    cv1::AddPartnerUserResponse added;
    CHECK(service.api().AddPartnerUser(as(kHqToken).get(), by_id, &added).error_code() == grpc::StatusCode::NOT_FOUND);

    // UpdateCustomer b2b_admin on a Person linked to the organisation; false for the admin is refused.
    const auto carl = create(cv1::CUSTOMER_TYPE_PERSON, "Carl", "carl@hqmade.example", hq_org.customer_id(), false,
                             grpc::StatusCode::OK);
    update.set_customer_id(carl.customer_id());
    REQUIRE(service.api().UpdateCustomer(as(kHqToken).get(), update, &updated).ok());
    CHECK(updated.customer().b2b_admin());
    update.set_b2b_admin(false);
    CHECK(service.api().UpdateCustomer(as(kHqToken).get(), update, &updated).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);

    // An existing Person of the organisation, added by email: its own record, not a second Person.
    const auto dora = create(cv1::CUSTOMER_TYPE_PERSON, "Dora", "dora@hqmade.example", hq_org.customer_id(), false,
                             grpc::StatusCode::OK);
    const auto dora_user = add_user(service, kHqToken, hq_org.customer_id(), "dora@hqmade.example");
    CHECK(dora_user.customer_id() == dora.customer_id());
    CHECK(dora_user.first_name() == "Dora");  // the master data's names, not the request's "Max"
    // Another organisation's person's email is a new Person there (nothing revealed).
    const auto olga_here = add_user(service, kHqToken, hq_org.customer_id(), "olga@other.example");
    CHECK(olga_here.customer_id() != olga.customer_id());
}

TEST_CASE("web accounts follow master data: HQ's edit moves the sign-in email, a CRM contact change only the names",
          "[api][kafka][users]") {
    KafkaTestCluster kafka;
    CustomersProcess service(kafka);
    const Partner acme = onboard(kafka, service, "PR-000001", "Acme GmbH", "jane@acme.example");
    const auto max = add_user(service, acme.admin_session, "", "max@acme.example");
    REQUIRE(set_password(service, invitation_token(kafka, service, "max@acme.example"), kPassword).ok());

    // HQ changes the Person's email and name: the account follows; the password stays.
    cv1::UpdateCustomerRequest update;
    update.set_customer_id(max.customer_id());
    update.mutable_details()->set_email("Max.Muster@acme.example");
    update.mutable_details()->set_last_name("Mustermann");
    update.add_fields("email");
    update.add_fields("last_name");
    cv1::UpdateCustomerResponse updated;
    REQUIRE(service.api().UpdateCustomer(as(kHqToken).get(), update, &updated).ok());
    auto users = users_of(service, acme.organization_id);
    const auto find = [&](const std::string& user_id) {
        for (const auto& user : users_of(service, acme.organization_id)) {
            if (user.user_id() == user_id) {
                return user;
            }
        }
        return cv1::PartnerUser{};
    };
    CHECK(find(max.user_id()).email() == "max.muster@acme.example");
    CHECK(find(max.user_id()).last_name() == "Mustermann");
    sign_in(service, "max@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);
    CHECK_FALSE(sign_in(service, "max.muster@acme.example").empty());
    // The email of another account of the organisation is refused, and nothing changes.
    update.mutable_details()->set_email("jane@acme.example");
    CHECK(service.api().UpdateCustomer(as(kHqToken).get(), update, &updated).error_code() ==
          grpc::StatusCode::ALREADY_EXISTS);
    CHECK(get(service, max.customer_id()).details().email() == "max.muster@acme.example");

    // The notifications use the new names: a removal email names "Max Mustermann".
    // A CRM contact change (replicated) reaches the admin's account: link the admin's Person to a contact first.
    // Its names follow; its email does not move the sign-in email (a reset would go there).
    kafka.produce(service.sales_topic(), "C-1",
                  envelope(contact_created("C-1", "A-1", "PR-000001", "jane@acme.example", now_plus(0s)), "c-1",
                           "contact", "C-1", "sales-bridge"));
    REQUIRE(eventually([&] { return get(service, acme.admin_customer_id).crm_contact_id() == "C-1"; }));
    sales::v1::ContactUpdated contact;
    contact.set_contact_id("C-1");
    contact.set_account_id("A-1");
    contact.set_first_name("Janet");
    contact.set_last_name("Roe");
    contact.set_email("janet.roe@acme.example");
    for (const char* field : {"first_name", "last_name", "email"}) {
        contact.add_changed_fields(field);
    }
    *contact.mutable_changed_at() = now_plus(5s);
    contact.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
    kafka.produce(service.sales_topic(), "C-1", envelope(contact, "c-2", "contact", "C-1", "sales-bridge"));
    REQUIRE(eventually([&] { return find(acme.admin_user_id).first_name() == "Janet"; }));
    CHECK(find(acme.admin_user_id).last_name() == "Roe");
    CHECK(find(acme.admin_user_id).administrator());
    CHECK(get(service, acme.admin_customer_id).details().email() == "janet.roe@acme.example");  // master data
    CHECK(find(acme.admin_user_id).email() == "jane@acme.example");  // the sign-in email stays
    CHECK_FALSE(sign_in(service, "jane@acme.example").empty());
    sign_in(service, "janet.roe@acme.example", kPassword, grpc::StatusCode::UNAUTHENTICATED);

    remove_user(service, kHqToken, max.user_id());
    std::vector<cv1::PartnerUserRemoved> removed;
    REQUIRE(eventually([&] { return !(removed = events_of<cv1::PartnerUserRemoved>(kafka, service)).empty(); }));
    CHECK(removed[0].last_name() == "Mustermann");
    CHECK(removed[0].email() == "max.muster@acme.example");
    std::vector<cv1::PartnerUserUpdated> synced;
    REQUIRE(eventually([&] { return (synced = events_of<cv1::PartnerUserUpdated>(kafka, service)).size() >= 2; }));
    CHECK(synced[0].email() == "max.muster@acme.example");
}
