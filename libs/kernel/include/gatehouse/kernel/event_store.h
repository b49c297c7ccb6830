// The event store: one service's append-only log of events on RocksDB.
//
// Layout (column families): `events` maps a LogPosition (8-byte big-endian) to a checksummed
// EventEnvelope; `streams` indexes each aggregate's events by version and keeps its head version;
// `meta` holds command idempotency keys, inbox "processed" records and named positions (relay
// position, number sequences); `index` and `counts` hold the read models' entries and counters
// (read_model.h). See docs/architecture.md.
//
// Every Commit is applied atomically: its events, their stream index entries, its idempotency key,
// its inbox record and its metadata updates go into one rocksdb::WriteBatch. Commits are applied by
// one committer thread that gathers all commits queued while the previous write was syncing and
// writes them with one WAL fsync ("group commit").
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/kernel/read_model.h"
#include "gatehouse/kernel/types.h"
#include "gatehouse/kernel/v1/envelope.pb.h"

namespace rocksdb {
class Env;
}

namespace gatehouse::kernel {

struct StoreOptions final {
    // true: every commit is fsynced to the WAL before it is acknowledged (the default).
    // false: commits reach the OS page cache only; a machine crash may lose the last ones
    // (a process crash does not).
    bool durable = true;
    // Upper bound of commits written in one group.
    std::size_t max_group_size = 512;
    // The id a NEW log gets (empty: a fresh random one). Set only when restoring a lost log from
    // its topic, so that positions already published keep their meaning (see log_restore.h).
    std::string log_id_for_new_log{};
    // The RocksDB environment (nullptr: the default). Tests pass one that injects storage faults.
    rocksdb::Env* env = nullptr;
};

// The events of one aggregate to append, with the version the writer expects the stream to have.
// The store fills in aggregate_type / aggregate_id / aggregate_version of each envelope.
struct StreamAppend final {
    StreamId stream;
    ExpectedVersion expected = ExpectedVersion::any();
    std::vector<v1::EventEnvelope> events;
};

// Everything that must become durable together.
struct Commit final {
    std::vector<StreamAppend> appends;
    // A command's idempotency key (already namespaced by the caller). If the key was committed
    // before, nothing is written and the outcome is `duplicate` with the first commit's answer.
    std::string idempotency_key;
    // The answer stored with the idempotency key (opaque to the store).
    std::string idempotency_answer;
    // Inbox record "this input event was processed". If present already, nothing is written and the
    // outcome is `duplicate`.
    std::string inbox_key;
    // Named metadata values (relay positions, sequences) written with the commit.
    std::vector<std::pair<std::string, std::string>> metadata;
    // Read-model entries and counters changed by the commit's events (read_model.h).
    IndexChanges index_changes;
};

enum class CommitOutcome {
    committed,  // durable
    conflict,   // a stream's version was not the expected one; nothing written; retryable
    duplicate,  // the idempotency key or inbox key was committed before; nothing written
};

struct CommitResult final {
    CommitOutcome outcome = CommitOutcome::committed;
    // Position of the commit's first and last event (both 0 when it had no events).
    LogPosition first{};
    LogPosition last{};
    // New version of each appended stream, in the order of Commit::appends.
    std::vector<StreamVersion> versions;
    // For `duplicate` through an idempotency key: the answer stored by the first commit.
    std::string idempotency_answer;
    // For `conflict`: which stream, and its actual version.
    std::string conflict_stream;
    StreamVersion actual_version{};
};

struct StoreStats final {
    std::uint64_t commits = 0;  // commits written (not counting conflicts and duplicates)
    std::uint64_t events = 0;   // events appended
    std::uint64_t groups = 0;   // RocksDB writes (one fsync each when durable): commits / groups = batching
    std::uint64_t conflicts = 0;
    std::uint64_t duplicates = 0;
};

// Where the store's memory is, from RocksDB's own accounting (bytes).
struct StoreMemory final {
    std::uint64_t memtables = 0;      // write buffers of every column family, flushed or not yet
    std::uint64_t table_readers = 0;  // index and filter blocks of open SST files held outside the cache
    std::uint64_t block_cache = 0;    // the shared block cache (data, index and filter blocks)
    std::uint64_t block_cache_capacity = 0;
};

// One event as read back from the log.
struct RecordedEvent final {
    LogPosition position{};
    v1::EventEnvelope envelope;
};

class EventStore final {
  public:
    // Opens (or creates) the store in `directory`. Throws StoreError if RocksDB cannot open it.
    static std::unique_ptr<EventStore> open(const std::filesystem::path& directory, StoreOptions options = {});
    ~EventStore();
    EventStore(const EventStore&) = delete;
    EventStore& operator=(const EventStore&) = delete;

    // Applies `commit` atomically; blocks until it is durable (per StoreOptions::durable).
    // Throws StorageUnavailable if the write fails (disk full, I/O error) and StoreError on any
    // other RocksDB failure; the commit is then not applied, nothing of it is written.
    [[nodiscard]] CommitResult commit(Commit commit);
    // Like commit, but `make` builds the commit while it is being queued: commits made this way are
    // written in the order their `make` ran (e.g. a sequence's increasing values), and concurrent
    // callers still share a group's fsync. `make` must be short and must not call the store.
    [[nodiscard]] CommitResult commit_in_queue_order(const std::function<Commit()>& make);

    // Events of one stream with version >= from, in version order.
    [[nodiscard]] std::vector<RecordedEvent> read_stream(const StreamId& stream, StreamVersion from = {1}) const;
    [[nodiscard]] StreamVersion stream_version(const StreamId& stream) const;

    // Calls `visit` for each event with position >= from, in log order, until it returns false.
    // The RecordedEvent passed in is reused between calls. Throws CorruptRecordError on a record
    // whose checksum does not match or that does not decode, and on a gap in positions.
    void scan(LogPosition from, const std::function<bool(const RecordedEvent&)>& visit) const;
    // Like scan, but hands out the raw stored envelope bytes (checksum verified, not decoded).
    void scan_raw(LogPosition from, const std::function<bool(LogPosition, std::string_view)>& visit) const;

    // Position of the last committed event (0 if the log is empty).
    [[nodiscard]] LogPosition head() const;
    // Waits until head() > after or the timeout passes; returns head().
    LogPosition wait_for_events_after(LogPosition after, std::chrono::milliseconds timeout) const;

    // Calls `visit` for every stream of `aggregate_type`, in aggregate id order, with all its events
    // in version order (the vector may be reused between calls). For rebuilding read models: memory
    // is bounded by the longest stream.
    void scan_streams(
        std::string_view aggregate_type,
        const std::function<void(const std::string& aggregate_id, std::vector<RecordedEvent>& events)>& visit) const;

    // --- read models (read_model.h) ---
    // Visits index entries with lower <= key < upper, in key order, until `visit` returns false.
    void scan_index(std::string_view lower, std::string_view upper,
                    const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
    [[nodiscard]] std::int64_t read_counter(const std::string& key) const;
    // Deletes every entry and counter whose key starts with `prefix` (before a rebuild).
    void clear_index(const std::string& prefix);
    // Writes index changes outside of a commit (a rebuild at start-up, before anything is served);
    // not synced: follow with sync() before recording the rebuild as complete.
    void write_index(const IndexChanges& changes);

    [[nodiscard]] bool was_processed(const std::string& inbox_key) const;
    // The answer stored with the commit of this idempotency key (Commit::idempotency_answer), if
    // one was committed.
    [[nodiscard]] std::optional<std::string> idempotency_answer(const std::string& idempotency_key) const;
    [[nodiscard]] std::optional<std::string> read_metadata(const std::string& key) const;

    // Writes metadata without waiting for an fsync (for positions that may safely fall behind,
    // such as the relay's published position).
    void write_metadata_lazily(const std::string& key, const std::string& value);

    // Records an input event as processed (as Commit::inbox_key does) without waiting for an fsync:
    // for an event its handler ignored, where nothing else is written. It is as safe from a crash
    // of the process as a commit, and becomes safe from a power loss with the next synced write;
    // after a power loss before that, the event may be read and judged again, which changes
    // nothing for an event that is ignored. Saves an fsync per ignored event: a service that reads
    // a topic mostly for a few event types no longer pays a synced write for each of the others.
    void mark_processed_lazily(const std::string& inbox_key);

    // Makes every commit so far durable (an fsync of the write-ahead log): for bulk loads with
    // StoreOptions::durable = false, such as restoring a log from its topic.
    void sync();

    [[nodiscard]] const std::filesystem::path& directory() const;
    [[nodiscard]] StoreStats stats() const;
    [[nodiscard]] StoreMemory memory() const;
    // Why writes fail right now (the last failed write's error), empty while they work.
    [[nodiscard]] std::string write_failure() const;
    // After a failed write: asks RocksDB to resume writing (it refuses writes after a failed one);
    // true, and write_failure() empty, once it does. Commits also try this first while failing.
    bool try_resume();
    // A random id given to this log when it was created. Positions are only comparable within one
    // log: the relay writes the id next to each position it publishes.
    [[nodiscard]] const std::string& log_id() const;

  private:
    struct Impl;
    explicit EventStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The checksum stored with each record (CRC-32C, Castagnoli).
std::uint32_t crc32c(std::string_view data);

}  // namespace gatehouse::kernel
