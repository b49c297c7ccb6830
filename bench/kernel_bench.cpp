// kernel_bench: throughput of the kernel's event store, replay and relay, each as a ratio to the
// raw library doing the same work in the same run.
//
//   kernel_bench [--events N] [--replay-events N] [--threads T] [--kafka BOOTSTRAP] [--relay-events N]
//
// append   events/s of EventStore::commit (durable with group commit, and non-durable) from T
//          threads, vs T threads writing the same envelope bytes with raw rocksdb::WriteBatch.
// replay   events/s of rebuild_from_log (checksum + decode envelope + decode event + evolve) over
//          N events, vs a raw RocksDB iteration over the same log touching every value.
// relay    events/s of the outbox relay to a real broker, vs a bare librdkafka producer sending the
//          same records (same key, partition, headers, producer settings) to another topic.
#include <librdkafka/rdkafkacpp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/outbox_relay.h"
#include "gatehouse/kernel/partitioner.h"
#include "gatehouse/kernel/projection.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::Counter;
using gatehouse::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

// Commits per RocksDB write (= per fsync when durable) in the last kernel_append run.
double g_last_batching = 0;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A realistic event: an envelope with ids, a timestamp and a ~150-byte payload.
v1::EventEnvelope sample_envelope(std::uint64_t n) {
    Counter::Event event;
    event.mutable_incremented()->set_amount(1);
    event.mutable_incremented()->set_note(std::string(150, static_cast<char>('a' + n % 26)));
    v1::EventEnvelope envelope;
    envelope.set_event_id(new_uuid_v7());
    envelope.set_event_type(oneof_event_type(event));
    envelope.set_payload(oneof_event_payload(event));
    envelope.mutable_occurred_at()->set_seconds(1'700'000'000 + static_cast<std::int64_t>(n));
    envelope.set_correlation_id(envelope.event_id());
    envelope.set_producer("bench");
    envelope.set_actor("user-42");
    return envelope;
}

void print(const std::string& name, double events_per_second, double baseline_per_second) {
    std::printf("%-44s %12.0f events/s   baseline %12.0f events/s   ratio %.2f\n", name.c_str(), events_per_second,
                baseline_per_second, events_per_second / baseline_per_second);
}

// T threads x (events / T) commits of one event each, to one stream per thread.
double kernel_append(bool durable, std::uint64_t events, int threads) {
    TempDir dir;
    auto store = EventStore::open(dir.path(), StoreOptions{durable});
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            const StreamId stream{"counter", "c" + std::to_string(t)};
            const std::uint64_t count = events / static_cast<std::uint64_t>(threads);
            for (std::uint64_t i = 0; i < count; ++i) {
                Commit commit;
                StreamAppend& append = commit.appends.emplace_back();
                append.stream = stream;
                append.expected = ExpectedVersion::exactly(StreamVersion{i});
                append.events.push_back(sample_envelope(i));
                if (store->commit(std::move(commit)).outcome != CommitOutcome::committed) {
                    std::abort();
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    const double rate = static_cast<double>(events) / seconds_since(start);
    const StoreStats stats = store->stats();
    g_last_batching =
        static_cast<double>(stats.commits) / static_cast<double>(std::max<std::uint64_t>(stats.groups, 1));
    return rate;
}

// The same envelope bytes, written with raw WriteBatches from T threads (RocksDB groups concurrent
// synced writes itself).
double raw_append(bool durable, std::uint64_t events, int threads) {
    TempDir dir;
    rocksdb::Options options;
    options.create_if_missing = true;
    options.IncreaseParallelism(2);
    options.OptimizeLevelStyleCompaction();
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, dir.path().string(), &raw).ok()) {
        std::abort();
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    std::atomic<std::uint64_t> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            const std::uint64_t count = events / static_cast<std::uint64_t>(threads);
            rocksdb::WriteOptions write_options;
            write_options.sync = durable;
            for (std::uint64_t i = 0; i < count; ++i) {
                const std::string value = sample_envelope(i).SerializeAsString();
                const std::uint64_t position = next++;
                char key[8];
                for (int b = 0; b < 8; ++b) {
                    key[b] = static_cast<char>((position >> (56 - 8 * b)) & 0xFF);
                }
                rocksdb::WriteBatch batch;
                batch.Put(rocksdb::Slice(key, 8), value);
                if (!db->Write(write_options, &batch).ok()) {
                    std::abort();
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    return static_cast<double>(events) / seconds_since(start);
}

void bench_replay(std::uint64_t events) {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path(), StoreOptions{false});
        constexpr std::uint64_t kAggregates = 10000;
        constexpr std::uint64_t kPerCommit = 100;
        std::vector<std::uint64_t> versions(kAggregates, 0);
        for (std::uint64_t n = 0; n < events; n += kPerCommit) {
            Commit commit;
            for (std::uint64_t i = n; i < n + kPerCommit && i < events; ++i) {
                const std::uint64_t aggregate = (i * 7919) % kAggregates;
                StreamAppend& append = commit.appends.emplace_back();
                append.stream = StreamId{"counter", "c" + std::to_string(aggregate)};
                append.expected = ExpectedVersion::any();
                Counter::Event event;
                if (versions[aggregate]++ == 0) {
                    event.mutable_created()->set_name("c" + std::to_string(aggregate));
                } else {
                    event.mutable_incremented()->set_amount(1);
                    event.mutable_incremented()->set_note(std::string(150, 'n'));
                }
                v1::EventEnvelope envelope = sample_envelope(i);
                envelope.set_event_type(oneof_event_type(event));
                envelope.set_payload(oneof_event_payload(event));
                append.events.push_back(std::move(envelope));
            }
            (void)store->commit(std::move(commit));
        }
    }
    auto store = EventStore::open(dir.path());
    double raw_rate = 0;
    double kernel_rate = 0;
    for (int round = 0; round < 3; ++round) {  // best of three, alternating, against cache effects
        {
            rocksdb::DB* raw = nullptr;
            std::vector<rocksdb::ColumnFamilyHandle*> handles;
            // A second handle on the same files is not allowed while the store is open: read the
            // same log through a read-only instance.
            rocksdb::ColumnFamilyOptions family;
            if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir.path().string(),
                                              {{rocksdb::kDefaultColumnFamilyName, family},
                                               {"events", family},
                                               {"streams", family},
                                               {"meta", family}},
                                              &handles, &raw)
                     .ok()) {
                std::abort();
            }
            const auto start = Clock::now();
            std::uint64_t bytes = 0;
            std::uint64_t count = 0;
            rocksdb::ReadOptions read_options;
            read_options.readahead_size = 2 << 20;
            std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(read_options, handles[1]));
            for (it->SeekToFirst(); it->Valid(); it->Next()) {
                bytes += it->value().size() + static_cast<unsigned char>(it->value()[it->value().size() - 1]);
                ++count;
            }
            raw_rate = std::max(raw_rate, static_cast<double>(count) / seconds_since(start));
            if (count != events || bytes == 0) {
                std::abort();
            }
            it.reset();
            for (auto* handle : handles) {
                (void)raw->DestroyColumnFamilyHandle(handle);
            }
            delete raw;
        }
        {
            // A read model rebuilt from the log (what start-up does after a definition change or a
            // restore): every stream read and folded, its entries written. A new definition version
            // each round, so that each round rebuilds.
            AggregateRuntime<Counter> counters(
                *store, {"bench"}, gatehouse::testing::counter_read_model(static_cast<std::uint32_t>(round) + 10));
            const auto start = Clock::now();
            if (counters.bring_up_to_date() == 0) {
                std::abort();
            }
            kernel_rate = std::max(kernel_rate, static_cast<double>(events) / seconds_since(start));
        }
    }
    print("read-model rebuild from " + std::to_string(events) + " events (read streams, decode, evolve, index)",
          kernel_rate, raw_rate);
}

// --- read-model lookups as history grows ------------------------------------------------------

// What sign-in, duplicate checks and replication lookups do: an index lookup by a unique key
// (counters c0..c{N-1} named "name-<i>", looked up by name) and a first page of a list. Measured
// at 1, 100,000 and 1,000,000 aggregates in the same run: the cost must not grow with history.
void bench_lookups(const std::vector<std::uint64_t>& sizes) {
    std::printf("%-44s %14s %14s %14s\n", "read-model lookups", "aggregates", "lookup (us)", "page of 50 (us)");
    for (const std::uint64_t size : sizes) {
        TempDir dir;
        auto store = EventStore::open(dir.path(), StoreOptions{false});
        AggregateRuntime<Counter> counters(*store, {.producer = "bench", .cache_capacity = 1000},
                                           gatehouse::testing::counter_read_model());
        std::atomic<std::uint64_t> next{0};
        std::vector<std::thread> writers;
        for (int t = 0; t < 4; ++t) {
            writers.emplace_back([&] {
                for (std::uint64_t n = next++; n < size; n = next++) {
                    (void)counters.execute("c" + std::to_string(n), Counter::Create{"name-" + std::to_string(n)});
                }
            });
        }
        for (auto& writer : writers) {
            writer.join();
        }
        constexpr int kLookups = 20000;
        std::uint64_t found = 0;
        auto start = Clock::now();
        for (int i = 0; i < kLookups; ++i) {
            const std::uint64_t n = (static_cast<std::uint64_t>(i) * 2654435761U) % size;
            found += counters.lookup("by_name", IndexKey().text("name-" + std::to_string(n)), 2).size();
        }
        const double lookup_us = seconds_since(start) * 1e6 / kLookups;
        constexpr int kPages = 2000;
        start = Clock::now();
        for (int i = 0; i < kPages; ++i) {
            found += counters.page("by_value", {}, {}, 50).hits.size();
        }
        const double page_us = seconds_since(start) * 1e6 / kPages;
        if (found != kLookups + kPages * std::min<std::uint64_t>(50, size)) {
            std::abort();
        }
        std::printf("%-44s %14llu %14.1f %14.1f\n", "", static_cast<unsigned long long>(size), lookup_us, page_us);
    }
}

// --- relay ---------------------------------------------------------------------------------------

class CountingDelivery final : public RdKafka::DeliveryReportCb {
  public:
    void dr_cb(RdKafka::Message& message) override {
        if (message.err() != RdKafka::ERR_NO_ERROR) {
            std::cerr << "bare producer delivery failed: " << message.errstr() << "\n";
            std::abort();
        }
        ++delivered;
    }
    std::uint64_t delivered = 0;
};

int create_topic(const std::string& bootstrap, const std::string& topic) {
    const std::string command = "deploy/kafka/kafka.sh create-topic --bootstrap " + bootstrap + " --topic " + topic +
                                " --partitions 3 >/dev/null 2>&1";
    return std::system(command.c_str());
}

// Publishes the log with a bare producer configured like the relay (idempotent, acks=all,
// linger 5 ms, lz4), with the same keys, partitions and headers (the five gatehouse.* and the eight
// of the CloudEvents binding) — the best a bare producer does
// with the same guarantees: records preloaded in memory, no window of its own (librdkafka's queue
// of 100,000 messages is the only bound), delivery reports served every 1,000 records.
double bare_producer(const std::string& bootstrap, const std::string& topic, const EventStore& store) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    CountingDelivery delivery;
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", bootstrap},
                                                                                      {"enable.idempotence", "true"},
                                                                                      {"acks", "all"},
                                                                                      {"linger.ms", "5"},
                                                                                      {"compression.type", "lz4"}}) {
        conf->set(name, value, error);
    }
    conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&delivery), error);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    // Load the records first: the baseline measures producing, not reading the log.
    std::vector<std::pair<std::string, std::string>> records;  // key, value
    store.scan_raw(LogPosition{1}, [&](LogPosition, std::string_view value) {
        v1::EventEnvelope envelope;
        envelope.ParseFromArray(value.data(), static_cast<int>(value.size()));
        records.emplace_back(envelope.aggregate_id(), std::string(value));
        return true;
    });
    // Connected, with the topic's metadata, before the clock starts.
    RdKafka::Metadata* metadata = nullptr;
    std::unique_ptr<RdKafka::Topic> topic_handle(RdKafka::Topic::create(producer.get(), topic, nullptr, error));
    if (producer->metadata(false, topic_handle.get(), &metadata, 10'000) != RdKafka::ERR_NO_ERROR) {
        std::cerr << "bare producer: no metadata for " << topic << "\n";
        std::abort();
    }
    delete metadata;
    const auto start = Clock::now();
    std::uint64_t position = 0;
    for (const auto& [key, value] : records) {
        ++position;
        for (;;) {
            RdKafka::Headers* headers = RdKafka::Headers::create();
            headers->add("gatehouse.event-type", "gatehouse.testing.v1.CounterIncremented");
            headers->add("gatehouse.event-id", "0190a0a0-0000-7000-8000-000000000000");
            headers->add("gatehouse.aggregate-type", "counter");
            headers->add("gatehouse.log-position", std::to_string(position));
            headers->add("gatehouse.log-id", store.log_id());
            // The CloudEvents binding the relay adds (kafka_settings.h), values of the same sizes.
            headers->add("ce_specversion", "1.0");
            headers->add("ce_id", "0190a0a0-0000-7000-8000-000000000000");
            headers->add("ce_source", "/gatehouse/tests");
            headers->add("ce_type", "gatehouse.testing.v1.CounterIncremented");
            headers->add("ce_time", "2026-11-30T21:00:00.123456789Z");
            headers->add("ce_subject", key);
            headers->add("ce_dataschema", "urn:gatehouse:protobuf:gatehouse.kernel.v1.EventEnvelope");
            headers->add("content-type", "application/protobuf");
            const auto code = producer->produce(topic, partition_for(key, 3), RdKafka::Producer::RK_MSG_COPY,
                                                const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                                                0, headers, nullptr);
            if (code == RdKafka::ERR_NO_ERROR) {
                break;
            }
            delete headers;
            producer->poll(50);
        }
        if (position % 1000 == 0) {
            producer->poll(0);  // serve delivery reports; librdkafka's own queue bounds what is in flight
        }
    }
    (void)producer->flush(60'000);
    while (delivery.delivered < records.size()) {
        producer->poll(50);
    }
    return static_cast<double>(records.size()) / seconds_since(start);
}

void bench_relay(const std::string& bootstrap, std::uint64_t events) {
    TempDir dir;
    auto store = EventStore::open(dir.path(), StoreOptions{false});
    for (std::uint64_t n = 0; n < events; n += 100) {
        Commit commit;
        for (std::uint64_t i = n; i < n + 100 && i < events; ++i) {
            StreamAppend& append = commit.appends.emplace_back();
            append.stream = StreamId{"counter", "c" + std::to_string(i % 1000)};
            append.events.push_back(sample_envelope(i));
        }
        (void)store->commit(std::move(commit));
    }
    std::random_device random;
    const std::string suffix = std::to_string(random() % 1000000);
    double relay_rate = 0;
    double bare_rate = 0;
    for (int round = 0; round < 2; ++round) {
        const std::string bare_topic = "bench.bare." + suffix + "." + std::to_string(round);
        const std::string relay_topic = "bench.relay." + suffix + "." + std::to_string(round);
        if (create_topic(bootstrap, bare_topic) != 0 || create_topic(bootstrap, relay_topic) != 0) {
            std::cerr << "cannot create the benchmark topics\n";
            std::exit(1);
        }
        if (round == 0) {
            bare_rate = std::max(bare_rate, bare_producer(bootstrap, bare_topic, *store));
        }
        RelayOptions options;
        options.kafka.bootstrap_servers = bootstrap;
        options.topic = relay_topic;
        OutboxRelay relay(*store, options);
        const auto start = Clock::now();
        relay.start();
        if (!relay.wait_until_published(store->head(), std::chrono::minutes(5))) {
            std::cerr << "relay did not finish: " << relay.failure() << "\n";
            std::exit(1);
        }
        relay_rate = std::max(relay_rate, static_cast<double>(events) / seconds_since(start));
        relay.stop();
        store->write_metadata_lazily("relay/" + relay_topic, std::string(8, '\0'));
        if (round == 1) {  // alternate the order: baseline first in round 0, last in round 1
            bare_rate = std::max(bare_rate, bare_producer(bootstrap, bare_topic, *store));
        }
    }
    print("relay " + std::to_string(events) + " events to Kafka", relay_rate, bare_rate);
}

}  // namespace

int main(int argc, char** argv) {
    configure_logging({.level = "warn", .json = false});
    std::uint64_t events = 20000;
    std::uint64_t replay_events = 1'000'000;
    std::uint64_t relay_events = 200'000;
    int threads = 8;
    std::string kafka;
    bool lookups = true;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string option = argv[i];
        const std::string value = argv[i + 1];
        if (option == "--events") {
            events = std::stoull(value);
        } else if (option == "--replay-events") {
            replay_events = std::stoull(value);
        } else if (option == "--relay-events") {
            relay_events = std::stoull(value);
        } else if (option == "--threads") {
            threads = std::stoi(value);
        } else if (option == "--lookups") {
            lookups = value != "off";
        } else if (option == "--kafka") {
            kafka = value;
        } else {
            std::cerr << "unknown option " << option << "\n";
            return 2;
        }
    }
    std::printf("kernel_bench: %d cores, %d writer threads\n", static_cast<int>(std::thread::hardware_concurrency()),
                threads);
    // Best of three, kernel and baseline alternating, so that both see the same machine noise.
    const auto best_of_three = [](const std::string& name, auto kernel, auto baseline) {
        double kernel_best = 0;
        double baseline_best = 0;
        for (int round = 0; round < 3; ++round) {
            kernel_best = std::max(kernel_best, kernel());
            baseline_best = std::max(baseline_best, baseline());
        }
        print(name, kernel_best, baseline_best);
        std::printf("%-44s %12.1f commits per RocksDB write (group commit)\n", "", g_last_batching);
    };
    best_of_three(
        "append durable (fsync, group commit)", [&] { return kernel_append(true, events, threads); },
        [&] { return raw_append(true, events, threads); });
    best_of_three(
        "append non-durable", [&] { return kernel_append(false, events * 10, threads); },
        [&] { return raw_append(false, events * 10, threads); });
    best_of_three(
        "append durable, 1 thread", [&] { return kernel_append(true, events / 4, 1); },
        [&] { return raw_append(true, events / 4, 1); });
    best_of_three(
        "append non-durable, 1 thread", [&] { return kernel_append(false, events * 5, 1); },
        [&] { return raw_append(false, events * 5, 1); });
    if (replay_events > 0) {
        bench_replay(replay_events);
    }
    if (lookups) {
        bench_lookups({1, 100'000, 1'000'000});
    }
    if (!kafka.empty()) {
        bench_relay(kafka, relay_events);
    }
    return 0;
}
