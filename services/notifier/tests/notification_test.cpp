// The Notification decider, given / when / then.
#include <catch2/catch.hpp>

#include "domain/notification.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/testing/given_when_then.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
using namespace std::chrono_literals;

using namespace gatehouse::testing;

namespace {

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);

v1::NotificationQueued queued_record() {
    v1::NotificationQueued queued;
    queued.set_notification_id(notification_id("evt-1", "request_received", "ada@example.com"));
    queued.set_cause_event_id("evt-1");
    queued.set_template_name("request_received");
    queued.set_channel(v1::CHANNEL_EMAIL);
    queued.set_recipient("ada@example.com");
    *queued.mutable_queued_at() = kernel::to_timestamp(kT0);
    return queued;
}

NotificationState given(const std::vector<v1::NotificationEvent>& events) {
    return testing::given<Notification>(events);
}

RecordFailure failure(bool permanent, unsigned max_attempts, Clock::time_point now) {
    return RecordFailure{"connection refused", permanent, max_attempts, now, now + 2s};
}

// A transient failure at `now` under the default settings: no cap by count, retried for 24 h.
RecordFailure transient_at(Clock::time_point now, Clock::time_point next_attempt_at) {
    return RecordFailure{.error = "421 try later", .now = now, .next_attempt_at = next_attempt_at};
}

// The history after the events of `decision`.
void append(std::vector<v1::NotificationEvent>& history, const kernel::Decision<v1::NotificationEvent>& decision) {
    const auto events = then_events(decision);
    history.insert(history.end(), events.begin(), events.end());
}

}  // namespace

TEST_CASE("notification ids are stable per cause, template and recipient, and differ otherwise", "[notification]") {
    const auto id = notification_id("evt-1", "request_received", "ada@example.com");
    CHECK(id == notification_id("evt-1", "request_received", "ADA@example.com"));
    CHECK(id != notification_id("evt-2", "request_received", "ada@example.com"));
    CHECK(id != notification_id("evt-1", "verification_link", "ada@example.com"));
    CHECK(id != notification_id("evt-1", "request_received", "bob@example.com"));
    CHECK(id.rfind("N-", 0) == 0);
    CHECK(id.size() == 26);
}

TEST_CASE("queue: once, and queueing the same notification again changes nothing", "[notification]") {
    const auto events = then_events(Notification::decide(Queue{queued_record()}, given({})));
    REQUIRE(events.size() == 1);
    const auto state = given(events);
    CHECK(state.status == NotificationStatus::queued);
    CHECK(state.next_attempt_at == kT0);
    CHECK(then_events(Notification::decide(Queue{queued_record()}, state)).empty());
    auto incomplete = queued_record();
    incomplete.clear_recipient();
    CHECK(then_rejected(Notification::decide(Queue{incomplete}, given({}))).code ==
          kernel::RejectionCode::invalid_argument);
}

TEST_CASE("sent: recorded once with the stable Message-ID", "[notification]") {
    const auto queued = then_events(Notification::decide(Queue{queued_record()}, given({})));
    const auto sent = then_events(Notification::decide(RecordSent{"<N-1@x>", "smtp", kT0 + 1s}, given(queued)));
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].sent().attempt() == 1);
    CHECK(sent[0].sent().message_id() == "<N-1@x>");
    auto all = queued;
    all.push_back(sent[0]);
    CHECK(given(all).status == NotificationStatus::sent);
    CHECK(then_events(Notification::decide(RecordSent{"<N-1@x>", "smtp", kT0 + 2s}, given(all))).empty());
    CHECK(then_rejected(Notification::decide(RecordSent{"<N-1@x>", "smtp", kT0}, given({}))).code ==
          kernel::RejectionCode::failed_precondition);
}

TEST_CASE("a failed attempt schedules the next, and the last one, or a permanent refusal, dead-letters",
          "[notification]") {
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    const auto first = then_events(Notification::decide(failure(false, 3, kT0 + 1s), given(history)));
    REQUIRE(first.size() == 1);
    CHECK(first[0].attempt_failed().attempt() == 1);
    history.push_back(first[0]);
    CHECK(given(history).status == NotificationStatus::queued);
    CHECK(given(history).next_attempt_at == kT0 + 3s);
    CHECK(given(history).last_error == "connection refused");
    history.push_back(then_events(Notification::decide(failure(false, 3, kT0 + 4s), given(history)))[0]);
    const auto last = then_events(Notification::decide(failure(false, 3, kT0 + 8s), given(history)));
    REQUIRE(last.size() == 2);
    CHECK(last[1].dead_lettered().attempts() == 3);
    CHECK_FALSE(last[1].dead_lettered().permanent());
    history.insert(history.end(), last.begin(), last.end());
    CHECK(given(history).status == NotificationStatus::dead_lettered);

    auto bounced = then_events(Notification::decide(Queue{queued_record()}, given({})));
    const auto refused = then_events(Notification::decide(failure(true, 8, kT0 + 1s), given(bounced)));
    REQUIRE(refused.size() == 2);
    CHECK(refused[1].dead_lettered().permanent());
}

TEST_CASE("redrive: only a dead letter, with a reason, and attempts start again", "[notification]") {
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    CHECK(then_rejected(Notification::decide(Redrive{"ops", "fixed", kT0}, given(history))).code ==
          kernel::RejectionCode::failed_precondition);
    const auto dead = then_events(Notification::decide(failure(true, 8, kT0 + 1s), given(history)));
    history.insert(history.end(), dead.begin(), dead.end());
    CHECK(then_rejected(Notification::decide(Redrive{"ops", "", kT0 + 2s}, given(history))).code ==
          kernel::RejectionCode::invalid_argument);
    const auto redriven = then_events(Notification::decide(Redrive{"ops", "mailbox fixed", kT0 + 2s}, given(history)));
    REQUIRE(redriven.size() == 1);
    history.push_back(redriven[0]);
    const auto state = given(history);
    CHECK(state.status == NotificationStatus::queued);
    CHECK(state.attempts == 0);
    CHECK(state.total_attempts == 1);
    CHECK(state.next_attempt_at == kT0 + 2s);
    CHECK(then_rejected(Notification::decide(Redrive{"ops", "x", kT0}, given({}))).code ==
          kernel::RejectionCode::not_found);
}

TEST_CASE("retry by time: a transient failure is retried, however many attempts, until retry_for has passed",
          "[notification]") {
    // Given a notification queued at t0 that has failed 50 times in its first 23 hours.
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    for (int i = 0; i < 50; ++i) {
        const auto at = kT0 + std::chrono::minutes(i * 27);
        append(history, Notification::decide(transient_at(at, at + 5min), given(history)));
    }
    auto state = given(history);
    CHECK(state.status == NotificationStatus::queued);
    CHECK(state.attempts == 50);
    CHECK(state.retrying_since == kT0);
    CHECK(state.failures.size() == NotificationState::kKeptFailures);  // the most recent ones
    CHECK(state.failures.back().attempt() == 50);

    // When attempt 51 fails at t0 + 23h58m with a retry due after the 24 hours,
    // then the retry is scheduled at the deadline, not after it.
    const auto late = then_events(Notification::decide(transient_at(kT0 + 23h + 58min, kT0 + 24h + 3min), state));
    REQUIRE(late.size() == 1);
    CHECK(late[0].attempt_failed().attempt() == 51);
    CHECK(kernel::to_time_point(late[0].attempt_failed().next_attempt_at()) == kT0 + 24h);
    history.push_back(late[0]);
    state = given(history);
    CHECK(state.next_attempt_at == kT0 + 24h);

    // When the attempt at the deadline fails too, then it is dead-lettered (not permanent).
    const auto last = then_events(Notification::decide(transient_at(kT0 + 24h, kT0 + 24h + 5min), state));
    REQUIRE(last.size() == 2);
    CHECK_FALSE(last[0].attempt_failed().has_next_attempt_at());
    CHECK(last[1].dead_lettered().attempts() == 52);
    CHECK_FALSE(last[1].dead_lettered().permanent());
    CHECK(last[1].dead_lettered().last_error() == "421 try later");
    history.insert(history.end(), last.begin(), last.end());
    CHECK(given(history).status == NotificationStatus::dead_lettered);
}

TEST_CASE("retry by time: retry_for is the caller's setting, and a failure after it dead-letters at once",
          "[notification]") {
    const auto queued = given(then_events(Notification::decide(Queue{queued_record()}, given({}))));
    // A first attempt 10 minutes after queueing (e.g. the notifier was down): within 1 h, retried.
    auto within = transient_at(kT0 + 10min, kT0 + 11min);
    within.retry_for = 1h;
    CHECK(then_events(Notification::decide(within, queued)).size() == 1);
    // With retry_for = 5 min it is already too late: dead-lettered on its first failure.
    auto too_late = within;
    too_late.retry_for = 5min;
    const auto dead = then_events(Notification::decide(too_late, queued));
    REQUIRE(dead.size() == 2);
    CHECK(dead[1].dead_lettered().attempts() == 1);
    // No limit by time (retry_for 0): only max_attempts, if any, ends the retries.
    auto unlimited = transient_at(kT0 + 1000h, kT0 + 1001h);
    unlimited.retry_for = 0ms;
    CHECK(then_events(Notification::decide(unlimited, queued)).size() == 1);
}

TEST_CASE("retry by time: max_attempts is an optional extra cap, 0 is none, a permanent refusal is final",
          "[notification]") {
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    // With no cap by count (the default), attempt 9 and beyond are retried within retry_for.
    for (int i = 1; i <= 12; ++i) {
        const auto at = kT0 + std::chrono::seconds(i);
        const auto events = then_events(Notification::decide(transient_at(at, at + 1s), given(history)));
        REQUIRE(events.size() == 1);
        history.push_back(events[0]);
    }
    CHECK(given(history).attempts == 12);
    // With a cap of 13, the 13th attempt is the last, well within retry_for.
    auto capped = transient_at(kT0 + 13s, kT0 + 14s);
    capped.max_attempts = 13;
    const auto dead = then_events(Notification::decide(capped, given(history)));
    REQUIRE(dead.size() == 2);
    CHECK(dead[1].dead_lettered().attempts() == 13);
    // A permanent refusal dead-letters at once, with time and attempts left.
    auto refused = transient_at(kT0 + 13s, kT0 + 14s);
    refused.permanent = true;
    const auto bounced = then_events(Notification::decide(refused, given(history)));
    REQUIRE(bounced.size() == 2);
    CHECK(bounced[1].dead_lettered().permanent());
}

TEST_CASE("retry by time: a re-drive starts retry_for again, from when it was re-driven", "[notification]") {
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    append(history, Notification::decide(failure(true, 0, kT0 + 1s), given(history)));
    REQUIRE(given(history).status == NotificationStatus::dead_lettered);
    // Re-driven two days later: a transient failure then is retried (24 h from the re-drive).
    append(history, Notification::decide(Redrive{"ops", "relay fixed", kT0 + 48h}, given(history)));
    CHECK(given(history).retrying_since == kT0 + 48h);
    const auto retried =
        then_events(Notification::decide(transient_at(kT0 + 48h + 1s, kT0 + 48h + 2s), given(history)));
    REQUIRE(retried.size() == 1);
    CHECK(retried[0].attempt_failed().attempt() == 1);
    history.push_back(retried[0]);
    CHECK(then_events(Notification::decide(transient_at(kT0 + 72h, kT0 + 73h), given(history))).size() == 2);
}

TEST_CASE("old histories replay as before: what an event means does not depend on the settings", "[notification]") {
    // A history recorded with max_attempts = 8: seven retries, then the eighth dead-lettered.
    auto history = then_events(Notification::decide(Queue{queued_record()}, given({})));
    for (unsigned i = 1; i <= 8; ++i) {
        append(history, Notification::decide(failure(false, 8, kT0 + std::chrono::seconds(i)), given(history)));
    }
    REQUIRE(history.size() == 10);
    const auto state = given(history);
    CHECK(state.status == NotificationStatus::dead_lettered);
    CHECK(state.attempts == 8);
    CHECK(state.total_attempts == 8);
    CHECK(state.failures.size() == 8);
    CHECK(state.last_error == "connection refused");
    CHECK(state.retrying_since == kT0);
}
