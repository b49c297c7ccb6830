// The planner: which notifications each input event causes, with which variables.
#include <catch2/catch.hpp>

#include "domain/planner.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"

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

TEST_CASE("events that tell no one plan nothing; an undecodable payload is an error", "[planner]") {
    ob::ProspectApproved approved;  // the welcome email follows the customers service's invitation
    *approved.mutable_prospect() = prospect();
    CHECK(plan(envelope("evt-6", approved)).empty());
    auto broken = envelope("evt-7", ob::RequestSubmitted{});
    broken.set_payload("\xff\xff\xff");
    std::string error;
    CHECK(plan_notifications(InputTopic::onboarding, broken, {}, kNow, error).empty());
    CHECK_FALSE(error.empty());
}
