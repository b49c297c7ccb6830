// The planner: which notifications each input event causes, with which variables.
#include <catch2/catch.hpp>

#include "domain/planner.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
namespace ob = gatehouse::onboarding::v1;

namespace {

const auto kNow = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56);

ob::ProspectSnapshot prospect(const std::string& country = "GB", ob::ApprovalMode mode = ob::APPROVAL_MODE_DIRECT) {
    ob::ProspectSnapshot snapshot;
    snapshot.set_request_number("PR-000042");
    snapshot.mutable_company()->set_name("Smith & Sons");
    snapshot.mutable_company()->mutable_address()->set_country_code(country);
    snapshot.mutable_contact()->set_first_name("Ada");
    snapshot.mutable_contact()->set_last_name("Lovelace");
    snapshot.mutable_contact()->set_email("ada@smith.example");
    snapshot.set_approval_mode(mode);
    return snapshot;
}

template <class Message>
kernel::v1::EventEnvelope envelope(const std::string& event_id, const Message& message) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type(Message::descriptor()->full_name());
    envelope.set_aggregate_type("prospect");
    envelope.set_aggregate_id("PR-000042");
    envelope.set_payload(message.SerializeAsString());
    return envelope;
}

std::vector<v1::NotificationQueued> plan(const kernel::v1::EventEnvelope& event, const PlannerSettings& settings = {}) {
    std::string error;
    auto planned = plan_notifications(InputTopic::onboarding, event, settings, kNow, error);
    CHECK(error.empty());
    return planned;
}

}  // namespace

TEST_CASE("request submitted: the requester's confirmation, with the sealed token and the link path", "[planner]") {
    ob::RequestSubmitted submitted;
    submitted.set_request_number("PR-000042");
    *submitted.mutable_company() = prospect().company();
    *submitted.mutable_contact() = prospect().contact();
    submitted.mutable_verification()->set_token_sealed_for_notifier("sealed-bytes");
    *submitted.mutable_verification()->mutable_expires_at() = kernel::to_timestamp(kNow + std::chrono::hours(72));
    const auto planned = plan(envelope("evt-1", submitted));
    REQUIRE(planned.size() == 1);
    const auto& email = planned[0];
    CHECK(email.template_name() == "request_received");
    CHECK(email.channel() == v1::CHANNEL_EMAIL);
    CHECK(email.recipient() == "ada@smith.example");
    CHECK(email.sealed_token() == "sealed-bytes");
    CHECK(email.link_path() == "/verify?request=PR-000042&token=");
    CHECK(email.variables().at("company_name") == "Smith & Sons");
    CHECK(email.variables().at("contact_name") == "Ada Lovelace");
    CHECK(email.variables().at("request_number") == "PR-000042");
    CHECK(email.variables().at("link_expires_at").find("UTC") != std::string::npos);
    CHECK(email.variables().count("link") == 0);  // built at send time only
    CHECK(email.cause_event_id() == "evt-1");
    CHECK(email.locale() == "en");
    // The same event planned again gives the same notification id.
    CHECK(plan(envelope("evt-1", submitted))[0].notification_id() == email.notification_id());
}

TEST_CASE("a contact in a country with a translated template gets that locale", "[planner]") {
    PlannerSettings settings;
    settings.locales = {"en", "de"};
    CHECK(locale_for_country("DE", settings) == "de");
    CHECK(locale_for_country("AT", settings) == "de");
    CHECK(locale_for_country("FR", settings) == "en");  // no French templates: the default
    CHECK(locale_for_country("", settings) == "en");
}

TEST_CASE("verification reissued: a new link to the contact of the snapshot", "[planner]") {
    ob::VerificationReissued reissued;
    *reissued.mutable_prospect() = prospect();
    reissued.mutable_verification()->set_token_sealed_for_notifier("sealed-2");
    const auto planned = plan(envelope("evt-2", reissued));
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "verification_link");
    CHECK(planned[0].recipient() == "ada@smith.example");
    CHECK(planned[0].sealed_token() == "sealed-2");
}

TEST_CASE("email verified: HQ is told by chat and, when configured, email — in direct mode only", "[planner]") {
    ob::EmailVerified verified;
    *verified.mutable_prospect() = prospect();
    CHECK(plan(envelope("evt-3", verified)).empty());  // no channel, no HQ address: nobody to tell
    PlannerSettings settings;
    settings.chat_channels = {"hq"};
    settings.hq_email = "partners@hq.example";
    const auto planned = plan(envelope("evt-3", verified), settings);
    REQUIRE(planned.size() == 2);
    CHECK(planned[0].template_name() == "prospect_pending_chat");
    CHECK(planned[0].channel() == v1::CHANNEL_CHAT);
    CHECK(planned[0].recipient() == "hq");
    CHECK(planned[1].recipient() == "partners@hq.example");
    CHECK(planned[1].variables().at("contact_email") == "ada@smith.example");
    *verified.mutable_prospect() = prospect("GB", ob::APPROVAL_MODE_CRM);
    CHECK(plan(envelope("evt-4", verified), settings).empty());  // the lead is the news in CRM mode
}

TEST_CASE("prospect rejected: a decline quoting the reason unless policy says not to", "[planner]") {
    ob::ProspectRejected rejected;
    *rejected.mutable_prospect() = prospect();
    rejected.set_reason("no trade licence");
    auto planned = plan(envelope("evt-5", rejected));
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "prospect_rejected");
    CHECK(planned[0].variables().at("reason") == "no trade licence");
    PlannerSettings discreet;
    discreet.tell_rejection_reason = false;
    CHECK(plan(envelope("evt-5", rejected), discreet)[0].variables().at("reason").empty());
}

TEST_CASE("events that tell no one plan nothing, and an undecodable payload is an error", "[planner]") {
    ob::ProspectApproved approved;  // the welcome email follows the customers service's invitation
    *approved.mutable_prospect() = prospect();
    CHECK(plan(envelope("evt-6", approved)).empty());
    auto broken = envelope("evt-7", ob::RequestSubmitted{});
    broken.set_payload("\xff\xff\xff");
    std::string error;
    CHECK(plan_notifications(InputTopic::onboarding, broken, {}, kNow, error).empty());
    CHECK_FALSE(error.empty());
}

namespace {

namespace cu = gatehouse::customers::v1;
namespace sa = gatehouse::sales::v1;

template <class Message>
std::vector<v1::NotificationQueued> plan_from(InputTopic topic, const Message& message,
                                              const PlannerSettings& settings = {}) {
    std::string error;
    auto planned = plan_notifications(topic, envelope("evt-9", message), settings, kNow, error);
    CHECK(error.empty());
    return planned;
}

}  // namespace

TEST_CASE("invitations: the approved admin's welcome and a new user's invitation, each with its link", "[planner]") {
    cu::InvitationIssued invitation;
    invitation.set_user_id("U-1");
    invitation.set_email("ada@smith.example");
    invitation.set_first_name("Ada");
    invitation.set_organization_name("Smith & Sons");
    invitation.set_request_number("PR-000042");
    invitation.set_kind(cu::INVITATION_KIND_ADMIN_ON_APPROVAL);
    invitation.set_token_sealed_for_notifier("sealed-invite");
    auto planned = plan_from(InputTopic::customers, invitation);
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "partner_approved");
    CHECK(planned[0].link_path() == "/set-password?token=");
    CHECK(planned[0].sealed_token() == "sealed-invite");
    CHECK(planned[0].variables().at("request_number") == "PR-000042");
    invitation.set_kind(cu::INVITATION_KIND_PARTNER_USER);
    planned = plan_from(InputTopic::customers, invitation);
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "partner_user_invitation");
    CHECK(planned[0].variables().at("organization_name") == "Smith & Sons");
    invitation.clear_token_sealed_for_notifier();
    std::string error;
    CHECK(plan_notifications(InputTopic::customers, envelope("evt-9", invitation), {}, kNow, error).empty());
    CHECK_FALSE(error.empty());
}

TEST_CASE("a new administrator: both the new and the old one are told", "[planner]") {
    cu::AdministratorChanged changed;
    changed.set_organization_name("Smith & Sons");
    changed.mutable_old_admin()->set_email("ada@smith.example");
    changed.mutable_old_admin()->set_first_name("Ada");
    changed.mutable_new_admin()->set_email("bob@smith.example");
    changed.mutable_new_admin()->set_first_name("Bob");
    const auto planned = plan_from(InputTopic::customers, changed);
    REQUIRE(planned.size() == 2);
    CHECK(planned[0].template_name() == "administrator_granted");
    CHECK(planned[0].recipient() == "bob@smith.example");
    CHECK(planned[1].template_name() == "administrator_revoked");
    CHECK(planned[1].recipient() == "ada@smith.example");
    CHECK(planned[1].variables().at("new_admin_name") == "Bob");
    cu::PartnerUserRemoved removed;
    removed.set_email("carl@smith.example");
    removed.set_organization_name("Smith & Sons");
    CHECK(plan_from(InputTopic::customers, removed)[0].template_name() == "partner_user_removed");
}

TEST_CASE("sales events are posted to the sales channel when it has a webhook", "[planner]") {
    sa::OpportunityWon won;
    won.set_opportunity_id("OPP-000001");
    won.set_company_name("Smith & Sons");
    won.set_prospect_request_number("PR-000042");
    won.mutable_estimated_value()->set_currency_code("EUR");
    won.mutable_estimated_value()->set_minor_units(1250005);
    CHECK(plan_from(InputTopic::sales, won).empty());  // no sales channel configured
    PlannerSettings settings;
    settings.chat_channels = {"sales"};
    auto planned = plan_from(InputTopic::sales, won, settings);
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "opportunity_won_chat");
    CHECK(planned[0].channel() == v1::CHANNEL_CHAT);
    CHECK(planned[0].variables().at("estimated_value") == "12500.05 EUR");
    sa::LeadAssigned assigned;
    assigned.set_lead_id("LEAD-000001");
    assigned.set_owner_email("sam@sales.example");
    CHECK(plan_from(InputTopic::sales, assigned, settings)[0].variables().at("owner") == "sam@sales.example");
    sa::OpportunityLost lost;
    lost.set_reason("budget cut");
    CHECK(plan_from(InputTopic::sales, lost, settings)[0].variables().at("reason") == "budget cut");
    sa::LeadCreated lead;
    lead.set_lead_id("LEAD-000002");
    CHECK(plan_from(InputTopic::sales, lead, settings)[0].template_name() == "lead_created_chat");
}

TEST_CASE("a password reset: its own email with the set-password link", "[planner]") {
    cu::InvitationIssued reset;
    reset.set_user_id("U-1");
    reset.set_email("ada@smith.example");
    reset.set_first_name("Ada");
    reset.set_last_name("Lovelace");
    reset.set_organization_name("Smith & Sons");
    reset.set_kind(cu::INVITATION_KIND_PASSWORD_RESET);
    reset.set_token_sealed_for_notifier("sealed-reset");
    const auto planned = plan_from(InputTopic::customers, reset);
    REQUIRE(planned.size() == 1);
    CHECK(planned[0].template_name() == "password_reset");
    CHECK(planned[0].recipient() == "ada@smith.example");
    CHECK(planned[0].link_path() == "/set-password?token=");
    CHECK(planned[0].sealed_token() == "sealed-reset");
    CHECK(planned[0].variables().at("user_name") == "Ada Lovelace");
}
