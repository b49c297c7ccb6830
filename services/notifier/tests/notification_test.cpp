// The Notification decider, given / when / then.
#include <catch2/catch.hpp>

#include "domain/notification.h"
#include "gatehouse/kernel/time.h"

using namespace gatehouse;
using namespace gatehouse::notifier;
using namespace std::chrono_literals;

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
    auto state = Notification::initial();
    for (const auto& event : events) {
        state = Notification::evolve(std::move(state), event);
    }
    return state;
}

std::vector<v1::NotificationEvent> then_events(const kernel::Decision<v1::NotificationEvent>& decision) {
    REQUIRE(std::holds_alternative<std::vector<v1::NotificationEvent>>(decision));
    return std::get<std::vector<v1::NotificationEvent>>(decision);
}

kernel::Rejection then_rejected(const kernel::Decision<v1::NotificationEvent>& decision) {
    REQUIRE(std::holds_alternative<kernel::Rejection>(decision));
    return std::get<kernel::Rejection>(decision);
}

RecordFailure failure(bool permanent, unsigned max_attempts, Clock::time_point now) {
    return RecordFailure{"connection refused", permanent, max_attempts, now, now + 2s};
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
