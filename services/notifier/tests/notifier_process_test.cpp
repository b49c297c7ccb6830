// gatehouse-notifier as a real process: the real SMTP server (aiosmtpd), a local webhook receiver,
// and Kafka (the mock cluster, or the real broker under the "kafka" label).
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "fake_smtp_server.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/testing/wait_until.h"
#include "notifier_process.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;
namespace nv1 = gatehouse::notifier::v1;

namespace {

const std::string kSmtpSink = GATEHOUSE_SOURCE_DIR "/tests/support/smtp_sink.py";
const std::string kWebhookSink = GATEHOUSE_SOURCE_DIR "/tests/support/webhook_sink.py";
constexpr auto kDeliveryTimeout = 60s;

std::map<std::string, std::string> smtp_settings(int smtp_port, int webhook_port = 0) {
    std::map<std::string, std::string> settings = {
        {"GATEHOUSE_EMAIL_TRANSPORT", "smtp"},
        {"GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp_port)},
        {"GATEHOUSE_SMTP_TLS", "none"},  // the test sink speaks plain SMTP
        {"GATEHOUSE_SMTP_TIMEOUT", "5s"},
        {"GATEHOUSE_NOTIFY_HQ_EMAIL", "partners@hq.example"}};
    if (webhook_port != 0) {
        settings["GATEHOUSE_CHAT_WEBHOOKS"] = "hq=http://127.0.0.1:" + std::to_string(webhook_port) + "/hq";
    }
    return settings;
}

ob::ProspectSnapshot snapshot(const std::string& number, const std::string& email, const std::string& country) {
    ob::ProspectSnapshot prospect;
    prospect.set_request_number(number);
    prospect.mutable_company()->set_name("Smith & <Sons>");
    prospect.mutable_company()->mutable_address()->set_country_code(country);
    prospect.mutable_contact()->set_first_name("Ada");
    prospect.mutable_contact()->set_last_name("Lovelace");
    prospect.mutable_contact()->set_email(email);
    prospect.set_approval_mode(ob::APPROVAL_MODE_DIRECT);
    return prospect;
}

ob::RequestSubmitted submitted(NotifierProcess& notifier, const std::string& number, const std::string& email,
                               const std::string& token, const std::string& country = "GB") {
    const auto prospect = snapshot(number, email, country);
    ob::RequestSubmitted event;
    event.set_request_number(number);
    *event.mutable_company() = prospect.company();
    *event.mutable_contact() = prospect.contact();
    event.mutable_verification()->set_token_hash("not-used-by-the-notifier");
    event.mutable_verification()->set_token_sealed_for_notifier(notifier.seal(token));
    *event.mutable_verification()->mutable_expires_at() =
        kernel::to_timestamp(std::chrono::system_clock::now() + std::chrono::hours(72));
    return event;
}

std::vector<nv1::NotificationSummary> notifications(NotifierProcess& notifier, nv1::NotificationStatus status) {
    nv1::ListNotificationsRequest request;
    request.set_status(status);
    request.set_page_size(500);
    nv1::ListNotificationsResponse response;
    if (!notifier.api().ListNotifications(as_operator().get(), request, &response).ok()) {
        return {};
    }
    return {response.notifications().begin(), response.notifications().end()};
}

const nlohmann::json* email_to(const std::vector<nlohmann::json>& emails, const std::string& address,
                               const std::string& subject_part) {
    for (const auto& email : emails) {
        if (email["to"] == address && email["subject"].get<std::string>().find(subject_part) != std::string::npos) {
            return &email;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("every onboarding email and the HQ chat post arrive rendered, with working links", "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    Sink webhook(kWebhookSink);
    NotifierProcess notifier(kafka, smtp_settings(smtp.port(), webhook.port()));

    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001",
                     submitted(notifier, "PR-000001", "ada@smith.example", "token-one"));
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000002",
                     submitted(notifier, "PR-000002", "bernd@mueller.example", "token-de", "DE"));
    ob::VerificationReissued reissued;
    *reissued.mutable_prospect() = snapshot("PR-000001", "ada@smith.example", "GB");
    reissued.mutable_verification()->set_token_sealed_for_notifier(notifier.seal("token-two"));
    *reissued.mutable_verification()->mutable_expires_at() = kernel::to_timestamp(std::chrono::system_clock::now());
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001", reissued);
    ob::EmailVerified verified;
    *verified.mutable_prospect() = snapshot("PR-000001", "ada@smith.example", "GB");
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001", verified);
    ob::ProspectRejected rejected;
    *rejected.mutable_prospect() = snapshot("PR-000002", "bernd@mueller.example", "DE");
    rejected.set_reason("no trade licence");
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000002", rejected);

    REQUIRE(wait_until([&] { return smtp.received().size() >= 5 && !webhook.received().empty(); }, kDeliveryTimeout));
    const auto emails = smtp.received();
    CHECK(emails.size() == 5);

    const auto* confirmation = email_to(emails, "ada@smith.example", "please confirm your email");
    REQUIRE(confirmation != nullptr);
    const std::string text = (*confirmation)["text"];
    CHECK_THAT(text, Catch::Contains("https://shop.example/verify?request=PR-000001&token=token-one"));
    // Before verification nothing the form's author typed is echoed to the address they named.
    CHECK_THAT(text, Catch::StartsWith("Hello,") && !Catch::Contains("Ada Lovelace") && !Catch::Contains("Smith"));
    CHECK_THAT((*confirmation)["html"].get<std::string>(), !Catch::Contains("Smith"));
    CHECK_THAT((*confirmation)["subject"].get<std::string>(), Catch::Contains("PR-000001"));
    CHECK_THAT((*confirmation)["message_id"].get<std::string>(), Catch::StartsWith("<N-"));
    CHECK((*confirmation)["raw"].get<std::string>().find("token-two") == std::string::npos);

    const auto* german = email_to(emails, "bernd@mueller.example", "Partneranfrage");
    REQUIRE(german != nullptr);
    CHECK_THAT((*german)["text"].get<std::string>(),
               Catch::Contains("https://shop.example/verify?request=PR-000002&token=token-de"));

    const auto* new_link = email_to(emails, "ada@smith.example", "new confirmation link");
    REQUIRE(new_link != nullptr);
    CHECK_THAT((*new_link)["text"].get<std::string>(), Catch::Contains("&token=token-two"));

    const auto* hq = email_to(emails, "partners@hq.example", "New pending prospect PR-000001");
    REQUIRE(hq != nullptr);
    CHECK_THAT((*hq)["text"].get<std::string>(), Catch::Contains("ada@smith.example"));

    const auto* decline = email_to(emails, "bernd@mueller.example", "Your partner request PR-000002");
    REQUIRE(decline != nullptr);
    CHECK_THAT((*decline)["text"].get<std::string>(), Catch::Contains("Reason: no trade licence"));

    const auto posts = webhook.received();
    REQUIRE(posts.size() == 1);
    CHECK(posts[0]["path"] == "/hq");
    CHECK_THAT(posts[0]["body"]["text"].get<std::string>(),
               Catch::Contains("PR-000001") && Catch::Contains("Smith &amp; &lt;Sons&gt;"));

    CHECK(notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == 6);
}

TEST_CASE("with the SMTP server down for longer than 8 attempts, a message is retried and delivered once it is back",
          "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    const int port = smtp.port();
    smtp.stop();
    auto settings = smtp_settings(port);
    settings["GATEHOUSE_DELIVERY_BACKOFF_INITIAL"] = "50ms";
    settings["GATEHOUSE_DELIVERY_BACKOFF_MAX"] = "200ms";
    settings["GATEHOUSE_DELIVERY_RETRY_FOR"] = "60s";  // by time only: no cap by count (the default)
    NotifierProcess notifier(kafka, settings);
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001",
                     submitted(notifier, "PR-000001", "ada@smith.example", "token-one"));
    // Down for longer than the old budget of 8 attempts: still queued, still retried.
    REQUIRE(wait_until(
        [&] {
            const auto queued = notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED);
            return !queued.empty() && queued[0].attempts() >= 10;
        },
        kDeliveryTimeout));
    const auto waiting = notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED);
    CHECK_THAT(waiting[0].last_error(), Catch::Contains("connect") || Catch::Contains("Couldn't"));
    CHECK(notifications(notifier, nv1::NOTIFICATION_STATUS_DEAD_LETTERED).empty());

    smtp.start({"--port", std::to_string(port)});
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == 1; },
                       kDeliveryTimeout));
    CHECK(notifications(notifier, nv1::NOTIFICATION_STATUS_SENT)[0].attempts() >= 11);
    // Exactly once: one message with this Message-ID, and no other.
    const auto emails = smtp.received();
    REQUIRE(emails.size() == 1);
    CHECK(emails[0]["message_id"] == "<" + waiting[0].notification_id() + "@gatehouse.localhost>");
    CHECK_THAT(emails[0]["text"].get<std::string>(), Catch::Contains("&token=token-one"));
}

TEST_CASE("a message that cannot be delivered within delivery.retry_for is dead-lettered", "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    const int port = smtp.port();
    smtp.stop();
    auto settings = smtp_settings(port);
    settings["GATEHOUSE_DELIVERY_BACKOFF_INITIAL"] = "50ms";
    settings["GATEHOUSE_DELIVERY_BACKOFF_MAX"] = "200ms";
    settings["GATEHOUSE_DELIVERY_RETRY_FOR"] = "2s";
    NotifierProcess notifier(kafka, settings);
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001",
                     submitted(notifier, "PR-000001", "ada@smith.example", "token-one"));
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_DEAD_LETTERED).size() == 1; },
                       kDeliveryTimeout));
    const auto dead = notifications(notifier, nv1::NOTIFICATION_STATUS_DEAD_LETTERED)[0];
    CHECK(dead.attempts() >= 2);  // retried first
    CHECK_THAT(dead.last_error(), Catch::Contains("connect") || Catch::Contains("Couldn't"));
    nv1::GetNotificationRequest get;
    get.set_notification_id(dead.notification_id());
    nv1::GetNotificationResponse details;
    REQUIRE(notifier.api().GetNotification(as_operator().get(), get, &details).ok());
    REQUIRE(details.attempts_size() >= 2);
    // The last attempt came when the notification had been queued for retry_for, not before.
    const auto queued_at = kernel::to_time_point(details.summary().queued_at());
    const auto last_attempt = kernel::to_time_point(details.attempts(details.attempts_size() - 1).at());
    CHECK(last_attempt - queued_at >= 2s);
}

TEST_CASE("up to delivery.parallelism sends run at once, each message delivered once", "[kafka]") {
    KafkaTestCluster kafka;
    // First everything is queued (the sends that start meanwhile hang on a silent server and are
    // abandoned by the stop), so that the first batch after the restart holds all of them.
    FakeSmtpServer silent(FakeSmtpServer::Mode::silent);
    auto settings = smtp_settings(silent.port());
    settings["GATEHOUSE_SMTP_TIMEOUT"] = "60s";
    settings["GATEHOUSE_DELIVERY_PARALLELISM"] = "4";
    NotifierProcess notifier(kafka, settings);
    constexpr int kRequests = 9;
    for (int i = 1; i <= kRequests; ++i) {
        const std::string number = "PR-" + std::to_string(200000 + i);
        notifier.produce("gatehouse.onboarding.events.v1", "prospect", number,
                         submitted(notifier, number, "user" + std::to_string(i) + "@example.com", "t" + number));
    }
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED).size() == kRequests; },
                       kDeliveryTimeout));
    REQUIRE(notifier.stop() == 0);

    // A server that holds each session before its greeting until 4 are open at once: sends one at
    // a time would never get there (and more than 4 at once would show).
    FakeSmtpServer smtp(FakeSmtpServer::Mode::holding, 4);
    notifier.start({{"GATEHOUSE_SMTP_URL", smtp.url()}});
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == kRequests; },
                       kDeliveryTimeout));
    CHECK(smtp.max_concurrent() == 4);
    const auto ids = smtp.message_ids();
    CHECK(ids.size() == kRequests);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == kRequests);
    for (const auto& sent : notifications(notifier, nv1::NOTIFICATION_STATUS_SENT)) {
        CHECK(sent.attempts() == 1);
    }
}

TEST_CASE("SIGTERM with sends stuck on a silent SMTP server: the notifier stops within 2 s, then sends them",
          "[kafka]") {
    KafkaTestCluster kafka;
    FakeSmtpServer silent(FakeSmtpServer::Mode::silent);
    auto settings = smtp_settings(silent.port());
    settings["GATEHOUSE_SMTP_TIMEOUT"] = "60s";  // the stall a stop must not wait for
    NotifierProcess notifier(kafka, settings);
    constexpr int kRequests = 3;
    for (int i = 1; i <= kRequests; ++i) {
        const std::string number = "PR-" + std::to_string(300000 + i);
        notifier.produce("gatehouse.onboarding.events.v1", "prospect", number,
                         submitted(notifier, number, "user" + std::to_string(i) + "@example.com", "t" + number));
    }
    // All are queued (the inbox applied every event), and sends are in flight: connected, waiting
    // for a greeting that never comes (as many as the first batch found due). Watched on /metrics,
    // not on the gRPC API: a gRPC client still connected makes the server's own shutdown wait for
    // it to hang up (seconds, whatever the notifier does; see the kernel's ServiceRuntime).
    REQUIRE(wait_until([&] { return notifier.metric("gatehouse_inbox_applied") >= kRequests; }, kDeliveryTimeout));
    REQUIRE(wait_until([&] { return silent.connections() >= 1; }, kDeliveryTimeout));
    const auto signalled = std::chrono::steady_clock::now();
    CHECK(notifier.stop(SIGTERM) == 0);
    const auto took = std::chrono::steady_clock::now() - signalled;
    INFO("stopped in " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < 2s);

    // Nothing was recorded for the abandoned sends: at the next start each goes out once, as its
    // first attempt, with its stable Message-ID.
    Sink smtp(kSmtpSink);
    notifier.start({{"GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp.port())}});
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == kRequests; },
                       kDeliveryTimeout));
    std::set<std::string> expected;
    for (const auto& sent : notifications(notifier, nv1::NOTIFICATION_STATUS_SENT)) {
        CHECK(sent.attempts() == 1);
        expected.insert("<" + sent.notification_id() + "@gatehouse.localhost>");
    }
    const auto emails = smtp.received();
    CHECK(emails.size() == kRequests);
    std::set<std::string> received;
    for (const auto& email : emails) {
        received.insert(email["message_id"].get<std::string>());
    }
    CHECK(received == expected);
}

TEST_CASE("a permanent refusal dead-letters the message and an operator re-drives it", "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink, {"--reject", "^<?bounce@"});
    const int port = smtp.port();
    NotifierProcess notifier(kafka, smtp_settings(port));
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000009",
                     submitted(notifier, "PR-000009", "bounce@smith.example", "token-nine"));
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_DEAD_LETTERED).size() == 1; },
                       kDeliveryTimeout));
    const auto dead = notifications(notifier, nv1::NOTIFICATION_STATUS_DEAD_LETTERED)[0];
    CHECK(dead.attempts() == 1);  // a 5xx is final: no retries
    CHECK_THAT(dead.last_error(), Catch::Contains("550"));
    CHECK(smtp.received().empty());

    nv1::GetNotificationRequest get;
    get.set_notification_id(dead.notification_id());
    nv1::GetNotificationResponse details;
    REQUIRE(notifier.api().GetNotification(as_operator().get(), get, &details).ok());
    REQUIRE(details.attempts_size() == 1);
    CHECK_THAT(details.attempts(0).error(), Catch::Contains("550"));

    // Re-driving needs the operator role and a reason.
    nv1::RedriveNotificationRequest redrive;
    redrive.set_notification_id(dead.notification_id());
    nv1::RedriveNotificationResponse redriven;
    auto anonymous = std::make_unique<grpc::ClientContext>();
    CHECK(notifier.api().RedriveNotification(anonymous.get(), redrive, &redriven).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(notifier.api().RedriveNotification(as_operator().get(), redrive, &redriven).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);

    // The mailbox is fixed (the server accepts it now); the operator re-drives.
    smtp.stop();
    smtp.start({"--port", std::to_string(port)});
    redrive.set_reason("mailbox restored by the customer's IT");
    REQUIRE(notifier.api().RedriveNotification(as_operator().get(), redrive, &redriven).ok());
    REQUIRE(wait_until([&] { return smtp.received().size() == 1; }, kDeliveryTimeout));
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == 1; }, 10s));
    CHECK(smtp.received()[0]["to"] == "bounce@smith.example");
}

TEST_CASE("killed with SIGKILL and restarted, then its input re-read from offset 0: no message twice", "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    NotifierProcess notifier(kafka, smtp_settings(smtp.port()));
    constexpr int kRequests = 40;
    for (int i = 1; i <= kRequests; ++i) {
        const std::string number = "PR-" + std::to_string(100000 + i);
        notifier.produce("gatehouse.onboarding.events.v1", "prospect", number,
                         submitted(notifier, number, "user" + std::to_string(i) + "@example.com", "t" + number));
    }
    // Kill it while it is sending.
    REQUIRE(wait_until([&] { return smtp.received().size() >= 5; }, kDeliveryTimeout));
    notifier.stop(SIGKILL);
    notifier.start();
    REQUIRE(wait_until([&] { return notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == kRequests; },
                       kDeliveryTimeout));

    // Every message arrived; a duplicate is possible only for a message that was in the one
    // documented window (accepted by the server, killed before the record): at most one per
    // sender, delivery.parallelism (4) in all.
    auto count_by_message_id = [&] {
        std::map<std::string, int> counts;
        for (const auto& email : smtp.received()) {
            ++counts[email["message_id"].get<std::string>()];
        }
        return counts;
    };
    auto counts = count_by_message_id();
    CHECK(counts.size() == kRequests);
    int duplicates = 0;
    for (const auto& [id, count] : counts) {
        duplicates += count - 1;
    }
    CHECK(duplicates <= 4);
    const std::size_t received_before_replay = smtp.received().size();

    // Stopped, restarted with a new consumer group: every input event is read again from offset 0.
    notifier.stop();
    notifier.start({{"GATEHOUSE_KAFKA_CONSUMER_GROUP_PREFIX", "replay-1."}});
    // The new group has read all 40 again once the inbox counts them as already processed.
    REQUIRE(wait_until([&] { return notifier.metric("gatehouse_inbox_duplicates") >= kRequests; }, kDeliveryTimeout));
    CHECK(notifier.metric("gatehouse_inbox_applied") == 0);
    CHECK(smtp.received().size() == received_before_replay);
    CHECK(notifications(notifier, nv1::NOTIFICATION_STATUS_SENT).size() == kRequests);
    CHECK(notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED).empty());
}

TEST_CASE("partner emails (welcome, invitation, removal, new admin) and the sales channel's posts", "[kafka]") {
    namespace cu = gatehouse::customers::v1;
    namespace sa = gatehouse::sales::v1;
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);
    Sink webhook(kWebhookSink);
    auto settings = smtp_settings(smtp.port());
    settings["GATEHOUSE_CHAT_WEBHOOKS"] = "sales=http://127.0.0.1:" + std::to_string(webhook.port()) + "/sales";
    NotifierProcess notifier(kafka, settings);

    cu::InvitationIssued welcome;
    welcome.set_user_id("U-000001");
    welcome.set_email("ada@smith.example");
    welcome.set_first_name("Ada");
    welcome.set_last_name("Lovelace");
    welcome.set_organization_name("Smith & Sons");
    welcome.set_request_number("PR-000001");
    welcome.set_kind(cu::INVITATION_KIND_ADMIN_ON_APPROVAL);
    welcome.set_token_sealed_for_notifier(notifier.seal("set-password-1"));
    *welcome.mutable_expires_at() = kernel::to_timestamp(std::chrono::system_clock::now() + std::chrono::hours(72));
    notifier.produce("gatehouse.customers.events.v1", "partner-user", "U-000001", welcome);
    cu::InvitationIssued invitation = welcome;
    invitation.set_user_id("U-000002");
    invitation.set_email("bob@smith.example");
    invitation.set_first_name("Bob");
    invitation.set_kind(cu::INVITATION_KIND_PARTNER_USER);
    invitation.set_token_sealed_for_notifier(notifier.seal("set-password-2"));
    notifier.produce("gatehouse.customers.events.v1", "partner-user", "U-000002", invitation);
    cu::AdministratorChanged changed;
    changed.set_organization_name("Smith & Sons");
    changed.mutable_old_admin()->set_email("ada@smith.example");
    changed.mutable_old_admin()->set_first_name("Ada");
    changed.mutable_new_admin()->set_email("bob@smith.example");
    changed.mutable_new_admin()->set_first_name("Bob");
    notifier.produce("gatehouse.customers.events.v1", "customer", "C-000001", changed);
    cu::PartnerUserRemoved removed;
    removed.set_email("carl@smith.example");
    removed.set_first_name("Carl");
    removed.set_organization_name("Smith & Sons");
    removed.set_removed_by("bob@smith.example");
    notifier.produce("gatehouse.customers.events.v1", "partner-user", "U-000003", removed);
    sa::OpportunityWon won;
    won.set_opportunity_id("OPP-000001");
    won.set_company_name("Smith & Sons");
    won.set_prospect_request_number("PR-000001");
    won.set_won_by("sam");
    notifier.produce("gatehouse.sales.events.v1", "opportunity", "OPP-000001", won);

    REQUIRE(wait_until([&] { return smtp.received().size() >= 5 && !webhook.received().empty(); }, kDeliveryTimeout));
    const auto emails = smtp.received();
    CHECK(emails.size() == 5);
    const auto* approved = email_to(emails, "ada@smith.example", "your partner account is ready");
    REQUIRE(approved != nullptr);
    CHECK_THAT(
        (*approved)["text"].get<std::string>(),
        Catch::Contains("https://shop.example/set-password?token=set-password-1") && Catch::Contains("PR-000001"));
    const auto* invited = email_to(emails, "bob@smith.example", "You have been invited to Smith & Sons");
    REQUIRE(invited != nullptr);
    CHECK_THAT((*invited)["text"].get<std::string>(), Catch::Contains("set-password?token=set-password-2"));
    CHECK(email_to(emails, "bob@smith.example", "You are now the administrator") != nullptr);
    CHECK(email_to(emails, "ada@smith.example", "has a new administrator") != nullptr);
    const auto* gone = email_to(emails, "carl@smith.example", "was removed");
    REQUIRE(gone != nullptr);
    CHECK_THAT((*gone)["text"].get<std::string>(), Catch::Contains("by bob@smith.example"));
    const auto posts = webhook.received();
    REQUIRE(posts.size() == 1);
    CHECK(posts[0]["path"] == "/sales");
    CHECK_THAT(posts[0]["body"]["text"].get<std::string>(), Catch::Contains("OPP-000001") && Catch::Contains("won"));
}

TEST_CASE("smtp.tls defaults to starttls: a server that offers no STARTTLS never gets the message in plaintext",
          "[kafka]") {
    KafkaTestCluster kafka;
    Sink smtp(kSmtpSink);  // plain SMTP only, like a relay an attacker put in the path
    auto settings = smtp_settings(smtp.port());
    settings.erase("GATEHOUSE_SMTP_TLS");  // the default
    NotifierProcess notifier(kafka, settings);
    notifier.produce("gatehouse.onboarding.events.v1", "prospect", "PR-000001",
                     submitted(notifier, "PR-000001", "ada@smith.example", "token-one"));
    REQUIRE(wait_until(
        [&] {
            const auto queued = notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED);
            return !queued.empty() && queued[0].attempts() >= 1;
        },
        kDeliveryTimeout));
    const auto waiting = notifications(notifier, nv1::NOTIFICATION_STATUS_QUEUED);
    CHECK_THAT(waiting[0].last_error(), Catch::Contains("SSL") || Catch::Contains("TLS"));
    CHECK(smtp.received().empty());
}
