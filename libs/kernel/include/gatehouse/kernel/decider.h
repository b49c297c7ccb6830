// The decider runtime: how a service's domain is written and executed.
//
// A domain is a struct D with three pure functions and no I/O:
//   static State D::initial();
//   static Decision<Event> D::decide(const Command&, const State&);   // events, or a Rejection
//   static State D::evolve(State, const Event&);
// plus `static constexpr std::string_view kAggregateType`. `Event` is a Protobuf message with one
// oneof whose cases are the aggregate's event messages (see proto_codec.h).
//
// AggregateRuntime<D> loads an aggregate's state on demand from its stream (into an LRU cache of
// bounded size), decides, appends the events with optimistic concurrency and retries on conflict.
// With a ReadModel (read_model.h) it keeps the aggregate type's indexes and counters in the same
// atomic write as the events, and answers lookups and keyset pages over them. Nothing is folded
// into memory at start-up: memory does not grow with history, and no query walks all aggregates.
// A domain whose streams can grow long may also store snapshots of its state (`Snapshotting`,
// RuntimeOptions::snapshot_every): a load then reads the last snapshot and only the events after it.
// Thread safety: every public method may be called concurrently from any thread.
#pragma once

#include <google/protobuf/util/time_util.h>

#include <array>
#include <chrono>
#include <concepts>
#include <functional>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/proto_codec.h"
#include "gatehouse/kernel/read_model.h"
#include "gatehouse/kernel/time.h"

namespace gatehouse::kernel {

template <class Event>
using Decision = std::variant<std::vector<Event>, Rejection>;

template <class D>
concept Decider = std::derived_from<typename D::Event, google::protobuf::Message> &&
    requires(const typename D::State& state, const typename D::Command& command, const typename D::Event& event) {
    { D::kAggregateType } -> std::convertible_to<std::string_view>;
    { D::initial() } -> std::same_as<typename D::State>;
    { D::decide(command, state) } -> std::same_as<Decision<typename D::Event>>;
    { D::evolve(state, event) } -> std::same_as<typename D::State>;
};

// Optional, for domains with long streams: a state that can be stored and read back. A snapshot is
// written in the same atomic commit as the event that reaches a multiple of
// RuntimeOptions::snapshot_every, under the version it covers; loading starts from the newest one
// and folds only the events after it. `restore` answers nullopt for bytes it cannot read. Raise
// kSnapshotFormat whenever the encoding, or what `evolve` makes of the events, changes: snapshots of
// another format are not used (the stream is folded from its start) and are replaced by the next.
template <class D>
concept Snapshotting = Decider<D> && requires(const typename D::State& state, std::string_view bytes) {
    { D::kSnapshotFormat } -> std::convertible_to<std::uint32_t>;
    { D::snapshot(state) } -> std::same_as<std::string>;
    { D::restore(bytes) } -> std::same_as<std::optional<typename D::State>>;
};

// Where a command comes from and what must be committed with its events.
struct CommandContext final {
    // Retries with the same key return the first result (namespaced by aggregate type).
    std::string idempotency_key{};
    std::string correlation_id{};
    std::string causation_id{};
    std::string actor{};
    // Set by inbox handlers: the input event's "processed" record, committed with the events.
    std::string inbox_key{};
};

template <class Event>
struct Accepted final {
    std::string aggregate_id;
    StreamVersion version{};  // the aggregate's version after the command
    std::vector<Event> events;
    bool duplicate = false;  // a retry: nothing new was written, `events` are the first answer's
};

template <class Event>
using CommandResult = std::variant<Accepted<Event>, Rejection>;

struct RuntimeOptions final {
    std::string producer;   // the service name written into each envelope
    int max_attempts = 16;  // on version conflicts
    // When set, the duration of each execute() in seconds (for the command latency metric).
    MetricHistogram* command_latency = nullptr;
    // Most aggregate states kept in memory; the least recently used are dropped and loaded from
    // their streams again when next needed.
    std::size_t cache_capacity = 10'000;
    // For a Snapshotting domain: store the state every this many events of a stream (0: never).
    // Ignored for other domains.
    std::uint64_t snapshot_every = 0;
};

template <Decider D>
class AggregateRuntime final : public MaintainedReadModel {
  public:
    using State = typename D::State;
    using Command = typename D::Command;
    using Event = typename D::Event;

    AggregateRuntime(EventStore& store, RuntimeOptions options, ReadModel<State> read_model = {})
        : store_(store),
          options_(std::move(options)),
          read_model_(std::move(read_model)),
          model_prefix_(index_layout::model_prefix(D::kAggregateType)) {
        if (options_.cache_capacity == 0) {
            options_.cache_capacity = 1;
        }
    }

    [[nodiscard]] CommandResult<Event> execute(const std::string& aggregate_id, const Command& command,
                                               const CommandContext& context = {}) {
        if (options_.command_latency == nullptr) {
            return execute_untimed(aggregate_id, command, context);
        }
        const auto started = std::chrono::steady_clock::now();
        CommandResult<Event> result = execute_untimed(aggregate_id, command, context);
        options_.command_latency->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        return result;
    }

    // The first answer of a command committed with this idempotency key, if there was one. Lets
    // the API edge answer a retry before allocating anything (e.g. a number) for it.
    [[nodiscard]] std::optional<Accepted<Event>> previous_answer(const std::string& idempotency_key) {
        if (auto answer = store_.idempotency_answer(std::string(D::kAggregateType) + ":" + idempotency_key)) {
            return std::get<Accepted<Event>>(replay_answer(*answer));
        }
        return std::nullopt;
    }

    // An aggregate as it stands: its state and the version of its last event.
    struct Found final {
        State state;
        StreamVersion version;
    };
    // The aggregate, if it has any events.
    [[nodiscard]] std::optional<Found> find(const std::string& aggregate_id) {
        const Entry entry = load(StreamId{std::string(D::kAggregateType), aggregate_id});
        if (entry.version.value == 0) {
            return std::nullopt;
        }
        return Found{entry.state, entry.version};
    }

    // --- the read model ---

    // Visits the entries of `index` whose key starts with `prefix`, in key order, starting after
    // `after` (a hit's cursor; empty: from the first), until `visit` returns false. With `until`,
    // only keys before it (exclusive) are visited, e.g. "due before now" on a time-ordered index.
    void visit_index(std::string_view index, const IndexKey& prefix, std::string_view after,
                     const std::function<bool(const IndexHit&)>& visit, const IndexKey* until = nullptr) const {
        const std::string base = index_layout::index_prefix(D::kAggregateType, index);
        const std::string lower = base + prefix.bytes();
        visit_stored_range(index, lower, until != nullptr ? base + until->bytes() : prefix_upper_bound(lower), after,
                           visit);
    }

    // Visits the entries of `index` with from <= key < until (whole keys, not prefixes), after
    // `after`, in key order, until `visit` returns false.
    void visit_range(std::string_view index, const IndexKey& from, const IndexKey& until, std::string_view after,
                     const std::function<bool(const IndexHit&)>& visit) const {
        const std::string base = index_layout::index_prefix(D::kAggregateType, index);
        visit_stored_range(index, base + from.bytes(), until.empty() ? prefix_upper_bound(base) : base + until.bytes(),
                           after, visit);
    }

    // The entries of `index` whose key starts with `prefix` (at most `limit`).
    [[nodiscard]] std::vector<IndexHit> lookup(std::string_view index, const IndexKey& prefix,
                                               std::size_t limit = 1'000) const {
        std::vector<IndexHit> hits;
        visit_index(index, prefix, {}, [&](const IndexHit& hit) {
            hits.push_back(hit);
            return hits.size() < limit;
        });
        return hits;
    }

    // One page of `index` under `prefix`, after `after`; `keep` (optional) filters hits.
    [[nodiscard]] IndexPage page(std::string_view index, const IndexKey& prefix, std::string_view after,
                                 std::size_t limit, const std::function<bool(const IndexHit&)>& keep = {}) const {
        IndexPage result;
        visit_index(index, prefix, after, [&](const IndexHit& hit) {
            if (keep && !keep(hit)) {
                return true;
            }
            if (result.hits.size() == limit) {
                result.next_cursor = result.hits.back().cursor;
                return false;
            }
            result.hits.push_back(hit);
            return true;
        });
        return result;
    }

    // A counter of the read model (0 if nothing ever counted towards it).
    [[nodiscard]] std::int64_t count(std::string_view counter) const {
        require_read_model();
        return store_.read_counter(model_prefix_ + std::string(counter));
    }

    [[nodiscard]] std::string_view aggregate_type() const override { return D::kAggregateType; }

    std::uint64_t bring_up_to_date() override {
        if (!read_model_.index) {
            return 0;
        }
        const std::string marker = "rm/" + std::string(D::kAggregateType);
        const std::string wanted = std::to_string(read_model_.version);
        if (store_.read_metadata(marker) == wanted) {
            return 0;
        }
        store_.clear_index(model_prefix_);
        constexpr std::size_t kAggregatesPerWrite = 1'000;
        IndexChanges pending;
        std::size_t in_pending = 0;
        std::uint64_t indexed = 0;
        store_.scan_streams(D::kAggregateType, [&](const std::string& id, std::vector<RecordedEvent>& events) {
            const IndexEntries entries = entries_of(id, fold(id, events));
            IndexChanges changes = index_layout::diff(D::kAggregateType, nullptr, &entries);
            std::move(changes.puts.begin(), changes.puts.end(), std::back_inserter(pending.puts));
            std::move(changes.counter_deltas.begin(), changes.counter_deltas.end(),
                      std::back_inserter(pending.counter_deltas));
            ++indexed;
            if (++in_pending == kAggregatesPerWrite) {
                store_.write_index(pending);
                pending = {};
                in_pending = 0;
            }
        });
        store_.write_index(pending);
        store_.sync();
        Commit done;
        done.metadata.emplace_back(marker, wanted);
        (void)store_.commit(std::move(done));
        return indexed;
    }

    [[nodiscard]] std::vector<std::string> differences_from_log() const override {
        std::vector<std::string> differences;
        if (!read_model_.index) {
            return differences;
        }
        std::map<std::string, std::string> expected;
        std::map<std::string, std::int64_t> expected_counters;
        store_.scan_streams(D::kAggregateType, [&](const std::string& id, std::vector<RecordedEvent>& events) {
            const IndexEntries entries = entries_of(id, fold(id, events));
            for (const auto& [key, value] : entries.entries()) {
                expected.emplace(model_prefix_ + key, value);
            }
            for (const auto& [counter, n] : entries.counters()) {
                expected_counters[counter] += n;
            }
        });
        store_.scan_index(model_prefix_, prefix_upper_bound(model_prefix_),
                          [&](std::string_view key, std::string_view value) {
                              const auto found = expected.find(std::string(key));
                              if (found == expected.end()) {
                                  differences.push_back("unexpected entry " + printable(key));
                              } else {
                                  if (found->second != value) {
                                      differences.push_back("entry " + printable(key) + " has another value");
                                  }
                                  expected.erase(found);
                              }
                              return true;
                          });
        for (const auto& [key, value] : expected) {
            differences.push_back("missing entry " + printable(key));
        }
        for (const auto& [counter, n] : expected_counters) {
            if (const std::int64_t stored = count(counter); stored != n) {
                differences.push_back("counter " + counter + " is " + std::to_string(stored) + ", the log says " +
                                      std::to_string(n));
            }
        }
        return differences;
    }

  private:
    struct Entry {
        State state;
        StreamVersion version;
    };

    CommandResult<Event> execute_untimed(const std::string& aggregate_id, const Command& command,
                                         const CommandContext& context) {
        const StreamId stream{std::string(D::kAggregateType), aggregate_id};
        const std::string idempotency_key = context.idempotency_key.empty()
                                                ? std::string()
                                                : std::string(D::kAggregateType) + ":" + context.idempotency_key;
        if (!idempotency_key.empty()) {
            // A retry is answered before deciding: the state may have moved on since the first try.
            if (auto answer = store_.idempotency_answer(idempotency_key)) {
                return replay_answer(*answer);
            }
        }
        // One writer per aggregate in this process: commands on the same aggregate queue here
        // instead of racing to conflicts; commands on different aggregates still share group commits.
        std::lock_guard writer(writer_stripes_[std::hash<std::string>{}(aggregate_id) % kWriterStripes]);
        for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
            const Entry current = load(stream);
            Decision<Event> decision = D::decide(command, current.state);
            if (auto* rejection = std::get_if<Rejection>(&decision)) {
                return *rejection;
            }
            auto& events = std::get<std::vector<Event>>(decision);
            if (events.empty()) {
                return Accepted<Event>{aggregate_id, current.version, {}, false};
            }
            Entry after{current.state, StreamVersion{current.version.value + events.size()}};
            for (const Event& event : events) {
                after.state = D::evolve(std::move(after.state), event);
            }
            Commit commit;
            commit.idempotency_key = idempotency_key;
            commit.inbox_key = context.inbox_key;
            StreamAppend& append = commit.appends.emplace_back();
            append.stream = stream;
            append.expected = ExpectedVersion::exactly(current.version);
            for (const Event& event : events) {
                append.events.push_back(make_envelope(event, context));
            }
            commit.idempotency_answer = aggregate_id + "\n" + std::to_string(current.version.value + 1) + "\n" +
                                        std::to_string(after.version.value);
            if constexpr (Snapshotting<D>) {
                const std::uint64_t every = options_.snapshot_every;
                if (every > 0 && current.version.value / every != after.version.value / every) {
                    commit.metadata.emplace_back(snapshot_key(aggregate_id), encode_snapshot(after));
                }
            }
            if (read_model_.index) {
                // The expected-version check makes `current` exactly what the index holds now.
                const IndexEntries before_entries = entries_of(aggregate_id, current);
                const IndexEntries after_entries = entries_of(aggregate_id, after);
                commit.index_changes = index_layout::diff(D::kAggregateType, &before_entries, &after_entries);
            }
            CommitResult result;
            try {
                result = store_.commit(std::move(commit));
            } catch (const StorageUnavailable& error) {
                // Nothing was written. A caller's command gets an answer (UNAVAILABLE at the API);
                // a reaction (inbox key set) gets the exception: its inbox waits and retries.
                if (!context.inbox_key.empty()) {
                    throw;
                }
                return Rejection{
                    RejectionCode::unavailable,
                    std::string("the service cannot store anything right now; try again later (") + error.what() + ")"};
            }
            switch (result.outcome) {
                case CommitOutcome::conflict:
                    forget(aggregate_id);
                    continue;
                case CommitOutcome::duplicate:
                    if (!result.idempotency_answer.empty()) {
                        return replay_answer(result.idempotency_answer);
                    }
                    return Accepted<Event>{aggregate_id, current.version, {}, true};  // inbox: already processed
                case CommitOutcome::committed:
                    remember(aggregate_id, std::move(after));
                    return Accepted<Event>{aggregate_id, result.versions.front(), std::move(events), false};
            }
        }
        return Rejection{RejectionCode::conflict, "the " + std::string(D::kAggregateType) + " " + aggregate_id +
                                                      " kept changing concurrently; try again"};
    }

    void visit_stored_range(std::string_view index, std::string lower, const std::string& upper, std::string_view after,
                            const std::function<bool(const IndexHit&)>& visit) const {
        require_read_model();
        const std::string base = index_layout::index_prefix(D::kAggregateType, index);
        if (!after.empty()) {
            std::string resume = base + std::string(after);
            resume.push_back('\0');  // the smallest key after the cursor
            lower = std::max(lower, resume);
        }
        IndexHit hit;
        store_.scan_index(lower, upper, [&](std::string_view key, std::string_view value) {
            if (!index_layout::decode_value(value, hit.aggregate_id, hit.value)) {
                throw CorruptRecordError("an entry of index " + std::string(index) + " of " +
                                         std::string(D::kAggregateType) + " is malformed");
            }
            hit.cursor.assign(key.substr(base.size()));
            return visit(hit);
        });
    }

    // A query on a runtime built without a read model would answer "nothing", silently.
    void require_read_model() const {
        if (!read_model_.index) {
            throw std::logic_error("the " + std::string(D::kAggregateType) +
                                   " runtime has no read model: pass one to its constructor");
        }
    }

    IndexEntries entries_of(const std::string& aggregate_id, const Entry& entry) const {
        IndexEntries entries;
        if (entry.version.value > 0) {
            entries.set_aggregate_id(aggregate_id);
            read_model_.index(aggregate_id, entry.state, entries);
        }
        return entries;
    }

    Entry fold(const std::string& aggregate_id, const std::vector<RecordedEvent>& events) const {
        Entry entry{D::initial(), {}};
        for (const RecordedEvent& recorded : events) {
            if (recorded.envelope.aggregate_version() != entry.version.value + 1) {
                throw CorruptRecordError("stream " + std::string(D::kAggregateType) + "/" + aggregate_id +
                                         " jumps from version " + std::to_string(entry.version.value) + " to " +
                                         std::to_string(recorded.envelope.aggregate_version()));
            }
            entry.state = D::evolve(std::move(entry.state), decode(recorded));
            entry.version = StreamVersion{recorded.envelope.aggregate_version()};
        }
        return entry;
    }

    static std::string prefix_upper_bound(std::string prefix) {
        while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) {
            prefix.pop_back();
        }
        if (!prefix.empty()) {
            prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
        }
        return prefix;
    }

    static std::string printable(std::string_view key) {
        std::string text;
        for (const char c : key) {
            text.push_back(c >= 0x20 && c < 0x7F ? c : '.');
        }
        return text;
    }

    v1::EventEnvelope make_envelope(const Event& event, const CommandContext& context) const {
        v1::EventEnvelope envelope;
        envelope.set_event_id(new_uuid_v7());
        envelope.set_event_type(oneof_event_type(event));
        envelope.set_payload(oneof_event_payload(event));
        // Not TimeUtil::GetCurrentTime(): in the protobuf of Debian bookworm (3.21) it has whole
        // seconds only, which made every hop measured from events up to a second off.
        *envelope.mutable_occurred_at() = to_timestamp(std::chrono::system_clock::now());
        envelope.set_correlation_id(context.correlation_id.empty() ? envelope.event_id() : context.correlation_id);
        envelope.set_causation_id(context.causation_id);
        envelope.set_producer(options_.producer);
        envelope.set_actor(context.actor);
        return envelope;
    }

    Event decode(const RecordedEvent& recorded) const {
        Event event;
        if (!codec_.decode(recorded.envelope.event_type(), recorded.envelope.payload(), event)) {
            throw CorruptRecordError("event at log position " + std::to_string(recorded.position.value) + " has type " +
                                     recorded.envelope.event_type() + ", unknown to " + std::string(D::kAggregateType));
        }
        return event;
    }

    // The aggregate's state at its stream's current version: from the cache (this runtime is the
    // stream's only writer, and a conflict drops the cached state), else folded from the stream.
    Entry load(const StreamId& stream) {
        {
            std::lock_guard lock(mutex_);
            if (auto it = cache_.find(stream.aggregate_id); it != cache_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second.recency);
                return it->second.entry;
            }
        }
        Entry entry{D::initial(), {}};
        if constexpr (Snapshotting<D>) {
            if (options_.snapshot_every > 0) {
                if (auto snapshot = read_snapshot(stream.aggregate_id)) {
                    entry = std::move(*snapshot);
                }
            }
        }
        for (const RecordedEvent& recorded : store_.read_stream(stream, StreamVersion{entry.version.value + 1})) {
            if (recorded.envelope.aggregate_version() != entry.version.value + 1) {
                throw CorruptRecordError("stream " + std::string(D::kAggregateType) + "/" + stream.aggregate_id +
                                         " jumps from version " + std::to_string(entry.version.value) + " to " +
                                         std::to_string(recorded.envelope.aggregate_version()));
            }
            entry.state = D::evolve(std::move(entry.state), decode(recorded));
            entry.version = StreamVersion{recorded.envelope.aggregate_version()};
        }
        if (entry.version.value > 0) {
            remember(stream.aggregate_id, entry);
        }
        return entry;
    }

    // Snapshots live in the store's metadata: "s/<type>/<id>" -> the version it covers (8 bytes,
    // big-endian), the domain's kSnapshotFormat (4 bytes), then D::snapshot(state).
    std::string snapshot_key(const std::string& aggregate_id) const {
        return "s/" + std::string(D::kAggregateType) + "/" + aggregate_id;
    }

    std::string encode_snapshot(const Entry& entry) const {
        std::string bytes;
        for (int shift = 56; shift >= 0; shift -= 8) {
            bytes.push_back(static_cast<char>((entry.version.value >> shift) & 0xFF));
        }
        const auto format = static_cast<std::uint32_t>(D::kSnapshotFormat);
        for (int shift = 24; shift >= 0; shift -= 8) {
            bytes.push_back(static_cast<char>((format >> shift) & 0xFF));
        }
        bytes += D::snapshot(entry.state);
        return bytes;
    }

    // The newest snapshot of the aggregate, if there is one of the current format that restores.
    std::optional<Entry> read_snapshot(const std::string& aggregate_id) const {
        const std::optional<std::string> bytes = store_.read_metadata(snapshot_key(aggregate_id));
        if (!bytes || bytes->size() < 12) {
            return std::nullopt;
        }
        std::uint64_t version = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            version = (version << 8) | static_cast<unsigned char>((*bytes)[i]);
        }
        std::uint32_t format = 0;
        for (std::size_t i = 8; i < 12; ++i) {
            format = (format << 8) | static_cast<unsigned char>((*bytes)[i]);
        }
        if (format != static_cast<std::uint32_t>(D::kSnapshotFormat) || version == 0) {
            return std::nullopt;
        }
        std::optional<State> state = D::restore(std::string_view(*bytes).substr(12));
        if (!state) {
            return std::nullopt;
        }
        return Entry{std::move(*state), StreamVersion{version}};
    }

    void remember(const std::string& aggregate_id, Entry entry) {
        std::lock_guard lock(mutex_);
        auto it = cache_.find(aggregate_id);
        if (it != cache_.end()) {
            if (it->second.entry.version < entry.version) {
                it->second.entry = std::move(entry);
            }
            lru_.splice(lru_.begin(), lru_, it->second.recency);
            return;
        }
        lru_.push_front(aggregate_id);
        cache_.emplace(aggregate_id, Cached{std::move(entry), lru_.begin()});
        while (cache_.size() > options_.cache_capacity) {
            cache_.erase(lru_.back());
            lru_.pop_back();
        }
    }

    void forget(const std::string& aggregate_id) {
        std::lock_guard lock(mutex_);
        if (auto it = cache_.find(aggregate_id); it != cache_.end()) {
            lru_.erase(it->second.recency);
            cache_.erase(it);
        }
    }

    CommandResult<Event> replay_answer(const std::string& answer) {
        const auto first_break = answer.find('\n');
        const auto second_break = answer.find('\n', first_break + 1);
        const std::string aggregate_id = answer.substr(0, first_break);
        const std::uint64_t first = std::stoull(answer.substr(first_break + 1, second_break - first_break - 1));
        const std::uint64_t last = std::stoull(answer.substr(second_break + 1));
        Accepted<Event> accepted{aggregate_id, StreamVersion{last}, {}, true};
        for (const RecordedEvent& recorded :
             store_.read_stream(StreamId{std::string(D::kAggregateType), aggregate_id}, StreamVersion{first})) {
            if (recorded.envelope.aggregate_version() > last) {
                break;
            }
            accepted.events.push_back(decode(recorded));
        }
        return accepted;
    }

    static constexpr std::size_t kWriterStripes = 64;

    EventStore& store_;
    RuntimeOptions options_;
    ReadModel<State> read_model_;
    std::string model_prefix_;
    EventUnionCodec codec_{*Event::descriptor()};
    std::array<std::mutex, kWriterStripes> writer_stripes_;
    mutable std::mutex mutex_;
    struct Cached {
        Entry entry;
        std::list<std::string>::iterator recency;  // position in lru_ (front: most recent)
    };
    std::unordered_map<std::string, Cached> cache_;
    std::list<std::string> lru_;
};

}  // namespace gatehouse::kernel
