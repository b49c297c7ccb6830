#include <catch2/catch.hpp>

#include <atomic>
#include <sstream>
#include <thread>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::kernel;
using gatehouse::testing::Counter;
using gatehouse::testing::TempDir;

namespace {

template <class Result>
Accepted<Counter::Event> accepted(const Result& result) {
    if (const auto* rejection = std::get_if<Rejection>(&result)) {
        FAIL("rejected: " << rejection->message);
    }
    return std::get<Accepted<Counter::Event>>(result);
}

// The counter with snapshots: its state as text, "exists closed value increments name".
template <std::uint32_t Format>
struct SnapshotCounterOf {
    using Event = Counter::Event;
    using Command = Counter::Command;
    using State = Counter::State;
    using Create = Counter::Create;
    using Increment = Counter::Increment;
    static constexpr std::string_view kAggregateType = Counter::kAggregateType;
    static State initial() { return Counter::initial(); }
    static Decision<Event> decide(const Command& command, const State& state) {
        return Counter::decide(command, state);
    }
    static State evolve(State state, const Event& event) { return Counter::evolve(std::move(state), event); }

    static constexpr std::uint32_t kSnapshotFormat = Format;
    static inline std::atomic<int> restores{0};

    static std::string snapshot(const State& state) {
        std::ostringstream out;
        out << state.exists << ' ' << state.closed << ' ' << state.value << ' ' << state.increments << ' '
            << state.name;
        return out.str();
    }
    static std::optional<State> restore(std::string_view bytes) {
        ++restores;
        std::istringstream in{std::string(bytes)};
        State state;
        if (!(in >> state.exists >> state.closed >> state.value >> state.increments)) {
            return std::nullopt;
        }
        in.get();
        std::getline(in, state.name);
        return state;
    }
};
using SnapshotCounter = SnapshotCounterOf<1>;
static_assert(Snapshotting<SnapshotCounter>);
static_assert(!Snapshotting<Counter>);

// The stored snapshot's version (its first 8 bytes, big-endian), 0 if there is none.
std::uint64_t snapshot_version(const EventStore& store, const std::string& id) {
    const auto bytes = store.read_metadata("s/counter/" + id);
    std::uint64_t version = 0;
    for (std::size_t i = 0; bytes && i < 8; ++i) {
        version = (version << 8) | static_cast<unsigned char>((*bytes)[i]);
    }
    return version;
}

}  // namespace

TEST_CASE("given no events when create then created", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    const auto result = accepted(counters.execute("c1", Counter::Create{"first"}, {.correlation_id = "corr-1"}));
    REQUIRE(result.events.size() == 1);
    CHECK(result.events[0].created().name() == "first");
    CHECK(result.version == StreamVersion{1});

    const auto stored = store->read_stream(StreamId{"counter", "c1"});
    REQUIRE(stored.size() == 1);
    const auto& envelope = stored[0].envelope;
    CHECK(envelope.event_type() == "gatehouse.testing.v1.CounterCreated");
    CHECK(envelope.producer() == "tests");
    CHECK(envelope.correlation_id() == "corr-1");
    CHECK(envelope.event_id().size() == 36);
    CHECK(envelope.occurred_at().seconds() > 0);
}

TEST_CASE("an event's occurred_at is the time of the command, to the microsecond, not the second", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    const auto before = std::chrono::system_clock::now();
    (void)accepted(counters.execute("c1", Counter::Create{"first"}));
    const auto after = std::chrono::system_clock::now();
    const auto stored = store->read_stream(StreamId{"counter", "c1"});
    REQUIRE(stored.size() == 1);
    const auto occurred = to_time_point(stored[0].envelope.occurred_at());
    CHECK(occurred >= before);  // a clock of whole seconds would be up to 1 s before
    CHECK(occurred <= after);
}

TEST_CASE("rejections are values and write nothing", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    auto missing = counters.execute("c1", Counter::Increment{1, ""});
    REQUIRE(std::holds_alternative<Rejection>(missing));
    CHECK(std::get<Rejection>(missing).code == RejectionCode::not_found);

    (void)accepted(counters.execute("c1", Counter::Create{"x"}));
    auto bad = counters.execute("c1", Counter::Increment{0, ""});
    REQUIRE(std::holds_alternative<Rejection>(bad));
    CHECK(std::get<Rejection>(bad).code == RejectionCode::invalid_argument);
    (void)accepted(counters.execute("c1", Counter::Close{"done"}));
    auto closed = counters.execute("c1", Counter::Increment{1, ""});
    REQUIRE(std::holds_alternative<Rejection>(closed));
    CHECK(std::get<Rejection>(closed).code == RejectionCode::failed_precondition);
    CHECK(store->head() == LogPosition{2});
}

TEST_CASE("a retried command with the same idempotency key returns the first answer", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    (void)accepted(counters.execute("c1", Counter::Create{"x"}));
    const auto first = accepted(counters.execute("c1", Counter::Increment{5, ""}, {.idempotency_key = "k1"}));
    const auto retry = accepted(counters.execute("c1", Counter::Increment{5, ""}, {.idempotency_key = "k1"}));
    CHECK_FALSE(first.duplicate);
    CHECK(retry.duplicate);
    REQUIRE(retry.events.size() == 1);
    CHECK(retry.events[0].incremented().amount() == 5);
    CHECK(retry.version == first.version);
    CHECK(counters.find("c1")->state.value == 5);
    CHECK(store->head() == LogPosition{2});
}

TEST_CASE("concurrent commands on one aggregate retry on conflict and lose nothing", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    (void)accepted(counters.execute("c1", Counter::Create{"x"}));
    constexpr int kThreads = 6;
    constexpr int kPerThread = 40;
    std::vector<std::thread> threads;
    std::atomic<int> rejected{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerThread; ++i) {
                if (!std::holds_alternative<Accepted<Counter::Event>>(
                        counters.execute("c1", Counter::Increment{1, ""}))) {
                    ++rejected;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(rejected.load() == 0);
    CHECK(counters.find("c1")->state.value == kThreads * kPerThread);
    CHECK(counters.find("c1")->version == StreamVersion{kThreads * kPerThread + 1});
}

TEST_CASE("state is loaded on demand from the log after a restart", "[decider]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        AggregateRuntime<Counter> counters(*store, {"tests"});
        for (int c = 0; c < 10; ++c) {
            const std::string id = "c" + std::to_string(c);
            (void)accepted(counters.execute(id, Counter::Create{id}));
            for (int i = 0; i <= c; ++i) {
                (void)accepted(counters.execute(id, Counter::Increment{2, ""}));
            }
        }
    }
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"});
    for (int c = 0; c < 10; ++c) {
        const auto found = counters.find("c" + std::to_string(c));
        REQUIRE(found);
        CHECK(found->state.value == 2 * (c + 1));
        CHECK(found->version == StreamVersion{std::uint64_t(c + 2)});
    }
    CHECK_FALSE(counters.find("c10"));
    // The loaded state decides on the right version.
    CHECK(accepted(counters.execute("c3", Counter::Increment{1, ""})).version == StreamVersion{6});
}

TEST_CASE("a cache bounded to two aggregates still decides on the current state of each", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {.producer = "tests", .cache_capacity = 2});
    for (int c = 0; c < 5; ++c) {
        (void)accepted(counters.execute("c" + std::to_string(c), Counter::Create{"n"}));
    }
    for (int round = 1; round <= 3; ++round) {
        for (int c = 0; c < 5; ++c) {
            CHECK(accepted(counters.execute("c" + std::to_string(c), Counter::Increment{c + 1, ""})).version ==
                  StreamVersion{std::uint64_t(round + 1)});
        }
    }
    for (int c = 0; c < 5; ++c) {
        CHECK(counters.find("c" + std::to_string(c))->state.value == 3 * (c + 1));
    }
}

TEST_CASE("an event the domain does not know stops the replay", "[decider]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    Commit commit;
    StreamAppend& append = commit.appends.emplace_back();
    append.stream = StreamId{"counter", "c1"};
    v1::EventEnvelope envelope;
    envelope.set_event_id("e1");
    envelope.set_event_type("gatehouse.testing.v1.FromTheFuture");
    append.events.push_back(envelope);
    REQUIRE(store->commit(std::move(commit)).outcome == CommitOutcome::committed);
    AggregateRuntime<Counter> counters(*store, {"tests"}, gatehouse::testing::counter_read_model());
    CHECK_THROWS_AS(counters.find("c1"), CorruptRecordError);
    CHECK_THROWS_AS(counters.bring_up_to_date(), CorruptRecordError);
}

TEST_CASE("a snapshot is stored with the event that reaches each multiple of snapshot_every", "[decider][snapshot]") {
    TempDir dir;
    auto store = EventStore::open(dir.path());
    AggregateRuntime<SnapshotCounter> counters(*store, {.producer = "tests", .snapshot_every = 10});
    (void)accepted(counters.execute("c", SnapshotCounter::Create{"with a name"}));
    for (int i = 1; i <= 8; ++i) {
        (void)accepted(counters.execute("c", SnapshotCounter::Increment{1, ""}));
    }
    CHECK(snapshot_version(*store, "c") == 0);  // version 9: none yet
    (void)accepted(counters.execute("c", SnapshotCounter::Increment{1, ""}));
    CHECK(snapshot_version(*store, "c") == 10);
    for (int i = 1; i <= 14; ++i) {
        (void)accepted(counters.execute("c", SnapshotCounter::Increment{2, ""}));
    }
    CHECK(snapshot_version(*store, "c") == 20);  // version 24: the newest multiple of 10 reached

    // A domain without snapshots writes none, whatever the setting.
    AggregateRuntime<Counter> plain(*store, {.producer = "tests", .snapshot_every = 1});
    (void)accepted(plain.execute("p", Counter::Create{"p"}));
    (void)accepted(plain.execute("p", Counter::Increment{1, ""}));
    CHECK_FALSE(store->read_metadata("s/counter/p"));
}

TEST_CASE("loading starts from the newest snapshot and folds only the events after it", "[decider][snapshot]") {
    TempDir dir;
    {
        auto store = EventStore::open(dir.path());
        AggregateRuntime<SnapshotCounter> counters(*store, {.producer = "tests", .snapshot_every = 10});
        (void)accepted(counters.execute("c", SnapshotCounter::Create{"two words"}));
        for (int i = 1; i <= 24; ++i) {
            (void)accepted(counters.execute("c", SnapshotCounter::Increment{1, ""}));
        }
    }
    auto store = EventStore::open(dir.path());
    SECTION("the state is the same as a fold of the whole stream") {
        SnapshotCounter::restores = 0;
        AggregateRuntime<SnapshotCounter> counters(*store, {.producer = "tests", .snapshot_every = 10});
        const auto found = counters.find("c");
        REQUIRE(found);
        CHECK(SnapshotCounter::restores == 1);
        CHECK(found->state.value == 24);
        CHECK(found->state.increments == 24);
        CHECK(found->state.name == "two words");
        CHECK(found->version == StreamVersion{25});
        // And it decides on the right version.
        CHECK(accepted(counters.execute("c", SnapshotCounter::Increment{1, ""})).version == StreamVersion{26});
    }
    SECTION("only the events after the snapshot are folded onto it") {
        // A snapshot at version 20 that says 1000: what a load returns proves where it started.
        std::string forged(8, '\0');
        forged[7] = 20;
        forged += std::string("\0\0\0\1", 4) + SnapshotCounter::snapshot({true, false, "forged", 1000, 0});
        Commit commit;
        commit.metadata.emplace_back("s/counter/c", forged);
        (void)store->commit(std::move(commit));
        AggregateRuntime<SnapshotCounter> counters(*store, {.producer = "tests", .snapshot_every = 10});
        const auto found = counters.find("c");
        CHECK(found->state.value == 1005);  // 1000, then versions 21..25: five increments of 1
        CHECK(found->state.name == "forged");
        // With snapshots off, the stream is folded from its start.
        AggregateRuntime<SnapshotCounter> without(*store, {.producer = "tests"});
        CHECK(without.find("c")->state.value == 24);
    }
    SECTION("a snapshot of another format is not used, and the next one replaces it") {
        using Reformatted = SnapshotCounterOf<2>;
        Reformatted::restores = 0;
        AggregateRuntime<Reformatted> counters(*store, {.producer = "tests", .snapshot_every = 10});
        CHECK(counters.find("c")->state.value == 24);
        CHECK(Reformatted::restores == 0);
        for (int i = 1; i <= 5; ++i) {
            (void)accepted(counters.execute("c", Reformatted::Increment{1, ""}));
        }
        CHECK(snapshot_version(*store, "c") == 30);
        AggregateRuntime<Reformatted> reloaded(*store, {.producer = "tests", .snapshot_every = 10});
        CHECK(reloaded.find("c")->state.value == 29);
        CHECK(Reformatted::restores == 1);
    }
    SECTION("a snapshot that does not restore is skipped") {
        Commit commit;
        std::string broken(8, '\0');
        broken[7] = 20;
        broken += std::string("\0\0\0\1", 4) + "not a counter";
        commit.metadata.emplace_back("s/counter/c", broken);
        (void)store->commit(std::move(commit));
        AggregateRuntime<SnapshotCounter> counters(*store, {.producer = "tests", .snapshot_every = 10});
        CHECK(counters.find("c")->state.value == 24);
    }
}
