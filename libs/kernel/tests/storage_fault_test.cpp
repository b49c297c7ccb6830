// Storage faults, injected under RocksDB (a FileSystem wrapper, as RocksDB's own fault-injection
// tests do): a write that fails writes nothing of its commit, commands answer "unavailable", and
// the store writes again once the fault is gone, with log, read models and idempotency records
// consistent.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <catch2/catch.hpp>

#include <atomic>

#include "counter_domain.h"
#include "gatehouse/kernel/decider.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/testing/temp_dir.h"
#include "gatehouse/testing/wait_until.h"

using namespace gatehouse::kernel;
using gatehouse::testing::Counter;
using gatehouse::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// A disk that can be made full: while `full`, every append, sync and new file fails with NoSpace.
class FillableFileSystem final : public rocksdb::FileSystemWrapper {
  public:
    explicit FillableFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}
    [[nodiscard]] const char* Name() const override { return "FillableFileSystem"; }

    rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* debug) override {
        if (full) {
            return rocksdb::IOStatus::NoSpace("injected: the disk is full");
        }
        rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, debug);
        if (status.ok()) {
            *result = std::make_unique<File>(std::move(*result), full);
        }
        return status;
    }

    std::atomic<bool> full{false};

  private:
    class File final : public rocksdb::FSWritableFileOwnerWrapper {
      public:
        File(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>& full)
            : FSWritableFileOwnerWrapper(std::move(file)), full_(full) {}
        rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                                 rocksdb::IODebugContext* debug) override {
            return full_ ? rocksdb::IOStatus::NoSpace("injected: the disk is full")
                         : target()->Append(data, options, debug);
        }
        rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                                 const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* debug) override {
            return full_ ? rocksdb::IOStatus::NoSpace("injected: the disk is full")
                         : target()->Append(data, options, info, debug);
        }
        rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
            return full_ ? rocksdb::IOStatus::NoSpace("injected: the disk is full") : target()->Sync(options, debug);
        }
        rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* debug) override {
            return full_ ? rocksdb::IOStatus::NoSpace("injected: the disk is full") : target()->Fsync(options, debug);
        }

      private:
        const std::atomic<bool>& full_;
    };
};

}  // namespace

TEST_CASE(
    "a full disk fails the command as unavailable and writes nothing of it, and the store writes again once there "
    "is space, with log, read model and idempotency records consistent",
    "[store][faults]") {
    TempDir dir;
    auto disk = std::make_shared<FillableFileSystem>(rocksdb::FileSystem::Default());
    const std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
    {
        auto store = EventStore::open(dir.path(), {.env = env.get()});
        AggregateRuntime<Counter> counters(*store, {"tests"}, gatehouse::testing::counter_read_model());
        (void)counters.bring_up_to_date();
        REQUIRE(std::holds_alternative<Accepted<Counter::Event>>(
            counters.execute("c1", Counter::Create{"one"}, {.idempotency_key = "create-1"})));

        disk->full = true;
        const auto refused = counters.execute("c1", Counter::Increment{5, ""}, {.idempotency_key = "add-5"});
        REQUIRE(std::holds_alternative<Rejection>(refused));
        CHECK(std::get<Rejection>(refused).code == RejectionCode::unavailable);
        CHECK_THAT(store->write_failure(), Catch::Contains("the disk is full"));
        CHECK_FALSE(store->try_resume());  // still full
        // A reaction's command (an inbox key) gets the exception: its inbox waits and retries.
        CHECK_THROWS_AS(counters.execute("c1", Counter::Increment{1, ""}, {.inbox_key = "consumer/event-1"}),
                        StorageUnavailable);
        CHECK(store->head() == LogPosition{1});
        CHECK_FALSE(counters.previous_answer("add-5"));
        CHECK_FALSE(store->was_processed("consumer/event-1"));
        CHECK(counters.find("c1")->state.value == 0);

        disk->full = false;
        // RocksDB may write again in place (Resume(); some errors it recovers from by itself);
        // after a failed write-ahead-log append it refuses for good, and only a reopen recovers:
        // what the service runtime does by exiting for a restart (see service_runtime.h).
        if (gatehouse::testing::wait_until([&] { return store->try_resume(); }, 2s, 50ms)) {
            CHECK(store->write_failure().empty());
        }
    }
    {
        auto store = EventStore::open(dir.path(), {.env = env.get()});
        AggregateRuntime<Counter> counters(*store, {"tests"}, gatehouse::testing::counter_read_model());
        (void)counters.bring_up_to_date();
        CHECK(store->head() == LogPosition{1});  // nothing of the refused commits
        const auto accepted = counters.execute("c1", Counter::Increment{5, ""}, {.idempotency_key = "add-5"});
        REQUIRE(std::holds_alternative<Accepted<Counter::Event>>(accepted));
        CHECK(std::get<Accepted<Counter::Event>>(accepted).version == StreamVersion{2});
        CHECK(counters.differences_from_log().empty());
    }
    // Reopened (without the faulty disk): exactly the commits that were acknowledged.
    auto store = EventStore::open(dir.path());
    AggregateRuntime<Counter> counters(*store, {"tests"}, gatehouse::testing::counter_read_model());
    (void)counters.bring_up_to_date();
    CHECK(store->head() == LogPosition{2});
    CHECK(counters.find("c1")->state.value == 5);
    CHECK(counters.differences_from_log().empty());
    CHECK(counters.previous_answer("add-5"));
}

TEST_CASE(
    "a full disk fails a lazily written metadata record (the relay's position) as unavailable, a passing failure, "
    "not as a broken store",
    "[store][faults]") {
    TempDir dir;
    auto disk = std::make_shared<FillableFileSystem>(rocksdb::FileSystem::Default());
    const std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(disk);
    auto store = EventStore::open(dir.path(), {.env = env.get()});
    store->write_metadata_lazily("relay/topic", "1");

    disk->full = true;
    // Found by the chaos run: this threw StoreError, which stopped the relay and the service (exit 1).
    CHECK_THROWS_AS(store->write_metadata_lazily("relay/topic", "2"), StorageUnavailable);
    CHECK_THAT(store->write_failure(), Catch::Contains("the disk is full"));
    CHECK_THROWS_AS(store->write_metadata_lazily("relay/topic", "3"), StorageUnavailable);  // still full
    CHECK(store->read_metadata("relay/topic") == "1");
}
