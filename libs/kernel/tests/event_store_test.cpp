#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "counter_domain.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::TempDir;

namespace {

v1::EventEnvelope event_of(const std::string& type, const std::string& payload = "x") {
    v1::EventEnvelope envelope;
    envelope.set_event_id(type + payload);
    envelope.set_event_type(type);
    envelope.set_payload(payload);
    return envelope;
}

Commit append_to(const StreamId& stream, ExpectedVersion expected, int count) {
    Commit commit;
    StreamAppend& append = commit.appends.emplace_back();
    append.stream = stream;
    append.expected = expected;
    for (int i = 0; i < count; ++i) {
        append.events.push_back(event_of("t", std::to_string(i)));
    }
    return commit;
}

}  // namespace

TEST_CASE("appends are read back by stream and in log order", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    const StreamId a{"counter", "a"};
    const StreamId b{"counter", "b"};

    auto first = store->commit(append_to(a, ExpectedVersion::no_stream(), 2));
    REQUIRE(first.outcome == CommitOutcome::committed);
    CHECK(first.first == LogPosition{1});
    CHECK(first.last == LogPosition{2});
    CHECK(first.versions.at(0) == StreamVersion{2});
    REQUIRE(store->commit(append_to(b, ExpectedVersion::no_stream(), 1)).outcome == CommitOutcome::committed);
    REQUIRE(store->commit(append_to(a, ExpectedVersion::exactly(StreamVersion{2}), 1)).outcome ==
            CommitOutcome::committed);

    const auto events_of_a = store->read_stream(a);
    REQUIRE(events_of_a.size() == 3);
    CHECK(events_of_a[0].envelope.aggregate_version() == 1);
    CHECK(events_of_a[2].envelope.aggregate_version() == 3);
    CHECK(events_of_a[2].position == LogPosition{4});
    CHECK(events_of_a[2].envelope.aggregate_id() == "a");
    CHECK(store->read_stream(a, StreamVersion{3}).size() == 1);
    CHECK(store->stream_version(b) == StreamVersion{1});
    CHECK(store->stream_version(StreamId{"counter", "none"}) == StreamVersion{0});

    std::vector<std::string> order;
    store->scan(LogPosition{2}, [&](const RecordedEvent& event) {
        order.push_back(event.envelope.aggregate_id() + std::to_string(event.envelope.aggregate_version()));
        return true;
    });
    CHECK(order == std::vector<std::string>{"a2", "b1", "a3"});
    CHECK(store->head() == LogPosition{4});
}

TEST_CASE("a stale expected version is a conflict and writes nothing", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    const StreamId a{"counter", "a"};
    REQUIRE(store->commit(append_to(a, ExpectedVersion::no_stream(), 1)).outcome == CommitOutcome::committed);

    auto stale = store->commit(append_to(a, ExpectedVersion::no_stream(), 1));
    CHECK(stale.outcome == CommitOutcome::conflict);
    CHECK(stale.conflict_stream == "counter/a");
    CHECK(stale.actual_version == StreamVersion{1});
    CHECK(store->head() == LogPosition{1});

    // A multi-stream commit is all or nothing: the second stream's conflict stops the first.
    Commit both = append_to(StreamId{"counter", "fresh"}, ExpectedVersion::no_stream(), 1);
    both.appends.push_back(append_to(a, ExpectedVersion::exactly(StreamVersion{7}), 1).appends.front());
    CHECK(store->commit(std::move(both)).outcome == CommitOutcome::conflict);
    CHECK(store->stream_version(StreamId{"counter", "fresh"}) == StreamVersion{0});
    CHECK(store->head() == LogPosition{1});
}

TEST_CASE("an idempotency key returns the first answer and writes once", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    Commit commit = append_to(StreamId{"counter", "a"}, ExpectedVersion::any(), 1);
    commit.idempotency_key = "cmd-1";
    commit.idempotency_answer = "first";
    Commit retry = commit;
    REQUIRE(store->commit(std::move(commit)).outcome == CommitOutcome::committed);
    auto second = store->commit(std::move(retry));
    CHECK(second.outcome == CommitOutcome::duplicate);
    CHECK(second.idempotency_answer == "first");
    CHECK(store->head() == LogPosition{1});
}

TEST_CASE("an inbox key is committed with the events and deduplicates", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    Commit commit = append_to(StreamId{"counter", "a"}, ExpectedVersion::any(), 1);
    commit.inbox_key = "consumer/event-1";
    Commit again = commit;
    CHECK_FALSE(store->was_processed("consumer/event-1"));
    REQUIRE(store->commit(std::move(commit)).outcome == CommitOutcome::committed);
    CHECK(store->was_processed("consumer/event-1"));
    CHECK(store->commit(std::move(again)).outcome == CommitOutcome::duplicate);
    CHECK(store->head() == LogPosition{1});
}

TEST_CASE("concurrent writers to one stream get conflicts and lose no version", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    const StreamId stream{"counter", "shared"};
    constexpr int kThreads = 8;
    constexpr int kPerThread = 50;
    std::atomic<int> conflicts{0};
    std::atomic<int> unexpected{0};  // Catch2 assertions are not thread-safe: count, check after
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&] {
            for (int i = 0; i < kPerThread;) {
                const StreamVersion seen = store->stream_version(stream);
                auto result = store->commit(append_to(stream, ExpectedVersion::exactly(seen), 1));
                if (result.outcome == CommitOutcome::conflict) {
                    ++conflicts;
                } else {
                    unexpected += result.outcome == CommitOutcome::committed ? 0 : 1;
                    ++i;
                }
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    CHECK(unexpected.load() == 0);
    const auto events = store->read_stream(stream);
    REQUIRE(events.size() == kThreads * kPerThread);
    for (std::size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i].envelope.aggregate_version() == i + 1);
    }
    CHECK(store->head() == LogPosition{kThreads * kPerThread});
    // 8 threads racing on one stream must have collided at least once.
    CHECK(conflicts.load() > 0);
}

TEST_CASE("group commit lands concurrent appends with contiguous positions", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    constexpr int kThreads = 8;
    constexpr int kPerThread = 100;
    std::atomic<int> unexpected{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            const StreamId stream{"counter", "s" + std::to_string(t)};
            for (int i = 0; i < kPerThread; ++i) {
                const auto outcome =
                    store->commit(append_to(stream, ExpectedVersion::exactly(StreamVersion{std::uint64_t(i)}), 1))
                        .outcome;
                unexpected += outcome == CommitOutcome::committed ? 0 : 1;
            }
        });
    }
    for (auto& writer : writers) {
        writer.join();
    }
    CHECK(unexpected.load() == 0);
    std::uint64_t count = 0;
    store->scan(LogPosition{1}, [&](const RecordedEvent& event) {
        CHECK(event.position == LogPosition{++count});
        return true;
    });
    CHECK(count == kThreads * kPerThread);
}

TEST_CASE("RocksDB logs into the service's log, never into a file on the data volume it may fill", "[store]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        REQUIRE(store->commit(append_to(StreamId{"counter", "a"}, ExpectedVersion::any(), 3)).outcome ==
                CommitOutcome::committed);
    }
    (void)EventStore::open(dir.path());  // a reopen would rotate the file into LOG.old.*
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        INFO(entry.path().filename().string());
        CHECK(entry.path().filename().string().rfind("LOG", 0) != 0);
    }
}

TEST_CASE("the log and its id survive a reopen", "[store]") {
    TempDir dir;
    std::string log_id;
    {
        auto store = EventStore::open(dir.path());
        log_id = store->log_id();
        REQUIRE(store->commit(append_to(StreamId{"counter", "a"}, ExpectedVersion::any(), 3)).outcome ==
                CommitOutcome::committed);
    }
    auto reopened = EventStore::open(dir.path());
    CHECK(reopened->head() == LogPosition{3});
    CHECK(reopened->log_id() == log_id);
    CHECK(reopened->commit(append_to(StreamId{"counter", "a"}, ExpectedVersion::exactly(StreamVersion{3}), 1)).last ==
          LogPosition{4});
}

TEST_CASE("a corrupted record is detected and never replayed", "[store]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        REQUIRE(store->commit(append_to(StreamId{"counter", "a"}, ExpectedVersion::any(), 3)).outcome ==
                CommitOutcome::committed);
    }
    {
        // Flip one byte of the second event's stored record behind the store's back.
        rocksdb::DB* raw = nullptr;
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::ColumnFamilyOptions family;
        REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path().string(),
                                  {{rocksdb::kDefaultColumnFamilyName, family},
                                   {"events", family},
                                   {"streams", family},
                                   {"meta", family},
                                   {"index", family},
                                   {"counts", family}},
                                  &handles, &raw)
                    .ok());
        const std::string key("\0\0\0\0\0\0\0\2", 8);
        std::string value;
        REQUIRE(raw->Get(rocksdb::ReadOptions(), handles[1], key, &value).ok());
        value[value.size() - 1] ^= 0x01;
        REQUIRE(raw->Put(rocksdb::WriteOptions(), handles[1], key, value).ok());
        for (auto* handle : handles) {
            REQUIRE(raw->DestroyColumnFamilyHandle(handle).ok());
        }
        delete raw;
    }
    auto store = EventStore::open(dir.path());
    std::vector<std::uint64_t> seen;
    CHECK_THROWS_AS(store->scan(LogPosition{1},
                                [&](const RecordedEvent& event) {
                                    seen.push_back(event.position.value);
                                    return true;
                                }),
                    CorruptRecordError);
    CHECK(seen == std::vector<std::uint64_t>{1});
    CHECK_THROWS_AS(store->read_stream(StreamId{"counter", "a"}), CorruptRecordError);
}

TEST_CASE("crc32c matches the standard check value", "[store]") {
    // The CRC-32C of "123456789" is 0xE3069283 (RFC 3720, appendix B.4).
    CHECK(crc32c("123456789") == 0xE3069283U);
    CHECK(crc32c("") == 0U);
}

TEST_CASE("invalid stream ids are refused", "[store]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    CHECK_THROWS_AS(store->commit(append_to(StreamId{"counter", ""}, ExpectedVersion::any(), 1)),
                    std::invalid_argument);
    CHECK(store->head() == LogPosition{0});
}
