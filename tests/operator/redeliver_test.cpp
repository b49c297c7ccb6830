// InboxConsumer::redeliver() and read_dead_letters(): the kernel half of re-driving dead letters,
// with a handler whose verdict the test switches from poison to applied.
#include <catch2/catch.hpp>

#include <atomic>

#include "gatehouse/kernel/dead_letters.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

std::string envelope(const std::string& event_id) {
    kernel::v1::EventEnvelope envelope;
    envelope.set_event_id(event_id);
    envelope.set_event_type("gatehouse.test.v1.Happened");
    envelope.set_aggregate_type("thing");
    envelope.set_aggregate_id("T-1");
    envelope.set_aggregate_version(1);
    return envelope.SerializeAsString();
}

}  // namespace

TEST_CASE("a dead-lettered event re-driven is applied once, however often the re-drive is repeated", "[kafka]") {
    KafkaTestCluster kafka;
    TempDir directory;
    auto store = kernel::EventStore::open(directory.path() / "log");
    const std::string input = unique_topic("operator.input");
    const std::string dead_letters = unique_topic("operator.dlq");
    kafka.create_topic(input, 1);
    kafka.create_topic(dead_letters, 1);

    std::atomic<bool> poisonous{true};
    std::atomic<int> applied{0};
    kernel::InboxOptions options;
    options.kafka.bootstrap_servers = kafka.bootstrap();
    options.kafka.properties = kafka.sasl_properties();
    options.kafka.properties["session.timeout.ms"] = "6000";
    options.consumer_name = unique_topic("svc");
    options.topics = {input};
    options.dead_letter_topic = dead_letters;
    kernel::InboxConsumer consumer(*store, options, [&](const kernel::InboundEvent& event) {
        if (poisonous) {
            return kernel::HandlerVerdict::poison("not yet");
        }
        kernel::Commit commit;  // what a handler does: its effects and the inbox key, atomically
        commit.inbox_key = event.inbox_key;
        (void)store->commit(std::move(commit));
        ++applied;
        return kernel::HandlerVerdict::applied();
    });
    consumer.start();
    const auto dead_lettered = [&](std::uint64_t count) {
        return consumer.wait_for([count](const kernel::InboxStats& s) { return s.dead_lettered >= count; }, 30s);
    };

    kafka.produce(input, "T-1", envelope("event-1"));
    REQUIRE(dead_lettered(1));
    kafka.produce(input, "T-1", "not an envelope");
    REQUIRE(dead_lettered(2));

    auto letters = kernel::read_dead_letters(options.kafka, dead_letters, 30s);
    REQUIRE(letters.size() == 2);
    CHECK(letters[0].offset == 0);
    CHECK(letters[0].header("gatehouse.dlq.reason") == "not yet");
    CHECK(letters[1].header("gatehouse.dlq.reason") ==
          "undecodable: the value is not a gatehouse.kernel.v1.EventEnvelope");
    const kernel::InboundRecord first = letters[0].origin();
    CHECK(first.topic == input);
    CHECK(first.offset == 0);
    CHECK(first.key == "T-1");
    CHECK(first.value == envelope("event-1"));
    for (const auto& [name, value] : first.headers) {
        CHECK(name.rfind("gatehouse.dlq.", 0) != 0);
    }
    const std::string key = kernel::InboxConsumer::inbox_key(options.consumer_name, "event-1");
    CHECK(store->was_processed(key));  // consumption never retries a dead letter by itself
    CHECK(store->read_metadata(kernel::InboxConsumer::dead_letter_mark(key)).has_value());

    SECTION("still poison: dead-lettered again, and the new dead letter can be re-driven later") {
        CHECK(consumer.redeliver(first) == kernel::RedeliveryOutcome::dead_lettered);
        CHECK_FALSE(store->was_processed(kernel::InboxConsumer::redrive_key(key)));
        letters = kernel::read_dead_letters(options.kafka, dead_letters, 30s);
        REQUIRE(letters.size() == 3);
        CHECK(letters[2].origin().value == envelope("event-1"));
        CHECK(letters[2].origin().offset == 0);
        poisonous = false;
        CHECK(consumer.redeliver(letters[2].origin()) == kernel::RedeliveryOutcome::applied);
        CHECK(consumer.redeliver(first) == kernel::RedeliveryOutcome::duplicate);
        CHECK(applied == 1);
    }
    SECTION("fixed: applied once; repeating the re-drive changes nothing") {
        poisonous = false;
        CHECK(consumer.redeliver(first) == kernel::RedeliveryOutcome::applied);
        CHECK(applied == 1);
        CHECK(store->was_processed(kernel::InboxConsumer::redrive_key(key)));
        CHECK(consumer.redeliver(first) == kernel::RedeliveryOutcome::duplicate);
        CHECK(consumer.redeliver(letters[0].origin()) == kernel::RedeliveryOutcome::duplicate);
        CHECK(applied == 1);
        // An undecodable record stays poison.
        CHECK(consumer.redeliver(letters[1].origin()) == kernel::RedeliveryOutcome::dead_lettered);

        // An event applied by normal consumption is never applied again by a re-drive.
        kafka.produce(input, "T-1", envelope("event-2"));
        REQUIRE(consumer.wait_for([](const kernel::InboxStats& s) { return s.applied >= 2; }, 30s));
        kernel::InboundRecord copy = first;
        copy.value = envelope("event-2");
        CHECK(consumer.redeliver(copy) == kernel::RedeliveryOutcome::duplicate);
        CHECK(applied == 2);
    }
    SECTION("an event that was never marked (e.g. a log restored from the topic) takes the normal path") {
        poisonous = false;
        kernel::InboundRecord unseen = first;
        unseen.value = envelope("event-3");
        CHECK(consumer.redeliver(unseen) == kernel::RedeliveryOutcome::applied);
        CHECK(store->was_processed(kernel::InboxConsumer::inbox_key(options.consumer_name, "event-3")));
        CHECK(consumer.redeliver(unseen) == kernel::RedeliveryOutcome::duplicate);
        CHECK(applied == 1);
    }
    consumer.stop();
}

TEST_CASE("reading a dead-letter topic that does not exist gives no dead letters", "[kafka]") {
    KafkaTestCluster kafka;
    kernel::KafkaSettings settings;
    settings.bootstrap_servers = kafka.bootstrap();
    settings.properties = kafka.sasl_properties();
    CHECK(kernel::read_dead_letters(settings, unique_topic("operator.none"), 30s).empty());
}
