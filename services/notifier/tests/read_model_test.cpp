// The notifier's read model, and the dispatcher and the operator API that query it: in one
// process, on a real event store, with a recording email transport and the API served on a
// loopback gRPC port.
#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/notifier_api.h"
#include "app/dispatcher.h"
#include "domain/notification_index.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/service_process.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
using namespace std::chrono_literals;
using gatehouse::testing::TempDir;

namespace {

constexpr const char* kTemplates = GATEHOUSE_NOTIFIER_TEMPLATES_DIR;  // a constant that cannot throw (cert-err58)
constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";
constexpr const char* kHqToken = "hq-token-0123456789abcdef";

v1::NotificationQueued queued_record(const std::string& cause, Clock::time_point queued_at) {
    v1::NotificationQueued queued;
    const std::string recipient = "user-" + cause + "@example.com";
    queued.set_notification_id(notification_id(cause, "request_received", recipient));
    queued.set_cause_event_id(cause);
    queued.set_cause_event_type("gatehouse.onboarding.v1.RequestSubmitted");
    queued.set_cause_topic("gatehouse.onboarding.events.v1");
    queued.set_template_name("request_received");
    queued.set_channel(v1::CHANNEL_EMAIL);
    queued.set_recipient(recipient);
    queued.set_locale("en");
    (*queued.mutable_variables())["request_number"] = "PR-" + cause;
    *queued.mutable_queued_at() = kernel::to_timestamp(queued_at);
    return queued;
}

template <class Result>
void require_accepted(const Result& result) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
}

// An event store with the notification runtime and its read model (a small cache: most reads
// load from the log).
struct Store {
    TempDir dir;
    std::unique_ptr<kernel::EventStore> store = kernel::EventStore::open(dir.path());
    NotificationRuntime notifications{*store, {.producer = "notifier", .cache_capacity = 2}, notification_read_model()};

    std::string queue(const std::string& cause, Clock::time_point queued_at) {
        const auto record = queued_record(cause, queued_at);
        require_accepted(notifications.execute(record.notification_id(), Queue{record}));
        return record.notification_id();
    }
    void send(const std::string& id, Clock::time_point at) {
        require_accepted(notifications.execute(id, RecordSent{"<" + id + "@x>", "test", at}));
    }
    void dead_letter(const std::string& id, Clock::time_point at) {
        require_accepted(notifications.execute(id, RecordFailure{"550 no such mailbox", true, 8, at, at}));
    }
    std::vector<std::string> index(std::string_view name, const kernel::IndexKey& prefix = {}) const {
        std::vector<std::string> ids;
        for (const auto& hit : notifications.lookup(name, prefix)) {
            ids.push_back(hit.aggregate_id);
        }
        return ids;
    }
};

class RecordingTransport final : public EmailTransport {
  public:
    std::function<SendOutcome(const OutgoingEmail&, const Interrupted&)> answer =
        [](const OutgoingEmail&, const Interrupted&) { return SendOutcome::delivered(); };
    std::vector<std::string> sent_to;  // guarded by mutex (sends may run in parallel)
    std::mutex mutex;

    SendOutcome send(const OutgoingEmail& email, const Interrupted& interrupted) override {
        {
            const std::lock_guard lock(mutex);
            sent_to.push_back(email.to);
        }
        return answer(email, interrupted);
    }
    [[nodiscard]] std::string name() const override { return "recording"; }
    std::vector<std::string> recipients() {
        const std::lock_guard lock(mutex);
        return sent_to;
    }
};

// Counts the sends in flight: each waits (bounded) until `wanted` are in flight at once, then all
// deliver. The most ever in flight together is `most`.
class ConcurrencyProbe final {
  public:
    explicit ConcurrencyProbe(std::size_t wanted) : wanted_(wanted) {}

    SendOutcome send() {
        std::unique_lock lock(mutex_);
        ++in_flight_;
        most_ = std::max(most_, in_flight_);
        changed_.notify_all();
        changed_.wait_for(lock, 10s, [&] { return most_ >= wanted_; });
        --in_flight_;
        return SendOutcome::delivered();
    }
    [[nodiscard]] std::size_t most() const {
        const std::lock_guard lock(mutex_);
        return most_;
    }

  private:
    std::size_t wanted_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t in_flight_ = 0;
    std::size_t most_ = 0;
};

// The dispatcher's dependencies for one test.
struct DispatchFixture {
    const TemplateSet templates{kTemplates, "en"};
    RecordingTransport email;
    const testing::NotifierKeys keys;
    const kernel::TokenOpener tokens{keys.public_text(), keys.secret_text(), "public", "secret"};
};

std::string recipient_of(const std::string& cause) { return "user-" + cause + "@example.com"; }

// The API on a loopback port, and a client of it.
class ApiServer final {
  public:
    explicit ApiServer(NotificationRuntime& notifications)
        : authenticator_({{kOperatorToken, "operator:olga:olga@ops.example"}, {kHqToken, "hq:hanna:hanna@hq.example"}},
                         "auth.tokens"),
          app_(notifications),
          api_(app_, authenticator_) {
        grpc::ServerBuilder builder;
        int port = 0;
        builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
        builder.RegisterService(&api_);
        server_ = builder.BuildAndStart();
        REQUIRE(server_ != nullptr);
        stub_ = v1::NotifierService::NewStub(
            grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    }
    ~ApiServer() { server_->Shutdown(); }
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    v1::NotifierService::Stub& stub() { return *stub_; }

    grpc::Status list(v1::NotificationStatus status, int page_size, const std::string& token,
                      v1::ListNotificationsResponse& response, const char* as = kOperatorToken) {
        v1::ListNotificationsRequest request;
        request.set_status(status);
        request.set_page_size(page_size);
        request.set_page_token(token);
        return stub_->ListNotifications(testing::call_as(as).get(), request, &response);
    }

    // Every page of a list: the ids in order, checking each page's total.
    std::vector<std::string> list_all(v1::NotificationStatus status, int page_size, int total, int& pages) {
        std::vector<std::string> ids;
        std::string token;
        pages = 0;
        do {
            v1::ListNotificationsResponse response;
            const auto result = list(status, page_size, token, response);
            REQUIRE(result.ok());
            CHECK(response.total() == total);
            CHECK(response.notifications_size() <= page_size);
            for (const auto& summary : response.notifications()) {
                ids.push_back(summary.notification_id());
                if (status != v1::NOTIFICATION_STATUS_UNSPECIFIED) {
                    CHECK(summary.status() == status);
                }
            }
            token = response.next_page_token();
            ++pages;
            REQUIRE(pages < 100);
        } while (!token.empty());
        return ids;
    }

  private:
    kernel::BearerAuthenticator authenticator_;
    NotificationsApp app_;
    NotifierApi api_;
    std::unique_ptr<grpc::Server> server_;
    std::unique_ptr<v1::NotifierService::Stub> stub_;
};

}  // namespace

TEST_CASE("the read model lists newest first (ties by id, descending), by status, and counts each status",
          "[read_model]") {
    Store store;
    const auto t0 = Clock::now() - 1h;
    std::vector<std::pair<std::int64_t, std::string>> expected;  // (queued_at, id)
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) {
        const auto at = t0 + std::chrono::seconds(i / 2);  // two at each time: the id decides
        ids.push_back(store.queue("evt-" + std::to_string(i), at));
        expected.emplace_back(kernel::to_timestamp(at).seconds(), ids.back());
    }
    std::sort(expected.rbegin(), expected.rend());
    std::vector<std::string> newest;
    for (const auto& [at, id] : expected) {
        newest.push_back(id);
    }
    CHECK(store.index(notification_index::kNewest) == newest);
    CHECK(store.index(notification_index::kByStatus, notification_index::status_prefix(NotificationStatus::queued)) ==
          newest);
    CHECK(store.notifications.count("status:queued") == 6);

    store.send(ids[0], t0 + 10s);
    store.dead_letter(ids[3], t0 + 10s);
    CHECK(store.notifications.count("status:queued") == 4);
    CHECK(store.notifications.count("status:sent") == 1);
    CHECK(store.notifications.count("status:dead-lettered") == 1);
    CHECK(store.index(notification_index::kNewest) == newest);  // the position does not move
    CHECK(store.index(notification_index::kByStatus, notification_index::status_prefix(NotificationStatus::sent)) ==
          std::vector<std::string>{ids[0]});
    CHECK(store.index(notification_index::kByStatus,
                      notification_index::status_prefix(NotificationStatus::dead_lettered)) ==
          std::vector<std::string>{ids[3]});
    // Only queued notifications are due, oldest first (then by id).
    CHECK(store.index(notification_index::kDue) ==
          std::vector<std::string>{ids[1], ids[2], std::min(ids[4], ids[5]), std::max(ids[4], ids[5])});
    CHECK(store.notifications.differences_from_log().empty());

    // A list position is what follows the status in a "status" entry, and all of a "newest" one.
    for (const auto& hit : store.notifications.lookup(notification_index::kNewest, {})) {
        CHECK(notification_index::is_list_position(hit.cursor));
        CHECK_FALSE(notification_index::is_list_position(hit.cursor + "x"));
        CHECK_FALSE(notification_index::is_list_position(hit.cursor.substr(0, hit.cursor.size() - 1)));
    }
    const auto sent_prefix = notification_index::status_prefix(NotificationStatus::sent);
    const auto sent = store.notifications.lookup(notification_index::kByStatus, sent_prefix);
    REQUIRE(sent.size() == 1);
    CHECK(notification_index::is_list_position(sent[0].cursor.substr(sent_prefix.bytes().size())));
    CHECK_FALSE(notification_index::is_list_position(""));
    CHECK_FALSE(notification_index::is_list_position("12345678"));
}

TEST_CASE("the dispatcher attempts what is due, oldest first, a batch at a time, without walking the queue",
          "[read_model]") {
    Store store;
    const auto t0 = Clock::now() - 1h;
    std::vector<std::string> causes;
    for (int i = 0; i < 5; ++i) {
        causes.push_back("evt-" + std::to_string(i));
        store.queue(causes.back(), t0 + std::chrono::minutes(4 - i));  // evt-4 is the oldest
    }
    const TemplateSet templates(kTemplates, "en");
    RecordingTransport email;
    const testing::NotifierKeys keys;
    const kernel::TokenOpener tokens(keys.public_text(), keys.secret_text(), "public", "secret");
    kernel::MetricsRegistry metrics;
    auto& depth = metrics.gauge("queue_depth", "queue depth");
    DispatchSettings settings;
    settings.backoff_initial = 1h;
    settings.backoff_max = 2h;
    settings.batch_size = 2;
    settings.parallelism = 1;  // one at a time: the order of sends is the order of the index
    Dispatcher dispatcher(store.notifications, templates, email, tokens, settings,
                          DispatchMetrics{.queue_depth = &depth});

    // Due by t0 + 1m30s: evt-4 and evt-3, oldest first.
    CHECK(dispatcher.dispatch_due(t0 + 90s) == 2);
    CHECK(email.sent_to == std::vector<std::string>{recipient_of("evt-4"), recipient_of("evt-3")});
    CHECK(depth.value() == 5);  // measured before the batch
    CHECK(dispatcher.dispatch_due(t0 + 90s) == 0);
    CHECK(depth.value() == 3);

    // evt-1 fails (transiently): it is due again only after its backoff; the rest are sent, a
    // batch of two at a time.
    email.answer = [](const OutgoingEmail& outgoing, const Interrupted&) {
        return outgoing.to == recipient_of("evt-1") ? SendOutcome::transient("421 try later")
                                                    : SendOutcome::delivered();
    };
    dispatcher.dispatch_all_due();
    CHECK(email.sent_to.size() == 5);
    CHECK(email.sent_to[2] == recipient_of("evt-2"));
    CHECK(store.notifications.count("status:queued") == 1);
    CHECK(store.notifications.count("status:sent") == 4);
    const auto waiting = store.notifications.find(notification_id("evt-1", "request_received", recipient_of("evt-1")));
    REQUIRE(waiting);
    CHECK(waiting->state.status == NotificationStatus::queued);
    CHECK(waiting->state.attempts == 1);
    CHECK(waiting->state.next_attempt_at > Clock::now() + 20min);
    CHECK(dispatcher.dispatch_due(Clock::now()) == 0);
    CHECK(dispatcher.dispatch_due(waiting->state.next_attempt_at) == 1);
    CHECK(store.notifications.count("status:queued") == 1);
    CHECK(store.notifications.differences_from_log().empty());
}

TEST_CASE("ListNotifications pages newest first with tokens and totals, and RedriveAllDeadLettered re-drives them all",
          "[read_model]") {
    Store store;
    const auto t0 = Clock::now() - 1h;
    std::vector<std::pair<std::int64_t, std::string>> order;
    std::vector<std::string> ids;
    for (int i = 0; i < 11; ++i) {
        const auto at = t0 + std::chrono::seconds(i % 4);  // ties: the id decides, descending
        ids.push_back(store.queue("evt-" + std::to_string(i), at));
        order.emplace_back(kernel::to_timestamp(at).seconds(), ids.back());
    }
    std::sort(order.rbegin(), order.rend());
    std::vector<std::string> newest;
    for (const auto& [at, id] : order) {
        newest.push_back(id);
    }
    for (int i = 0; i < 3; ++i) {
        store.send(ids[i], t0 + 1min);
    }
    std::vector<std::string> dead_newest;
    for (int i = 3; i < 7; ++i) {
        store.dead_letter(ids[i], t0 + 1min);
    }
    for (const auto& id : newest) {
        if (std::find(ids.begin() + 3, ids.begin() + 7, id) != ids.begin() + 7) {
            dead_newest.push_back(id);
        }
    }
    ApiServer api(store.notifications);

    int pages = 0;
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_UNSPECIFIED, 3, 11, pages) == newest);
    CHECK(pages == 4);
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_UNSPECIFIED, 11, 11, pages) == newest);
    CHECK(pages == 1);  // a last page that is full has no token
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_DEAD_LETTERED, 3, 4, pages) == dead_newest);
    CHECK(pages == 2);
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_SENT, 50, 3, pages).size() == 3);
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_QUEUED, 50, 4, pages).size() == 4);

    v1::ListNotificationsResponse first;
    REQUIRE(api.list(v1::NOTIFICATION_STATUS_DEAD_LETTERED, 1, "", first).ok());
    REQUIRE(first.notifications_size() == 1);
    const auto& summary = first.notifications(0);
    CHECK(summary.status() == v1::NOTIFICATION_STATUS_DEAD_LETTERED);
    CHECK(summary.attempts() == 1);
    CHECK(summary.last_error() == "550 no such mailbox");
    CHECK(summary.template_name() == "request_received");
    CHECK_FALSE(summary.has_next_attempt_at());
    // A token is a position in the order: it continues the list of any status after it.
    v1::ListNotificationsResponse rest;
    REQUIRE(api.list(v1::NOTIFICATION_STATUS_UNSPECIFIED, 500, first.next_page_token(), rest).ok());
    const auto after = std::find(newest.begin(), newest.end(), dead_newest[0]) + 1;
    REQUIRE(rest.notifications_size() == newest.end() - after);
    CHECK(rest.notifications(0).notification_id() == *after);
    CHECK(rest.total() == 11);
    CHECK(rest.next_page_token().empty());

    // Tokens that are not ours, and page sizes out of range, are refused.
    const std::string valid = first.next_page_token();
    for (const std::string& token :
         {std::string("zz"), std::string("abc"), std::string("1700000000:N-abc"), std::string("00"), valid + "00",
          valid.substr(0, valid.size() - 2), std::string("-") + valid.substr(1)}) {
        v1::ListNotificationsResponse refused;
        CHECK(api.list(v1::NOTIFICATION_STATUS_UNSPECIFIED, 10, token, refused).error_code() ==
              grpc::StatusCode::INVALID_ARGUMENT);
    }
    v1::ListNotificationsResponse ignored;
    CHECK(api.list(v1::NOTIFICATION_STATUS_UNSPECIFIED, 501, "", ignored).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(api.list(v1::NOTIFICATION_STATUS_UNSPECIFIED, -1, "", ignored).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    // A status this version does not know has no notifications.
    v1::ListNotificationsResponse unknown;
    REQUIRE(api.list(static_cast<v1::NotificationStatus>(42), 10, "", unknown).ok());
    CHECK(unknown.notifications().empty());
    CHECK(unknown.total() == 0);
    // hq may list, not re-drive.
    v1::ListNotificationsResponse as_hq;
    CHECK(api.list(v1::NOTIFICATION_STATUS_UNSPECIFIED, 10, "", as_hq, kHqToken).ok());
    CHECK(as_hq.total() == 11);

    v1::RedriveAllDeadLetteredRequest redrive_all;
    v1::RedriveAllDeadLetteredResponse redriven;
    CHECK(api.stub().RedriveAllDeadLettered(testing::call_as(kHqToken).get(), redrive_all, &redriven).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    CHECK(api.stub()
              .RedriveAllDeadLettered(testing::call_as(kOperatorToken).get(), redrive_all, &redriven)
              .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    redrive_all.set_reason("mail server fixed");
    REQUIRE(api.stub().RedriveAllDeadLettered(testing::call_as(kOperatorToken).get(), redrive_all, &redriven).ok());
    CHECK(redriven.redriven() == 4);
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_DEAD_LETTERED, 10, 0, pages).empty());
    CHECK(api.list_all(v1::NOTIFICATION_STATUS_QUEUED, 10, 8, pages).size() == 8);
    REQUIRE(api.stub().RedriveAllDeadLettered(testing::call_as(kOperatorToken).get(), redrive_all, &redriven).ok());
    CHECK(redriven.redriven() == 0);
    CHECK(store.notifications.differences_from_log().empty());
}

TEST_CASE("the dispatcher sends up to `parallelism` at once, and records each outcome once", "[read_model]") {
    Store store;
    const auto t0 = Clock::now() - 1h;
    std::vector<std::string> ids;
    for (int i = 0; i < 10; ++i) {
        ids.push_back(store.queue("evt-" + std::to_string(i), t0 + std::chrono::seconds(i)));
    }
    DispatchFixture fixture;
    ConcurrencyProbe probe(4);
    fixture.email.answer = [&](const OutgoingEmail&, const Interrupted&) { return probe.send(); };
    DispatchSettings settings;
    settings.parallelism = 4;
    Dispatcher dispatcher(store.notifications, fixture.templates, fixture.email, fixture.tokens, settings);

    CHECK(dispatcher.dispatch_due(Clock::now()) == 10);
    CHECK(probe.most() == 4);  // four in flight together, never more
    auto recipients = fixture.email.recipients();
    std::sort(recipients.begin(), recipients.end());
    CHECK(std::adjacent_find(recipients.begin(), recipients.end()) == recipients.end());  // each once
    CHECK(recipients.size() == 10);
    CHECK(store.notifications.count("status:sent") == 10);
    for (const auto& id : ids) {
        const auto sent = store.notifications.find(id);
        REQUIRE(sent);
        CHECK(sent->state.status == NotificationStatus::sent);
        CHECK(sent->state.attempts == 1);
    }
    CHECK(store.notifications.differences_from_log().empty());
}

TEST_CASE("the dispatcher retries a transient failure until retry_for has passed, then dead-letters it",
          "[read_model]") {
    Store store;
    const auto now = Clock::now();
    const auto fresh = store.queue("evt-fresh", now - 1h);
    const auto stale = store.queue("evt-stale", now - 25h);  // e.g. queued while the notifier was down a day
    DispatchFixture fixture;
    fixture.email.answer = [](const OutgoingEmail&, const Interrupted&) {
        return SendOutcome::transient("421 4.3.0 try again later");
    };
    kernel::MetricsRegistry metrics;
    auto& retried = metrics.counter("retried", "retried");
    auto& dead = metrics.counter("dead", "dead");
    DispatchSettings settings;  // retry_for 24 h, no cap by count
    settings.backoff_initial = 1ms;
    settings.backoff_max = 4ms;
    Dispatcher dispatcher(store.notifications, fixture.templates, fixture.email, fixture.tokens, settings,
                          DispatchMetrics{.retried = &retried, .dead_lettered = &dead});

    CHECK(dispatcher.dispatch_due(now) == 2);
    CHECK(store.notifications.find(stale)->state.status == NotificationStatus::dead_lettered);
    CHECK(dead.value() == 1);
    // The fresh one is retried well past the old cap of 8 attempts.
    for (int i = 0; i < 11; ++i) {
        const auto state = store.notifications.find(fresh)->state;
        REQUIRE(state.status == NotificationStatus::queued);
        CHECK(dispatcher.dispatch_due(state.next_attempt_at) == 1);
    }
    const auto state = store.notifications.find(fresh)->state;
    CHECK(state.status == NotificationStatus::queued);
    CHECK(state.attempts == 12);
    CHECK(state.next_attempt_at <= Clock::now() + 4ms);
    CHECK(retried.value() == 12);
    CHECK(dead.value() == 1);
    CHECK(store.notifications.differences_from_log().empty());
}

TEST_CASE("a stop abandons the sends in flight, starts no new one and records nothing", "[read_model]") {
    Store store;
    const auto t0 = Clock::now() - 1h;
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(store.queue("evt-" + std::to_string(i), t0 + std::chrono::seconds(i)));
    }
    DispatchFixture fixture;
    // A server that never answers: each send waits (bounded) until it is interrupted.
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t waiting = 0;
    fixture.email.answer = [&](const OutgoingEmail&, const Interrupted& interrupted) {
        {
            const std::lock_guard lock(mutex);
            ++waiting;
        }
        changed.notify_all();
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!interrupted() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);  // polls, as the curl transports do
        }
        return interrupted() ? SendOutcome::interrupted() : SendOutcome::transient("timed out");
    };
    DispatchSettings settings;
    settings.parallelism = 2;
    Dispatcher dispatcher(store.notifications, fixture.templates, fixture.email, fixture.tokens, settings);

    auto batch = std::async(std::launch::async, [&] { dispatcher.dispatch_all_due(); });
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, 10s, [&] { return waiting == 2; }));
    }
    const auto stopped_at = std::chrono::steady_clock::now();
    dispatcher.request_stop();
    REQUIRE(batch.wait_for(5s) == std::future_status::ready);
    batch.get();
    CHECK(std::chrono::steady_clock::now() - stopped_at < 1s);
    CHECK(fixture.email.recipients().size() == 2);  // no third send started
    for (const auto& id : ids) {
        const auto state = store.notifications.find(id);
        REQUIRE(state);
        CHECK(state->state.status == NotificationStatus::queued);
        CHECK(state->state.attempts == 0);  // nothing recorded
        CHECK(state->state.total_attempts == 0);
    }
    CHECK(store.notifications.count("status:queued") == 5);

    // At the next start all five go out (the abandoned ones first, as the oldest).
    RecordingTransport next_start;
    Dispatcher restarted(store.notifications, fixture.templates, next_start, fixture.tokens, settings);
    restarted.dispatch_all_due();
    CHECK(next_start.recipients().size() == 5);
    CHECK(store.notifications.count("status:sent") == 5);
    CHECK(store.notifications.differences_from_log().empty());
}
