#include "gatehouse/kernel/event_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <array>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "rocks_helpers.h"

namespace gatehouse::kernel {
namespace {

constexpr std::size_t kChecksumBytes = 4;
// Stream head versions kept in memory (see write_group).
constexpr std::size_t kStreamHeadsCached = 100'000;

// Keys in the `streams` family: "v" + stream + version (8 bytes, big-endian) -> position. A stream's
// head version is its last key (cached in memory by the committer).
std::string stream_key(const StreamId& stream) {
    if (stream.aggregate_type.empty() || stream.aggregate_id.empty()) {
        throw std::invalid_argument("aggregate type and id must not be empty");
    }
    if (stream.aggregate_type.find('\0') != std::string::npos || stream.aggregate_id.find('\0') != std::string::npos) {
        throw std::invalid_argument("aggregate type and id must not contain NUL");
    }
    std::string key = stream.aggregate_type;
    key.push_back('\0');
    key += stream.aggregate_id;
    key.push_back('\0');
    return key;
}

std::string version_key(const std::string& stream, std::uint64_t version) {
    std::string key = "v" + stream;
    rocks::append_big_endian(key, version);
    return key;
}
std::string idempotency_meta_key(const std::string& key) { return "i/" + key; }
std::string inbox_meta_key(const std::string& key) { return "x/" + key; }

std::string encode_record(const v1::EventEnvelope& envelope) {
    std::string record(kChecksumBytes, '\0');
    envelope.AppendToString(&record);
    const std::uint32_t checksum = crc32c(std::string_view(record).substr(kChecksumBytes));
    std::memcpy(record.data(), &checksum, kChecksumBytes);
    return record;
}

// Verifies a stored record's checksum and returns its envelope bytes.
std::string_view verified_payload(LogPosition position, std::string_view record) {
    if (record.size() < kChecksumBytes) {
        throw CorruptRecordError("event at log position " + std::to_string(position.value) + " is truncated");
    }
    std::uint32_t stored = 0;
    std::memcpy(&stored, record.data(), kChecksumBytes);
    const std::string_view payload = record.substr(kChecksumBytes);
    if (crc32c(payload) != stored) {
        throw CorruptRecordError("event at log position " + std::to_string(position.value) +
                                 " fails its checksum; the log is damaged and will not be replayed past it");
    }
    return payload;
}

void decode_into(LogPosition position, std::string_view record, RecordedEvent& out) {
    const std::string_view payload = verified_payload(position, record);
    out.position = position;
    if (!out.envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        throw CorruptRecordError("event at log position " + std::to_string(position.value) + " does not decode");
    }
}

// The `counts` family's values: a signed 64-bit count, little-endian; commits add deltas to it
// with Merge, so that concurrent commits in one group never read-modify-write a counter.
std::string encode_count(std::int64_t value) {
    std::string bytes(sizeof value, '\0');
    std::memcpy(bytes.data(), &value, sizeof value);
    return bytes;
}

std::int64_t decode_count(std::string_view bytes) {
    std::int64_t value = 0;
    if (bytes.size() == sizeof value) {
        std::memcpy(&value, bytes.data(), sizeof value);
    }
    return value;
}

class CountAddOperator final : public rocksdb::AssociativeMergeOperator {
  public:
    bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
               std::string* new_value, rocksdb::Logger*) const override {
        const std::int64_t base = existing == nullptr ? 0 : decode_count(existing->ToStringView());
        *new_value = encode_count(base + decode_count(value.ToStringView()));
        return true;
    }
    const char* Name() const override { return "gatehouse.CountAdd"; }
};

// A consistent view for one multi-key read, released however the read ends.
class ReadSnapshot final {
  public:
    explicit ReadSnapshot(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
    ~ReadSnapshot() { db_.ReleaseSnapshot(snapshot_); }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;
    [[nodiscard]] const rocksdb::Snapshot* get() const { return snapshot_; }

  private:
    rocksdb::DB& db_;
    const rocksdb::Snapshot* snapshot_;
};

// The smallest key greater than every key that starts with `prefix`.
std::string prefix_end(std::string prefix) {
    while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) {
        prefix.pop_back();
    }
    if (!prefix.empty()) {
        prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
    }
    return prefix;  // empty: no upper bound
}

}  // namespace

struct EventStore::Impl {
    std::filesystem::path directory;
    std::string log_id;
    StoreOptions options;
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::ColumnFamilyHandle* events = nullptr;
    rocksdb::ColumnFamilyHandle* streams = nullptr;
    rocksdb::ColumnFamilyHandle* meta = nullptr;
    rocksdb::ColumnFamilyHandle* index = nullptr;
    rocksdb::ColumnFamilyHandle* counts = nullptr;
    std::shared_ptr<rocksdb::Cache> block_cache;

    // Group commit (leader / follower, as RocksDB's own write path): a committing thread queues its
    // commit; the first one to find no leader writes everything queued in one batch for all.
    // Each waiter sleeps on its own condition variable: the leader wakes exactly the members of
    // its group, and the next one in line to lead, not every waiting thread.
    struct Pending {
        Commit commit;
        CommitResult result;
        std::exception_ptr error;
        bool done = false;
        std::condition_variable wake;
    };
    mutable std::mutex queue_mutex;
    std::deque<Pending*> queue;
    bool leader_active = false;

    // Head version of each stream seen so far. Only the leader reads or writes it (the leader
    // role is exclusive), so it needs no lock; it saves one RocksDB read per append.
    std::unordered_map<std::string, std::uint64_t> stream_heads;

    // The last committed position, published after each group for tailing readers.
    mutable std::mutex head_mutex;
    mutable std::condition_variable head_cv;
    LogPosition head{};   // guarded by head_mutex; written only by the leader
    StoreStats stats;     // guarded by head_mutex
    std::string failing;  // guarded by head_mutex: the last failed write's error, until a resume

    [[nodiscard]] std::string write_failure() const {
        std::lock_guard lock(head_mutex);
        return failing;
    }
    void set_write_failure(std::string why) {
        std::lock_guard lock(head_mutex);
        failing = std::move(why);
    }
    // RocksDB stops writing after a failed write until Resume() (which flushes and starts a new
    // write-ahead log); it may be called from any thread.
    bool resume() {
        const rocksdb::Status status = db->Resume();
        if (!status.ok()) {
            // Keep the cause (e.g. "No space left on device"): a failed resume says only that the
            // store is busy or still failing.
            std::lock_guard lock(head_mutex);
            const std::string cause = failing.substr(0, failing.find(" (resume: "));
            failing =
                (cause.empty() ? std::string() : cause + " (resume: ") + status.ToString() + (cause.empty() ? "" : ")");
            return false;
        }
        set_write_failure({});
        return true;
    }

    ~Impl() {
        if (db) {
            // A clean close leaves nothing in the write-ahead log to replay at the next start.
            (void)db->Flush(rocksdb::FlushOptions(), handles);
        }
        for (auto* handle : handles) {
            if (db) {
                (void)db->DestroyColumnFamilyHandle(handle);
            }
        }
        if (db) {
            (void)db->Close();
        }
    }

    // A metadata write outside the group commit, not synced. A failure outside the store (disk
    // full, an I/O error) is a passing one, as for a commit: the caller (the relay's position, an
    // inbox record) waits and tries again instead of stopping the service.
    void put_unsynced(const std::string& key, const std::string& value, const std::string& what) {
        if (!write_failure().empty() && !resume()) {
            throw StorageUnavailable("the store cannot write: " + write_failure());
        }
        rocksdb::WriteOptions write_options;
        write_options.sync = false;
        const rocksdb::Status status = db->Put(write_options, meta, key, value);
        if (status.IsIOError() || status.IsNoSpace() || status.IsIOFenced()) {
            set_write_failure(status.ToString());
            throw StorageUnavailable("RocksDB failed to write " + what + ": " + status.ToString());
        }
        rocks::check(status, "write " + what);
    }

    std::optional<std::string> get(rocksdb::ColumnFamilyHandle* family, const std::string& key) const {
        std::string value;
        const rocksdb::Status status = db->Get(rocksdb::ReadOptions(), family, key, &value);
        if (status.IsNotFound()) {
            return std::nullopt;
        }
        rocks::check(status, "read");
        return value;
    }

    // The last version indexed for a stream (0 if none).
    std::uint64_t stored_head(const std::string& stream) const {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), streams));
        std::string upper = "v" + stream;
        upper.append(8, '\xff');
        it->SeekForPrev(upper);
        std::uint64_t version = 0;
        if (it->Valid() && it->key().starts_with("v" + stream)) {
            version = rocks::read_big_endian(it->key().ToStringView());
        }
        rocks::check(it->status(), "read a stream's head");
        return version;
    }

    // The event a `streams` entry points to, read with `read_options` (its snapshot).
    void read_event(const rocksdb::ReadOptions& read_options, std::string_view stream_entry_value,
                    RecordedEvent& out) const {
        const LogPosition position{rocks::read_big_endian(stream_entry_value)};
        std::string record;
        rocks::check(db->Get(read_options, events, rocks::big_endian_key(position.value), &record),
                     "read event " + std::to_string(position.value));
        decode_into(position, record, out);
    }

    LogPosition current_head() const {
        std::lock_guard lock(head_mutex);
        return head;
    }

    void write_group(std::vector<Pending*>& group);
};

void EventStore::Impl::write_group(std::vector<Pending*>& group) {
    // What this group has already written, so that later commits in it see earlier ones.
    std::unordered_map<std::string, std::uint64_t> head_overlay;
    std::unordered_set<std::string> keys_overlay;
    rocksdb::WriteBatch batch;
    LogPosition next = current_head().next();
    const auto occurred = [&](const std::string& meta_key) {
        return keys_overlay.contains(meta_key) || get(meta, meta_key).has_value();
    };

    for (Pending* pending : group) {
        Commit& commit = pending->commit;
        CommitResult& result = pending->result;
        bool saved = false;
        try {
            if (!commit.idempotency_key.empty()) {
                const std::string key = idempotency_meta_key(commit.idempotency_key);
                if (keys_overlay.contains(key)) {
                    result.outcome = CommitOutcome::duplicate;
                    continue;  // answer filled in after the write, when it is durable
                }
                if (auto answer = get(meta, key)) {
                    result.outcome = CommitOutcome::duplicate;
                    result.idempotency_answer = std::move(*answer);
                    continue;
                }
            }
            if (!commit.inbox_key.empty() && occurred(inbox_meta_key(commit.inbox_key))) {
                result.outcome = CommitOutcome::duplicate;
                continue;
            }
            // Check every stream first, so that a conflict leaves nothing half-written in the batch.
            std::vector<std::string> keys;
            std::vector<std::uint64_t> current_versions;
            bool conflicted = false;
            for (const StreamAppend& append : commit.appends) {
                keys.push_back(stream_key(append.stream));
                std::uint64_t current = 0;
                if (auto found = head_overlay.find(keys.back()); found != head_overlay.end()) {
                    current = found->second;
                } else if (auto cached = stream_heads.find(keys.back()); cached != stream_heads.end()) {
                    current = cached->second;
                } else {
                    current = stored_head(keys.back());
                }
                current_versions.push_back(current);
                if (!append.expected.is_any && append.expected.version.value != current && !conflicted) {
                    conflicted = true;
                    result.outcome = CommitOutcome::conflict;
                    result.conflict_stream = append.stream.to_string();
                    result.actual_version = StreamVersion{current};
                }
            }
            if (conflicted) {
                continue;
            }
            // A commit that throws half-way takes back what it put in the shared batch.
            batch.SetSavePoint();
            saved = true;
            CommitResult written;
            LogPosition position = next;
            std::vector<std::pair<std::string, std::uint64_t>> new_heads;
            for (std::size_t i = 0; i < commit.appends.size(); ++i) {
                StreamAppend& append = commit.appends[i];
                std::uint64_t version = current_versions[i];
                for (v1::EventEnvelope& envelope : append.events) {
                    ++version;
                    envelope.set_aggregate_type(append.stream.aggregate_type);
                    envelope.set_aggregate_id(append.stream.aggregate_id);
                    envelope.set_aggregate_version(version);
                    if (written.first.value == 0) {
                        written.first = position;
                    }
                    written.last = position;
                    batch.Put(events, rocks::big_endian_key(position.value), encode_record(envelope));
                    std::string position_value;
                    rocks::append_big_endian(position_value, position.value);
                    batch.Put(streams, version_key(keys[i], version), position_value);
                    position = position.next();
                }
                new_heads.emplace_back(keys[i], version);
                written.versions.push_back(StreamVersion{version});
            }
            std::vector<std::string> new_keys;
            if (!commit.idempotency_key.empty()) {
                new_keys.push_back(idempotency_meta_key(commit.idempotency_key));
                batch.Put(meta, new_keys.back(), commit.idempotency_answer);
            }
            if (!commit.inbox_key.empty()) {
                new_keys.push_back(inbox_meta_key(commit.inbox_key));
                std::string value;
                rocks::append_big_endian(value, written.last.value);
                batch.Put(meta, new_keys.back(), value);
            }
            for (const auto& [key, value] : commit.metadata) {
                batch.Put(meta, key, value);
            }
            for (const std::string& key : commit.index_changes.deletes) {
                batch.Delete(index, key);
            }
            for (const auto& [key, value] : commit.index_changes.puts) {
                batch.Put(index, key, value);
            }
            for (const auto& [key, delta] : commit.index_changes.counter_deltas) {
                batch.Merge(counts, key, encode_count(delta));
            }
            // All of the commit is in the batch: only now does it become visible to the group.
            rocks::check(batch.PopSavePoint(), "keep a commit");
            saved = false;
            written.outcome = CommitOutcome::committed;
            result = std::move(written);
            next = position;
            for (auto& [key, version] : new_heads) {
                head_overlay[key] = version;
            }
            keys_overlay.insert(new_keys.begin(), new_keys.end());
        } catch (...) {
            if (saved) {
                rocks::check(batch.RollbackToSavePoint(), "take back a failed commit");
            }
            pending->error = std::current_exception();
        }
    }

    if (batch.Count() > 0) {
        if (!write_failure().empty() && !resume()) {
            throw StorageUnavailable("the store cannot write: " + write_failure());
        }
        rocksdb::WriteOptions write_options;
        write_options.sync = options.durable;
        const rocksdb::Status status = db->Write(write_options, &batch);
        if (status.IsIOError() || status.IsNoSpace() || status.IsIOFenced()) {
            set_write_failure(status.ToString());
            throw StorageUnavailable("RocksDB failed to append: " + status.ToString());
        }
        rocks::check(status, "append");
    }
    // Durable now: the group's stream heads become the known heads. The map is a cache of recent
    // streams (a miss costs one RocksDB seek); it is emptied when it grows past its bound, so that
    // its memory does not grow with the number of streams ever written.
    if (stream_heads.size() + head_overlay.size() > kStreamHeadsCached) {
        stream_heads.clear();
    }
    for (auto& [stream, version] : head_overlay) {
        stream_heads.insert_or_assign(stream, version);
    }
    {
        std::lock_guard lock(head_mutex);
        for (const Pending* pending : group) {
            if (pending->error) {
                continue;
            }
            switch (pending->result.outcome) {
                case CommitOutcome::committed:
                    ++stats.commits;
                    stats.events += pending->result.first.value == 0
                                        ? 0
                                        : pending->result.last.value - pending->result.first.value + 1;
                    break;
                case CommitOutcome::conflict:
                    ++stats.conflicts;
                    break;
                case CommitOutcome::duplicate:
                    ++stats.duplicates;
                    break;
            }
        }
        stats.groups += batch.Count() > 0 ? 1 : 0;
    }
    // Duplicates of a key first written in this very group take the answer now that it is durable.
    for (Pending* pending : group) {
        if (pending->result.outcome == CommitOutcome::duplicate && !pending->commit.idempotency_key.empty() &&
            pending->result.idempotency_answer.empty()) {
            if (auto answer = get(meta, idempotency_meta_key(pending->commit.idempotency_key))) {
                pending->result.idempotency_answer = std::move(*answer);
            }
        }
    }
    if (next != current_head().next()) {
        {
            std::lock_guard lock(head_mutex);
            head = LogPosition{next.value - 1};
        }
        head_cv.notify_all();
    }
}

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() = default;

namespace {

// RocksDB's own log, into the service's log (module "rocksdb") instead of a LOG file in the data
// directory. The file would live on the volume it reports about: with the disk full, RocksDB's
// next log line after a failed write trips an assertion in its file writer and aborts the process
// (Debian's librocksdb keeps assertions) — found by the chaos run. Warnings and errors only: its
// informational lines (every flush and compaction) would drown the service's own.
class ServiceLogForRocksDb final : public rocksdb::Logger {
  public:
    ServiceLogForRocksDb() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), log_(logger("rocksdb")) {}
    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list arguments) override {
        Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, arguments);
    }
    void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list arguments) override {
        if (level < GetInfoLogLevel()) {
            return;
        }
        std::array<char, 1024> line{};
        (void)std::vsnprintf(line.data(), line.size(), format, arguments);
        if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
            log_->error("{}", line.data());
        } else {
            log_->warn("{}", line.data());
        }
    }

  private:
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

std::unique_ptr<EventStore> EventStore::open(const std::filesystem::path& directory, StoreOptions options) {
    auto impl = std::make_unique<Impl>();
    impl->directory = directory;
    impl->options = options;
    std::filesystem::create_directories(directory);

    rocksdb::DBOptions db_options;
    if (options.env != nullptr) {
        db_options.env = options.env;
    }
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.info_log = std::make_shared<ServiceLogForRocksDb>();
    db_options.paranoid_checks = true;
    // Recover to the last consistent point: a torn tail of the WAL (a write that was never
    // acknowledged) is dropped, everything acknowledged before it is kept.
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    db_options.IncreaseParallelism(2);
    // Bounds what a restart after a crash replays from the write-ahead log (memtables holding
    // older writes are flushed once the log reaches this size): start-up does not grow with history.
    // It also bounds the write buffers' memory: 32 MiB of log, about as much in memtables.
    db_options.max_total_wal_size = 32 << 20;

    rocksdb::ColumnFamilyOptions family_options;
    family_options.OptimizeLevelStyleCompaction();
    impl->block_cache = rocksdb::NewLRUCache(8 << 20);
    rocksdb::BlockBasedTableOptions table_options;
    table_options.block_cache = impl->block_cache;
    family_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
    rocksdb::ColumnFamilyOptions counts_options = family_options;
    counts_options.merge_operator = std::make_shared<CountAddOperator>();
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, family_options},
        {"events", family_options},
        {"streams", family_options},
        {"meta", family_options},
        {"index", family_options},
        {"counts", counts_options},
    };
    rocksdb::DB* raw = nullptr;
    rocks::check(rocksdb::DB::Open(db_options, directory.string(), families, &impl->handles, &raw),
                 "open " + directory.string());
    impl->db.reset(raw);
    impl->events = impl->handles[1];
    impl->streams = impl->handles[2];
    impl->meta = impl->handles[3];
    impl->index = impl->handles[4];
    impl->counts = impl->handles[5];

    std::unique_ptr<rocksdb::Iterator> last(impl->db->NewIterator(rocksdb::ReadOptions(), impl->events));
    last->SeekToLast();
    if (last->Valid()) {
        const LogPosition position{rocks::read_big_endian(last->key().ToStringView())};
        (void)verified_payload(position, last->value().ToStringView());
        impl->head = position;
    }
    rocks::check(last->status(), "read the log's last record");
    last.reset();
    if (auto stored = impl->get(impl->meta, "log-id")) {
        impl->log_id = *stored;
    } else {
        impl->log_id = options.log_id_for_new_log.empty() ? new_uuid_v7() : options.log_id_for_new_log;
        rocksdb::WriteOptions write_options;
        write_options.sync = true;
        rocks::check(impl->db->Put(write_options, impl->meta, "log-id", impl->log_id), "write the log id");
    }
    return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

CommitResult EventStore::commit(Commit commit) {
    return commit_in_queue_order([&commit] { return std::move(commit); });
}

CommitResult EventStore::commit_in_queue_order(const std::function<Commit()>& make) {
    Impl::Pending pending;
    std::unique_lock lock(impl_->queue_mutex);
    pending.commit = make();
    impl_->queue.push_back(&pending);
    while (!pending.done) {
        if (impl_->leader_active || impl_->queue.front() != &pending) {
            pending.wake.wait(lock);
            continue;
        }
        // First in line and no leader: lead a group made of everything queued.
        impl_->leader_active = true;
        std::vector<Impl::Pending*> group;
        while (!impl_->queue.empty() && group.size() < impl_->options.max_group_size) {
            group.push_back(impl_->queue.front());
            impl_->queue.pop_front();
        }
        lock.unlock();
        std::exception_ptr group_error;
        try {
            impl_->write_group(group);
        } catch (...) {
            group_error = std::current_exception();
        }
        lock.lock();
        for (Impl::Pending* member : group) {
            if (group_error && !member->error) {
                member->error = group_error;
            }
            member->done = true;
            if (member != &pending) {
                member->wake.notify_one();
            }
        }
        impl_->leader_active = false;
        if (!impl_->queue.empty()) {
            impl_->queue.front()->wake.notify_one();  // the next group's leader
        }
    }
    lock.unlock();
    if (pending.error) {
        std::rethrow_exception(pending.error);
    }
    return std::move(pending.result);
}

std::vector<RecordedEvent> EventStore::read_stream(const StreamId& stream, StreamVersion from) const {
    const std::string key = stream_key(stream);
    const std::string prefix = "v" + key;
    std::vector<RecordedEvent> result;
    const ReadSnapshot snapshot(*impl_->db);
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot.get();
    const std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->streams));
    for (it->Seek(version_key(key, std::max<std::uint64_t>(from.value, 1))); it->Valid(); it->Next()) {
        if (!it->key().starts_with(prefix)) {
            break;
        }
        impl_->read_event(read_options, it->value().ToStringView(), result.emplace_back());
    }
    rocks::check(it->status(), "read stream " + stream.to_string());
    return result;
}

StreamVersion EventStore::stream_version(const StreamId& stream) const {
    return StreamVersion{impl_->stored_head(stream_key(stream))};
}

void EventStore::scan_raw(LogPosition from, const std::function<bool(LogPosition, std::string_view)>& visit) const {
    rocksdb::ReadOptions read_options;
    read_options.readahead_size = 2 << 20;
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->events));
    LogPosition expected{std::max<std::uint64_t>(from.value, 1)};
    for (it->Seek(rocks::big_endian_key(expected.value)); it->Valid(); it->Next()) {
        const LogPosition position{rocks::read_big_endian(it->key().ToStringView())};
        if (position != expected) {
            throw CorruptRecordError("the log has a gap: expected position " + std::to_string(expected.value) +
                                     ", found " + std::to_string(position.value));
        }
        if (!visit(position, verified_payload(position, it->value().ToStringView()))) {
            return;
        }
        expected = expected.next();
    }
    rocks::check(it->status(), "scan the log");
}

void EventStore::scan(LogPosition from, const std::function<bool(const RecordedEvent&)>& visit) const {
    RecordedEvent event;
    scan_raw(from, [&](LogPosition position, std::string_view payload) {
        event.position = position;
        if (!event.envelope.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
            throw CorruptRecordError("event at log position " + std::to_string(position.value) + " does not decode");
        }
        return visit(event);
    });
}

LogPosition EventStore::head() const { return impl_->current_head(); }

LogPosition EventStore::wait_for_events_after(LogPosition after, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->head_mutex);
    impl_->head_cv.wait_for(lock, timeout, [&] { return impl_->head > after; });
    return impl_->head;
}

void EventStore::scan_streams(
    std::string_view aggregate_type,
    const std::function<void(const std::string& aggregate_id, std::vector<RecordedEvent>& events)>& visit) const {
    if (aggregate_type.empty() || aggregate_type.find('\0') != std::string_view::npos) {
        throw std::invalid_argument("aggregate type must be non-empty and must not contain NUL");
    }
    std::string prefix = "v" + std::string(aggregate_type);
    prefix.push_back('\0');
    const std::string upper = prefix_end(prefix);
    const ReadSnapshot snapshot(*impl_->db);
    rocksdb::ReadOptions read_options;
    read_options.snapshot = snapshot.get();
    rocksdb::Slice upper_slice(upper);
    read_options.iterate_upper_bound = &upper_slice;
    const std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->streams));
    std::vector<RecordedEvent> events;
    std::string current_id;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
        // Key: "v" + type + NUL + id + NUL + version (8 bytes).
        const std::string_view key = it->key().ToStringView();
        if (key.size() < prefix.size() + 9) {
            throw CorruptRecordError("a stream index key of " + std::string(aggregate_type) + " is truncated");
        }
        const std::string_view id = key.substr(prefix.size(), key.size() - prefix.size() - 9);
        if (id != current_id) {
            if (!events.empty()) {
                visit(current_id, events);
                events.clear();
            }
            current_id.assign(id);
        }
        impl_->read_event(read_options, it->value().ToStringView(), events.emplace_back());
    }
    rocks::check(it->status(), "scan the streams of " + std::string(aggregate_type));
    if (!events.empty()) {
        visit(current_id, events);
    }
}

void EventStore::scan_index(std::string_view lower, std::string_view upper,
                            const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
    rocksdb::ReadOptions read_options;
    rocksdb::Slice upper_slice(upper.data(), upper.size());
    if (!upper.empty()) {
        read_options.iterate_upper_bound = &upper_slice;
    }
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->index));
    for (it->Seek(rocksdb::Slice(lower.data(), lower.size())); it->Valid(); it->Next()) {
        if (!visit(it->key().ToStringView(), it->value().ToStringView())) {
            return;
        }
    }
    rocks::check(it->status(), "scan an index");
}

std::int64_t EventStore::read_counter(const std::string& key) const {
    const auto stored = impl_->get(impl_->counts, key);
    return stored ? decode_count(*stored) : 0;
}

void EventStore::clear_index(const std::string& prefix) {
    const std::string upper = prefix_end(prefix);
    if (upper.empty()) {
        throw std::invalid_argument("an index prefix must not be empty");
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    for (auto* family : {impl_->index, impl_->counts}) {
        rocks::check(impl_->db->DeleteRange(write_options, family, prefix, upper), "clear a read model");
    }
}

void EventStore::write_index(const IndexChanges& changes) {
    rocksdb::WriteBatch batch;
    for (const std::string& key : changes.deletes) {
        batch.Delete(impl_->index, key);
    }
    for (const auto& [key, value] : changes.puts) {
        batch.Put(impl_->index, key, value);
    }
    for (const auto& [key, delta] : changes.counter_deltas) {
        batch.Merge(impl_->counts, key, encode_count(delta));
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = false;
    rocks::check(impl_->db->Write(write_options, &batch), "write a read model");
}

bool EventStore::was_processed(const std::string& inbox_key) const {
    return impl_->get(impl_->meta, inbox_meta_key(inbox_key)).has_value();
}

std::optional<std::string> EventStore::idempotency_answer(const std::string& idempotency_key) const {
    return read_metadata(idempotency_meta_key(idempotency_key));
}

std::optional<std::string> EventStore::read_metadata(const std::string& key) const {
    return impl_->get(impl_->meta, key);
}

void EventStore::write_metadata_lazily(const std::string& key, const std::string& value) {
    impl_->put_unsynced(key, value, "metadata " + key);
}

void EventStore::mark_processed_lazily(const std::string& inbox_key) {
    std::string value;
    rocks::append_big_endian(value, std::uint64_t{0});  // no events: no log position
    impl_->put_unsynced(inbox_meta_key(inbox_key), value, "the inbox record " + inbox_key);
}

const std::filesystem::path& EventStore::directory() const { return impl_->directory; }
const std::string& EventStore::log_id() const { return impl_->log_id; }

void EventStore::sync() { rocks::check(impl_->db->SyncWAL(), "sync the write-ahead log"); }

StoreMemory EventStore::memory() const {
    StoreMemory memory;
    for (auto* family : impl_->handles) {
        std::uint64_t value = 0;
        if (impl_->db->GetIntProperty(family, rocksdb::DB::Properties::kSizeAllMemTables, &value)) {
            memory.memtables += value;
        }
        if (impl_->db->GetIntProperty(family, rocksdb::DB::Properties::kEstimateTableReadersMem, &value)) {
            memory.table_readers += value;
        }
    }
    if (impl_->block_cache) {
        memory.block_cache = impl_->block_cache->GetUsage();
        memory.block_cache_capacity = impl_->block_cache->GetCapacity();
    }
    return memory;
}

std::string EventStore::write_failure() const { return impl_->write_failure(); }

bool EventStore::try_resume() {
    // DB::Resume() is safe beside writes (they fail until it has succeeded).
    return impl_->write_failure().empty() || impl_->resume();
}

StoreStats EventStore::stats() const {
    std::lock_guard lock(impl_->head_mutex);
    return impl_->stats;
}

}  // namespace gatehouse::kernel
