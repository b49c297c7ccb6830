// kernel_crash_worker: the process that crash tests kill with SIGKILL. It reports on stdout what
// it was told was durable ("ack ..."), so the test can check that nothing acknowledged is lost.
//
//   kernel_crash_worker append DIR THREADS
//       appends to streams s0..s{THREADS-1} forever; prints "ack STREAM VERSION POSITION"
//   kernel_crash_worker indexed DIR THREADS
//       runs commands on counters c0..c49 (with the counter read model) forever; prints
//       "ack COUNTER VERSION" for each committed command
//   kernel_crash_worker relay DIR BOOTSTRAP TOPIC TOTAL AGGREGATES
//       appends until the log holds TOTAL events over AGGREGATES aggregates while relaying them;
//       prints "appended N" as it goes and "published N" when all TOTAL are on the topic, then exits
//   kernel_crash_worker consume DIR BOOTSTRAP TOPIC GROUP TOTAL
//       counts each input event into stream "tally/<aggregate id>" (effectively once); prints
//       "applied N"; exits when TOTAL events were applied
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/outbox_relay.h"
#include "gatehouse/testing/kafka_test_cluster.h"

using namespace gatehouse::kernel;

namespace {

std::mutex g_out;
void say(const std::string& line) {
    std::lock_guard lock(g_out);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

v1::EventEnvelope counted_event(const std::string& note) {
    v1::EventEnvelope envelope;
    envelope.set_event_id(new_uuid_v7());
    envelope.set_event_type("gatehouse.testing.v1.CounterIncremented");
    envelope.set_producer("crash-worker");
    envelope.set_payload(note);
    return envelope;
}

int append(const std::string& dir, int threads) {
    auto store = EventStore::open(dir);
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            const StreamId stream{"stream", "s" + std::to_string(t)};
            for (;;) {
                Commit commit;
                StreamAppend& append_to = commit.appends.emplace_back();
                append_to.stream = stream;
                append_to.expected = ExpectedVersion::exactly(store->stream_version(stream));
                append_to.events.push_back(counted_event(std::string(100 + t * 10, 'x')));
                const CommitResult result = store->commit(std::move(commit));
                if (result.outcome == CommitOutcome::committed) {
                    say("ack " + stream.aggregate_id + " " + std::to_string(result.versions[0].value) + " " +
                        std::to_string(result.last.value));
                }
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    return 0;
}

int indexed(const std::string& dir, int threads) {
    using gatehouse::testing::Counter;
    auto store = EventStore::open(dir);
    AggregateRuntime<Counter> counters(*store, {.producer = "crash-worker", .cache_capacity = 16},
                                       gatehouse::testing::counter_read_model());
    (void)counters.bring_up_to_date();
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            for (std::uint64_t i = 0;; ++i) {
                const std::string id = "c" + std::to_string((i * 13 + static_cast<std::uint64_t>(t)) % 50);
                const auto found = counters.find(id);
                Counter::Command command = Counter::Increment{t + 1, ""};
                if (!found) {
                    command = Counter::Create{"n" + std::to_string(i % 7)};
                } else if (found->state.closed) {
                    continue;
                } else if (i % 97 == 96) {
                    command = Counter::Close{""};
                }
                const auto result = counters.execute(id, command);
                if (const auto* accepted = std::get_if<Accepted<Counter::Event>>(&result)) {
                    say("ack " + id + " " + std::to_string(accepted->version.value));
                }
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    return 0;
}

int relay(const std::string& dir, const std::string& bootstrap, const std::string& topic, std::uint64_t total,
          int aggregates) {
    auto store = EventStore::open(dir);
    RelayOptions options;
    options.kafka.bootstrap_servers = bootstrap;
    options.kafka.properties = gatehouse::testing::test_broker_client_properties();
    options.topic = topic;
    OutboxRelay relay(*store, options);
    relay.start();
    for (std::uint64_t n = store->head().value; n < total; ++n) {
        Commit commit;
        StreamAppend& append_to = commit.appends.emplace_back();
        append_to.stream = StreamId{"stream", "a" + std::to_string(n % static_cast<std::uint64_t>(aggregates))};
        append_to.events.push_back(counted_event("event " + std::to_string(n + 1)));
        (void)store->commit(std::move(commit));
        if ((n + 1) % 50 == 0) {
            say("appended " + std::to_string(n + 1));
        }
    }
    if (!relay.wait_until_published(LogPosition{total}, std::chrono::minutes(2))) {
        std::cerr << "relay did not publish everything: " << relay.failure() << "\n";
        return 1;
    }
    relay.stop();
    say("published " + std::to_string(relay.stats().position.value));
    return 0;
}

int consume(const std::string& dir, const std::string& bootstrap, const std::string& topic, const std::string& group,
            std::uint64_t total) {
    auto store = EventStore::open(dir);
    InboxOptions options;
    options.kafka.bootstrap_servers = bootstrap;
    options.kafka.properties = gatehouse::testing::test_broker_client_properties();
    options.consumer_name = group;
    options.topics = {topic};
    options.dead_letter_topic = topic + ".dlq";
    // The killed predecessor's group membership expires after this, freeing its partitions.
    options.consumer_properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};
    std::atomic<std::uint64_t> applied{0};
    InboxConsumer inbox(*store, options, [&](const InboundEvent& event) {
        Commit commit;
        commit.inbox_key = event.inbox_key;
        StreamAppend& append_to = commit.appends.emplace_back();
        append_to.stream = StreamId{"tally", event.envelope.aggregate_id()};
        append_to.events.push_back(counted_event(event.envelope.event_id()));
        const CommitResult result = store->commit(std::move(commit));
        if (result.outcome == CommitOutcome::committed) {
            say("applied " + std::to_string(++applied));
        }
        return HandlerVerdict::applied();
    });
    inbox.start();
    // Done when the whole input is in the tally (counted across restarts through the log's head).
    while (store->head().value < total) {
        (void)store->wait_for_events_after(store->head(), std::chrono::milliseconds(500));
        if (!inbox.failure().empty()) {
            std::cerr << inbox.failure() << "\n";
            return 1;
        }
    }
    inbox.stop();
    say("done " + std::to_string(store->head().value));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    configure_logging({.level = "warn", .json = false});
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 3 && args[0] == "append") {
            return append(args[1], std::stoi(args[2]));
        }
        if (args.size() == 3 && args[0] == "indexed") {
            return indexed(args[1], std::stoi(args[2]));
        }
        if (args.size() == 6 && args[0] == "relay") {
            return relay(args[1], args[2], args[3], std::stoull(args[4]), std::stoi(args[5]));
        }
        if (args.size() == 6 && args[0] == "consume") {
            return consume(args[1], args[2], args[3], args[4], std::stoull(args[5]));
        }
    } catch (const std::exception& error) {
        std::cerr << "kernel_crash_worker: " << error.what() << "\n";
        return 1;
    }
    std::cerr << "usage: see the comment at the top of crash_worker.cpp\n";
    return 2;
}
