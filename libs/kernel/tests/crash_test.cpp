// Crash tests: a child process is killed with SIGKILL in the middle of its work, then the test
// checks the durable state against what the child had reported as acknowledged.
#include <catch2/catch.hpp>

#include <csignal>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/outbox_relay.h"
#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using namespace gatehouse::testing;
using namespace std::chrono_literals;

namespace {

std::uint64_t random_between(std::uint64_t low, std::uint64_t high) {
    static std::mt19937_64 random{std::random_device{}()};
    return std::uniform_int_distribution<std::uint64_t>(low, high)(random);
}

// Reads lines until one starts with `prefix` and its number is at least `at_least`.
bool read_until(ChildProcess& child, const std::string& prefix, std::uint64_t at_least,
                std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = child.read_line(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
        if (!line) {
            return false;
        }
        if (line->rfind(prefix + " ", 0) == 0 && std::stoull(line->substr(prefix.size() + 1)) >= at_least) {
            return true;
        }
    }
    return false;
}

// Runs `command` until it reports `progress` >= a random point, kills it with SIGKILL, then runs
// it again until it reports `done` >= `total` and exits 0.
void kill_mid_run_then_finish(const std::vector<std::string>& command, const std::string& progress,
                              std::uint64_t kill_low, std::uint64_t kill_high, const std::string& done,
                              std::uint64_t total) {
    {
        ChildProcess first(command);
        REQUIRE(read_until(first, progress, random_between(kill_low, kill_high), 60s));
        first.kill(SIGKILL);
        CHECK(first.wait() == 128 + SIGKILL);
    }
    ChildProcess second(command);
    REQUIRE(read_until(second, done, total, 120s));
    CHECK(second.wait() == 0);
}

// Feeds the writer's "ack ..." lines to `record` until `kill_after` of them, kills the writer
// with SIGKILL, then feeds the acknowledgements it printed before it died (acknowledged too).
void kill_after_acknowledgements(ChildProcess& writer, std::uint64_t kill_after,
                                 const std::function<void(const std::string&)>& record) {
    std::uint64_t acks = 0;
    while (acks < kill_after) {
        auto line = writer.read_line(30s);
        REQUIRE(line.has_value());
        REQUIRE(line->rfind("ack ", 0) == 0);
        record(*line);
        ++acks;
    }
    writer.kill(SIGKILL);
    while (auto line = writer.read_line(5s)) {
        if (line->rfind("ack ", 0) == 0) {
            record(*line);
        }
    }
    CHECK(writer.wait() == 128 + SIGKILL);
}

}  // namespace

TEST_CASE("a writer killed mid-append loses nothing acknowledged and leaves no torn event", "[crash]") {
    TempDir dir;
    // stream -> version -> position, as acknowledged to the writer
    std::map<std::string, std::map<std::uint64_t, std::uint64_t>> acknowledged;
    constexpr int kRounds = 5;
    for (int round = 0; round < kRounds; ++round) {
        ChildProcess writer({GATEHOUSE_CRASH_WORKER, "append", dir.path().string(), "4"});
        std::uint64_t acks = 0;
        kill_after_acknowledgements(writer, random_between(50, 1500), [&](const std::string& line) {
            std::istringstream in(line);
            std::string word;
            std::string stream;
            std::uint64_t version = 0;
            std::uint64_t position = 0;
            in >> word >> stream >> version >> position;
            acknowledged[stream][version] = position;
            ++acks;
        });

        auto store = EventStore::open(dir.path());
        std::map<std::string, std::uint64_t> versions_seen;
        std::uint64_t count = 0;
        REQUIRE_NOTHROW(store->scan(LogPosition{1}, [&](const RecordedEvent& event) {
            ++count;
            auto& version = versions_seen[event.envelope.aggregate_id()];
            CHECK(event.envelope.aggregate_version() == ++version);  // no gap within a stream
            return true;
        }));
        CHECK(count == store->head().value);  // no gap in the log
        for (const auto& [stream, versions] : acknowledged) {
            const auto events = store->read_stream(StreamId{"stream", stream});
            REQUIRE(events.size() >= versions.rbegin()->first);
            for (const auto& [version, position] : versions) {
                CHECK(events[version - 1].position.value == position);
            }
        }
        INFO("round " << round << ": " << acks << " acknowledged, log holds " << count);
    }
}

TEST_CASE("read models equal a fold of the log after a writer is killed mid-commit", "[crash]") {
    TempDir dir;
    std::map<std::string, std::uint64_t> acknowledged;  // counter -> highest acknowledged version
    for (int round = 0; round < 4; ++round) {
        ChildProcess writer({GATEHOUSE_CRASH_WORKER, "indexed", dir.path().string(), "4"});
        std::uint64_t acks = 0;
        kill_after_acknowledgements(writer, random_between(100, 2000), [&](const std::string& line) {
            std::istringstream in(line);
            std::string word;
            std::string id;
            std::uint64_t version = 0;
            in >> word >> id >> version;
            acknowledged[id] = std::max(acknowledged[id], version);
            ++acks;
        });

        auto store = EventStore::open(dir.path());
        AggregateRuntime<Counter> counters(*store, {"check"}, counter_read_model());
        CHECK(counters.bring_up_to_date() == 0);  // built with the log, never rebuilt
        const auto differences = counters.differences_from_log();
        INFO("round " << round << ": " << acks
                      << " acknowledged; first difference: " << (differences.empty() ? "none" : differences.front()));
        CHECK(differences.empty());
        for (const auto& [id, version] : acknowledged) {
            CHECK(store->stream_version(StreamId{"counter", id}).value >= version);
        }
    }
}

TEST_CASE("a relay killed mid-stream and restarted publishes every event exactly once in order", "[crash][kafka]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("crash-relay");
    kafka.create_topic(topic, 3);
    TempDir dir;
    constexpr std::uint64_t kTotal = 2000;
    constexpr int kAggregates = 20;
    const std::vector<std::string> command = {GATEHOUSE_CRASH_WORKER,     "relay", dir.path().string(),
                                              kafka.bootstrap(),          topic,   std::to_string(kTotal),
                                              std::to_string(kAggregates)};
    kill_mid_run_then_finish(command, "appended", 300, 1500, "published", kTotal);
    const auto records = kafka.read_all(topic, kTotal, 60s);
    CHECK(records.size() == kTotal);
    std::map<std::string, std::uint64_t> last_version;
    std::set<std::string> event_ids;
    std::uint64_t out_of_order = 0;
    for (const auto& record : records) {
        gatehouse::kernel::v1::EventEnvelope envelope;
        REQUIRE(envelope.ParseFromString(record.value));
        CHECK(record.key == envelope.aggregate_id());
        event_ids.insert(envelope.event_id());
        auto& version = last_version[envelope.aggregate_id()];
        out_of_order += envelope.aggregate_version() == version + 1 ? 0 : 1;
        version = envelope.aggregate_version();
    }
    CHECK(out_of_order == 0);
    CHECK(event_ids.size() == kTotal);
    CHECK(last_version.size() == kAggregates);
}

TEST_CASE("a consumer killed mid-stream and restarted applies every event exactly once", "[crash][kafka]") {
    KafkaTestCluster kafka;
    const std::string topic = unique_topic("crash-inbox");
    kafka.create_topic(topic, 3);
    kafka.create_topic(topic + ".dlq", 1);
    constexpr std::uint64_t kTotal = 600;
    constexpr int kAggregates = 10;
    TempDir source_dir;
    {
        // The input: kTotal events over kAggregates aggregates, relayed onto the topic.
        auto source = EventStore::open(source_dir.path());
        for (std::uint64_t n = 0; n < kTotal; ++n) {
            Commit commit;
            StreamAppend& append = commit.appends.emplace_back();
            append.stream = StreamId{"source", "a" + std::to_string(n % kAggregates)};
            gatehouse::kernel::v1::EventEnvelope envelope;
            envelope.set_event_id("event-" + std::to_string(n));
            envelope.set_event_type("gatehouse.testing.v1.CounterIncremented");
            append.events.push_back(envelope);
            REQUIRE(source->commit(std::move(commit)).outcome == CommitOutcome::committed);
        }
        RelayOptions options;
        options.kafka.bootstrap_servers = kafka.bootstrap();
        options.kafka.properties = kafka.sasl_properties();
        options.topic = topic;
        OutboxRelay relay(*source, options);
        relay.start();
        REQUIRE(relay.wait_until_published(LogPosition{kTotal}, 60s));
    }
    TempDir dir;
    const std::string group = unique_topic("tally");
    const std::vector<std::string> command = {GATEHOUSE_CRASH_WORKER, "consume", dir.path().string(),
                                              kafka.bootstrap(),      topic,     group,
                                              std::to_string(kTotal)};
    kill_mid_run_then_finish(command, "applied", 50, 400, "done", kTotal);
    auto store = EventStore::open(dir.path());
    CHECK(store->head().value == kTotal);
    std::set<std::string> causes;
    store->scan(LogPosition{1}, [&](const RecordedEvent& event) {
        causes.insert(event.envelope.payload());  // the tally event records the input event's id
        return true;
    });
    CHECK(causes.size() == kTotal);
    for (int a = 0; a < kAggregates; ++a) {
        CHECK(store->stream_version(StreamId{"tally", "a" + std::to_string(a)}) == StreamVersion{kTotal / kAggregates});
    }
}
