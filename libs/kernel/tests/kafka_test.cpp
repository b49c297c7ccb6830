// Relay and inbox against Kafka: librdkafka's mock cluster by default, the real broker when the
// ctest fixture provides one (the same tests run under both labels).
#include <google/protobuf/util/time_util.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/kafka_settings.h"
#include "gatehouse/kernel/outbox_relay.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse::kernel;
using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

RelayOptions relay_options(const KafkaTestCluster& kafka, const std::string& topic) {
    RelayOptions options;
    options.kafka.bootstrap_servers = kafka.bootstrap();
    options.kafka.properties = kafka.sasl_properties();
    options.topic = topic;
    return options;
}

InboxOptions inbox_options(const KafkaTestCluster& kafka, const std::string& topic, const std::string& name) {
    InboxOptions options;
    options.kafka.bootstrap_servers = kafka.bootstrap();
    options.kafka.properties = kafka.sasl_properties();
    options.consumer_name = name;
    options.topics = {topic};
    options.dead_letter_topic = topic + ".dlq";
    options.retry_initial = 10ms;
    options.retry_max = 100ms;
    return options;
}

// Appends `per_counter` increments to each of `counters` counters through the decider runtime.
void fill(AggregateRuntime<Counter>& runtime, int counters, int per_counter) {
    for (int c = 0; c < counters; ++c) {
        const std::string id = "c" + std::to_string(c);
        REQUIRE(std::holds_alternative<Accepted<Counter::Event>>(runtime.execute(id, Counter::Create{id})));
    }
    for (int i = 0; i < per_counter; ++i) {
        for (int c = 0; c < counters; ++c) {
            REQUIRE(std::holds_alternative<Accepted<Counter::Event>>(
                runtime.execute("c" + std::to_string(c), Counter::Increment{1, ""})));
        }
    }
}

// The CloudEvents binary-mode attributes, read the way a consumer knowing only CloudEvents would.
void check_cloudevents_headers(const ConsumedRecord& record, const gatehouse::kernel::v1::EventEnvelope& envelope) {
    CHECK(record.headers.at("ce_specversion") == "1.0");
    CHECK(record.headers.at("ce_id") == envelope.event_id());
    CHECK(record.headers.at("ce_type") == envelope.event_type());
    CHECK(record.headers.at("ce_subject") == envelope.aggregate_id());
    CHECK(record.headers.at("ce_source") == "/gatehouse/" + envelope.producer());
    CHECK(record.headers.at("content-type") == "application/protobuf");
    CHECK(record.headers.at("ce_dataschema") == "urn:gatehouse:protobuf:gatehouse.kernel.v1.EventEnvelope");
    google::protobuf::Timestamp time;
    REQUIRE(google::protobuf::util::TimeUtil::FromString(record.headers.at("ce_time"), &time));
    CHECK(time == envelope.occurred_at());
    CHECK(record.headers.at("ce_time").back() == 'Z');  // RFC 3339 in UTC
}

void check_in_order_once(const std::vector<ConsumedRecord>& records, std::size_t expected_per_key) {
    std::map<std::string, std::uint64_t> last_version;
    std::set<std::string> ids;
    for (const auto& record : records) {
        gatehouse::kernel::v1::EventEnvelope envelope;
        REQUIRE(envelope.ParseFromString(record.value));
        CHECK(record.key == envelope.aggregate_id());
        CHECK(record.headers.at(headers::kEventType) == envelope.event_type());
        CHECK(record.headers.at(headers::kEventId) == envelope.event_id());
        check_cloudevents_headers(record, envelope);
        auto& last = last_version[envelope.aggregate_id()];
        CHECK(envelope.aggregate_version() == last + 1);
        last = envelope.aggregate_version();
        ids.insert(envelope.event_id());
    }
    CHECK(ids.size() == records.size());
    for (const auto& [key, version] : last_version) {
        CHECK(version == expected_per_key);
    }
}

}  // namespace

TEST_CASE("the relay publishes every event once in per-aggregate order", "[kafka][relay]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("relay");
    kafka.create_topic(topic, 3);
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    OutboxRelay relay(*store, relay_options(kafka, topic));
    relay.start();
    fill(counters, 10, 29);  // 10 x (1 + 29) = 300 events, appended while the relay runs
    REQUIRE(relay.wait_until_published(store->head(), 60s));
    CHECK(relay.stats().published == 300);
    const auto records = kafka.read_all(topic, 300, 30s);
    REQUIRE(records.size() == 300);
    check_in_order_once(records, 30);
}

TEST_CASE("a relay that lost its stored position does not publish anything twice", "[kafka][relay]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("relay-restart");
    kafka.create_topic(topic, 3);
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    fill(counters, 6, 19);  // 120 events
    {
        OutboxRelay relay(*store, relay_options(kafka, topic));
        relay.start();
        REQUIRE(relay.wait_until_published(store->head(), 60s));
    }
    // As if the stored position had never been written: the relay must learn it from the topic.
    store->write_metadata_lazily("relay/" + topic, std::string(8, '\0'));
    for (int c = 0; c < 6; ++c) {
        (void)counters.execute("c" + std::to_string(c), Counter::Increment{1, ""});
    }
    OutboxRelay relay(*store, relay_options(kafka, topic));
    relay.start();
    REQUIRE(relay.wait_until_published(store->head(), 60s));
    CHECK(relay.stats().already_on_topic == 120);
    CHECK(relay.stats().published == 6);
    const auto records = kafka.read_all(topic, 126, 30s);
    REQUIRE(records.size() == 126);
    check_in_order_once(records, 21);
}

TEST_CASE("the inbox applies each event once and skips redelivered ones", "[kafka][inbox]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("inbox");
    kafka.create_topic(topic, 3);
    kafka.create_topic(topic + ".dlq", 1);
    TempDir source_dir;
    auto source = EventStore::open(source_dir.path());
    AggregateRuntime<Counter> counters(*source, {"source"});
    fill(counters, 5, 9);  // 50 events
    {
        OutboxRelay relay(*source, relay_options(kafka, topic));
        relay.start();
        REQUIRE(relay.wait_until_published(source->head(), 60s));
    }
    // Redeliver the first 20 events by producing them again (what an at-least-once producer may do).
    std::vector<std::string> first_twenty;
    source->scan(LogPosition{1}, [&](const RecordedEvent& event) {
        first_twenty.push_back(event.envelope.SerializeAsString());
        return first_twenty.size() < 20;
    });
    for (const auto& value : first_twenty) {
        gatehouse::kernel::v1::EventEnvelope envelope;
        envelope.ParseFromString(value);
        kafka.produce(topic, envelope.aggregate_id(), value);
    }

    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> mirror(*store, {"mirror"});
    InboxConsumer inbox(*store, inbox_options(kafka, topic, unique_topic("mirror")), [&](const InboundEvent& event) {
        // Mirror each counter: one increment per input event, committed with the inbox record.
        const std::string& id = event.envelope.aggregate_id();
        if (!mirror.find(id)) {
            (void)mirror.execute(id, Counter::Create{id});
        }
        auto result = mirror.execute(id, Counter::Increment{1, ""}, {.inbox_key = event.inbox_key});
        return std::holds_alternative<Rejection>(result) ? HandlerVerdict::poison(std::get<Rejection>(result).message)
                                                         : HandlerVerdict::applied();
    });
    inbox.start();
    REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied + s.duplicates == 70; }, 60s));
    inbox.stop();
    const InboxStats stats = inbox.stats();
    CHECK(stats.applied == 50);
    CHECK(stats.duplicates == 20);
    CHECK(stats.dead_lettered == 0);
    for (int c = 0; c < 5; ++c) {
        CHECK(mirror.find("c" + std::to_string(c))->state.value == 10);
    }
}

TEST_CASE("an ignored event is recorded as processed without a synced write of its own", "[kafka][inbox]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("ignored");
    kafka.create_topic(topic, 3);
    kafka.create_topic(topic + ".dlq", 1);
    TempDir source_dir;
    auto source = EventStore::open(source_dir.path());
    AggregateRuntime<Counter> counters(*source, {"source"});
    fill(counters, 4, 9);  // 40 events: 4 created, 36 incremented
    {
        OutboxRelay relay(*source, relay_options(kafka, topic));
        relay.start();
        REQUIRE(relay.wait_until_published(source->head(), 60s));
    }
    TempDir dir;
    std::vector<std::string> keys;
    StoreStats after_consuming;
    {
        auto store = EventStore::open(dir.path());  // durable: each group commit is fsynced
        AggregateRuntime<Counter> created(*store, {"mirror"});
        std::mutex keys_mutex;
        // Mirrors only the creations; every increment is ignored.
        InboxConsumer inbox(*store, inbox_options(kafka, topic, unique_topic("ignoring")),
                            [&](const InboundEvent& event) {
                                {
                                    const std::lock_guard lock(keys_mutex);
                                    keys.push_back(event.inbox_key);
                                }
                                if (event.envelope.event_type() != "gatehouse.testing.v1.CounterCreated") {
                                    return HandlerVerdict::ignored();
                                }
                                const std::string& id = event.envelope.aggregate_id();
                                auto result = created.execute(id, Counter::Create{id}, {.inbox_key = event.inbox_key});
                                return std::holds_alternative<Rejection>(result)
                                           ? HandlerVerdict::poison(std::get<Rejection>(result).message)
                                           : HandlerVerdict::applied();
                            });
        inbox.start();
        REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied + s.ignored == 40; }, 60s));
        inbox.stop();
        CHECK(inbox.stats().applied == 4);
        CHECK(inbox.stats().ignored == 36);
        after_consuming = store->stats();
    }
    // Four synced group commits at most (one per creation), not forty.
    CHECK(after_consuming.commits == 4);
    CHECK(after_consuming.groups <= 4);
    // Every record, ignored or applied, is processed, also after the store is closed and reopened:
    // a redelivery would be skipped as a duplicate.
    REQUIRE(keys.size() == 40);
    auto reopened = EventStore::open(dir.path());
    for (const std::string& key : keys) {
        CHECK(reopened->was_processed(key));
    }
}

TEST_CASE("poison records go to the dead-letter topic and consumption continues", "[kafka][inbox]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("poison");
    kafka.create_topic(topic, 1);
    kafka.create_topic(topic + ".dlq", 1);
    gatehouse::kernel::v1::EventEnvelope good;
    good.set_event_id("good-1");
    good.set_event_type("gatehouse.testing.v1.CounterCreated");
    good.set_aggregate_id("c1");
    gatehouse::kernel::v1::EventEnvelope unknown = good;
    unknown.set_event_id("unknown-1");
    unknown.set_event_type("gatehouse.testing.v1.SomethingElse");
    kafka.produce(topic, "k", "\xff\xfe not a protobuf envelope");
    kafka.produce(topic, "c1", unknown.SerializeAsString());
    kafka.produce(topic, "c1", good.SerializeAsString());

    TempDir dir;
    auto store = EventStore::open(dir.path());
    std::atomic<int> transient_failures{2};
    InboxConsumer inbox(*store, inbox_options(kafka, topic, unique_topic("poison-consumer")),
                        [&](const InboundEvent& event) {
                            if (event.envelope.event_type() != "gatehouse.testing.v1.CounterCreated") {
                                return HandlerVerdict::poison("unknown event type " + event.envelope.event_type());
                            }
                            if (transient_failures-- > 0) {
                                throw TransientError("downstream not ready");
                            }
                            return HandlerVerdict::applied();
                        });
    inbox.start();
    REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied == 1 && s.dead_lettered == 2; }, 60s));
    CHECK(inbox.stats().retries == 2);
    inbox.stop();

    const auto dead = kafka.read_all(topic + ".dlq", 2, 30s);
    REQUIRE(dead.size() == 2);
    CHECK(dead[0].headers.at(headers::kDeadLetterReason).find("undecodable") != std::string::npos);
    CHECK(dead[0].headers.at(headers::kDeadLetterTopic) == topic);
    CHECK(dead[0].headers.at(headers::kDeadLetterOffset) == "0");
    CHECK(dead[0].value == "\xff\xfe not a protobuf envelope");
    CHECK(dead[1].headers.at(headers::kDeadLetterReason) == "unknown event type gatehouse.testing.v1.SomethingElse");
    CHECK(dead[1].headers.at(headers::kDeadLetterOffset) == "1");
    CHECK_FALSE(dead[1].headers.at(headers::kDeadLetterTime).empty());
}

TEST_CASE("an event that names another producer than the topic's owner is dead-lettered unseen by the handler",
          "[kafka][inbox]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("owned");
    kafka.create_topic(topic, 1);
    kafka.create_topic(topic + ".dlq", 1);
    gatehouse::kernel::v1::EventEnvelope owned;
    owned.set_event_id("owned-1");
    owned.set_event_type("gatehouse.testing.v1.CounterCreated");
    owned.set_aggregate_id("c1");
    owned.set_producer("sales-bridge");
    gatehouse::kernel::v1::EventEnvelope forged = owned;
    forged.set_event_id("forged-1");
    forged.set_producer("someone-else");
    gatehouse::kernel::v1::EventEnvelope anonymous = owned;
    anonymous.set_event_id("anonymous-1");
    anonymous.clear_producer();
    kafka.produce(topic, "c1", forged.SerializeAsString());
    kafka.produce(topic, "c1", anonymous.SerializeAsString());
    kafka.produce(topic, "c1", owned.SerializeAsString());

    TempDir dir;
    auto store = EventStore::open(dir.path());
    auto options = inbox_options(kafka, topic, unique_topic("owned-consumer"));
    options.producer = "sales-bridge";
    std::vector<std::string> handled;
    InboxConsumer inbox(*store, options, [&](const InboundEvent& event) {
        handled.push_back(event.envelope.event_id());
        return HandlerVerdict::applied();
    });
    inbox.start();
    REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied == 1 && s.dead_lettered == 2; }, 60s));
    inbox.stop();
    CHECK(handled == std::vector<std::string>{"owned-1"});
    const auto dead = kafka.read_all(topic + ".dlq", 2, 30s);
    REQUIRE(dead.size() == 2);
    CHECK_THAT(dead[0].headers.at(headers::kDeadLetterReason),
               Catch::Contains("wrong producer") && Catch::Contains("\"someone-else\""));
    CHECK_THAT(dead[1].headers.at(headers::kDeadLetterReason), Catch::Contains("wrong producer"));
}

TEST_CASE(
    "a record whose retry budget is spent is parked: other aggregates go on, later records of its aggregate wait "
    "behind it, and a retry applies them in order, also after a restart",
    "[kafka][inbox]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("parking");
    kafka.create_topic(topic, 1);
    kafka.create_topic(topic + ".dlq", 1);
    const auto event = [](const std::string& id, const std::string& aggregate) {
        gatehouse::kernel::v1::EventEnvelope envelope;
        envelope.set_event_id(id);
        envelope.set_event_type("gatehouse.testing.v1.CounterCreated");
        envelope.set_aggregate_id(aggregate);
        return envelope.SerializeAsString();
    };
    kafka.produce(topic, "A", event("a-1", "A"));
    kafka.produce(topic, "B", event("b-1", "B"));
    kafka.produce(topic, "A", event("a-2", "A"));
    kafka.produce(topic, "B", event("b-2", "B"));

    TempDir dir;
    auto store = EventStore::open(dir.path());
    std::atomic<bool> a_blocked{true};
    std::mutex applied_mutex;
    std::vector<std::string> applied;
    const InboxHandler handler = [&](const InboundEvent& inbound) {
        if (inbound.envelope.aggregate_id() == "A" && a_blocked) {
            throw TransientError("the account has not arrived yet");
        }
        {
            std::lock_guard lock(applied_mutex);
            applied.push_back(inbound.envelope.event_id());
        }
        Commit commit;
        commit.inbox_key = inbound.inbox_key;
        (void)store->commit(std::move(commit));
        return HandlerVerdict::applied();
    };
    const auto applied_now = [&] {
        std::lock_guard lock(applied_mutex);
        return applied;
    };
    InboxOptions options = inbox_options(kafka, topic, unique_topic("parking-consumer"));
    options.retry_attempts = 3;
    options.parked_retry_interval = 1h;
    {
        InboxConsumer inbox(*store, options, handler);
        inbox.start();
        REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied == 2 && s.parked == 2; }, 60s));
        CHECK(applied_now() == std::vector<std::string>{"b-1", "b-2"});
        CHECK(inbox.stats().retries == 3);  // a-2 was never tried: it waits behind a-1
        const std::vector<ParkedRecord> parked = inbox.parked();
        REQUIRE(parked.size() == 2);
        CHECK(parked[0].event_id == "a-1");
        CHECK(parked[0].aggregate_id == "A");
        CHECK(parked[0].attempts == 3);
        CHECK(parked[0].reason == "the account has not arrived yet");
        CHECK(parked[0].record.offset == 0);
        CHECK(parked[1].event_id == "a-2");
        CHECK(parked[1].attempts == 0);
        CHECK(parked[1].reason.find("waiting behind") != std::string::npos);
        // Still failing: both stay, and a-2 is not tried.
        const ParkedRetry again = inbox.retry_parked();
        CHECK(again.processed == 0);
        CHECK(again.still_parked == 2);
        CHECK(inbox.parked()[0].attempts == 4);
        inbox.stop();
    }
    // A restart keeps them parked (the offsets were committed: they are not consumed again), and a
    // new record of aggregate A waits behind them; the periodic retry then applies all in order.
    kafka.produce(topic, "A", event("a-3", "A"));
    kafka.produce(topic, "B", event("b-3", "B"));
    options.parked_retry_interval = 200ms;
    InboxConsumer inbox(*store, options, handler);
    inbox.start();
    REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied == 1 && s.parked == 3; }, 60s));
    CHECK(applied_now() == std::vector<std::string>{"b-1", "b-2", "b-3"});
    a_blocked = false;
    REQUIRE(inbox.wait_for([](const InboxStats& s) { return s.applied == 4 && s.parked == 0; }, 60s));
    CHECK(applied_now() == std::vector<std::string>{"b-1", "b-2", "b-3", "a-1", "a-2", "a-3"});
    CHECK(inbox.parked().empty());
    CHECK(inbox.stats().unparked == 3);
    inbox.stop();
}

TEST_CASE(
    "the relay waits for an unreachable broker or a missing topic for as long as it takes, saying why, and "
    "publishes once it is there",
    "[kafka][relay]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("late");
    if (kafka.is_real()) {
        // The real broker does not create topics on demand: the topic is created late.
    } else {
        // The mock cluster creates topics on demand: its broker is down instead.
        kafka.create_topic(topic, 3);
        kafka.set_broker_down(true);
    }
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"source"});
    fill(counters, 2, 2);  // 6 events
    RelayOptions options = relay_options(kafka, topic);
    options.topic_wait = 200ms;  // far shorter than the outage: the relay must not give up
    OutboxRelay relay(*store, options);
    relay.start();
    REQUIRE(wait_until([&] { return !relay.stats().waiting.empty(); }, 30s));
    CHECK_THAT(relay.stats().waiting, Catch::Contains(topic));
    // Several times topic_wait: still waiting, not failed (the wait ends early if it fails).
    CHECK_FALSE(wait_until([&] { return !relay.failure().empty() || relay.stats().published > 0; }, 1s));
    CHECK(relay.failure().empty());
    CHECK(relay.stats().published == 0);
    if (kafka.is_real()) {
        kafka.create_topic(topic, 3);
    } else {
        kafka.set_broker_down(false);
    }
    REQUIRE(relay.wait_until_published(store->head(), 60s));
    CHECK(relay.stats().waiting.empty());
    relay.stop();
    check_in_order_once(kafka.read_all(topic, 6, 30s), 3);
}
