// The decider runtime: how a service's domain is written and executed.
//
// A domain is a struct D with three pure functions and no I/O:
//   static State D::initial();
//   static Decision<Event> D::decide(const Command&, const State&);   // events, or a Rejection
//   static State D::evolve(State, const Event&);
// plus `static constexpr std::string_view kAggregateType`. `Event` is a Protobuf message with one
// oneof whose cases are the aggregate's event messages (see proto_codec.h).
//
// AggregateRuntime<D> loads an aggregate's state (cached in memory, rebuilt from the log at
// start-up), decides, appends the events with optimistic concurrency and retries on conflict.
// Thread safety: execute() and find() may be called concurrently from any thread.
#pragma once

#include <google/protobuf/util/time_util.h>

#include <array>
#include <chrono>
#include <concepts>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/metrics.h"
#include "gatehouse/kernel/projection.h"
#include "gatehouse/kernel/proto_codec.h"

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
};

template <Decider D>
class AggregateRuntime final : public Projection {
  public:
    using State = typename D::State;
    using Command = typename D::Command;
    using Event = typename D::Event;

    AggregateRuntime(EventStore& store, RuntimeOptions options) : store_(store), options_(std::move(options)) {}

    [[nodiscard]] CommandResult<Event> execute(const std::string& aggregate_id, const Command& command,
                                               const CommandContext& context = {}) {
        if (options_.command_latency == nullptr) {
            return execute_timed(aggregate_id, command, context);
        }
        const auto started = std::chrono::steady_clock::now();
        CommandResult<Event> result = execute_timed(aggregate_id, command, context);
        options_.command_latency->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        return result;
    }

  private:
    CommandResult<Event> execute_timed(const std::string& aggregate_id, const Command& command,
                                       const CommandContext& context) {
        const StreamId stream{std::string(D::kAggregateType), aggregate_id};
        const std::string idempotency_key = context.idempotency_key.empty()
                                                ? std::string()
                                                : std::string(D::kAggregateType) + ":" + context.idempotency_key;
        if (!idempotency_key.empty()) {
            // A retry is answered before deciding: the state may have moved on since the first try.
            if (auto answer = store_.read_metadata("i/" + idempotency_key)) {
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
                                        std::to_string(current.version.value + events.size());
            const CommitResult result = store_.commit(std::move(commit));
            switch (result.outcome) {
                case CommitOutcome::conflict:
                    refresh(stream);
                    continue;
                case CommitOutcome::duplicate:
                    if (!result.idempotency_answer.empty()) {
                        return replay_answer(result.idempotency_answer);
                    }
                    return Accepted<Event>{aggregate_id, current.version, {}, true};  // inbox: already processed
                case CommitOutcome::committed:
                    remember(stream, current, events, result.versions.front());
                    return Accepted<Event>{aggregate_id, result.versions.front(), std::move(events), false};
            }
        }
        return Rejection{RejectionCode::conflict, "the " + std::string(D::kAggregateType) + " " + aggregate_id +
                                                      " kept changing concurrently; try again"};
    }

  public:
    // The first answer of a command committed with this idempotency key, if there was one. Lets
    // the API edge answer a retry before allocating anything (e.g. a number) for it.
    [[nodiscard]] std::optional<Accepted<Event>> previous_answer(const std::string& idempotency_key) {
        if (auto answer = store_.read_metadata("i/" + std::string(D::kAggregateType) + ":" + idempotency_key)) {
            return std::get<Accepted<Event>>(replay_answer(*answer));
        }
        return std::nullopt;
    }

    // The aggregate's state and version, if it has any events.
    [[nodiscard]] std::optional<std::pair<State, StreamVersion>> find(const std::string& aggregate_id) {
        const Entry entry = load(StreamId{std::string(D::kAggregateType), aggregate_id});
        if (entry.version.value == 0) {
            return std::nullopt;
        }
        return std::make_pair(entry.state, entry.version);
    }

    // Visits every known aggregate (a copy of the cache is not taken: keep `visit` short).
    void for_each(const std::function<void(const std::string&, const State&, StreamVersion)>& visit) const {
        std::lock_guard lock(mutex_);
        for (const auto& [id, entry] : cache_) {
            visit(id, entry.state, entry.version);
        }
    }

    void reset() override {
        std::lock_guard lock(mutex_);
        cache_.clear();
    }

    void apply(const EnvelopeView& recorded) override {
        if (recorded.aggregate_type != D::kAggregateType) {
            return;
        }
        Event event;
        if (!codec_.decode(recorded.event_type, recorded.payload, event)) {
            throw CorruptRecordError("event at log position " + std::to_string(recorded.position.value) + " has type " +
                                     std::string(recorded.event_type) + ", unknown to " +
                                     std::string(D::kAggregateType));
        }
        std::lock_guard lock(mutex_);
        auto it = cache_.find(recorded.aggregate_id);
        if (it == cache_.end()) {
            it = cache_.emplace(std::string(recorded.aggregate_id), Entry{D::initial(), {}}).first;
        }
        if (recorded.aggregate_version != it->second.version.value + 1) {
            throw CorruptRecordError("stream " + std::string(recorded.aggregate_type) + "/" +
                                     std::string(recorded.aggregate_id) + " jumps from version " +
                                     std::to_string(it->second.version.value) + " to " +
                                     std::to_string(recorded.aggregate_version));
        }
        it->second.state = D::evolve(std::move(it->second.state), event);
        it->second.version = StreamVersion{recorded.aggregate_version};
    }

  private:
    struct Entry {
        State state;
        StreamVersion version;
    };

    v1::EventEnvelope make_envelope(const Event& event, const CommandContext& context) const {
        v1::EventEnvelope envelope;
        envelope.set_event_id(new_uuid_v7());
        envelope.set_event_type(oneof_event_type(event));
        envelope.set_payload(oneof_event_payload(event));
        *envelope.mutable_occurred_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
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

    Entry load(const StreamId& stream) {
        {
            std::lock_guard lock(mutex_);
            if (auto it = cache_.find(stream.aggregate_id); it != cache_.end()) {
                return it->second;
            }
        }
        return refresh(stream);
    }

    // Brings the cached entry up to the stream's version in the store.
    Entry refresh(const StreamId& stream) {
        Entry entry{D::initial(), {}};
        {
            std::lock_guard lock(mutex_);
            if (auto it = cache_.find(stream.aggregate_id); it != cache_.end()) {
                entry = it->second;
            }
        }
        for (const RecordedEvent& recorded : store_.read_stream(stream, StreamVersion{entry.version.value + 1})) {
            entry.state = D::evolve(std::move(entry.state), decode(recorded));
            entry.version = StreamVersion{recorded.envelope.aggregate_version()};
        }
        if (entry.version.value == 0) {
            return entry;  // no such aggregate: nothing worth caching
        }
        std::lock_guard lock(mutex_);
        auto [it, inserted] = cache_.try_emplace(stream.aggregate_id, entry);
        if (!inserted && it->second.version < entry.version) {
            it->second = entry;
        }
        return it->second;
    }

    void remember(const StreamId& stream, const Entry& before, const std::vector<Event>& events, StreamVersion after) {
        {
            std::lock_guard lock(mutex_);
            auto it = cache_.find(stream.aggregate_id);
            const StreamVersion cached_version = it == cache_.end() ? StreamVersion{} : it->second.version;
            if (cached_version == before.version) {
                State state = before.state;
                for (const Event& event : events) {
                    state = D::evolve(std::move(state), event);
                }
                cache_.insert_or_assign(stream.aggregate_id, Entry{std::move(state), after});
                return;
            }
        }
        refresh(stream);
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
    EventUnionCodec codec_{*Event::descriptor()};
    std::array<std::mutex, kWriterStripes> writer_stripes_;
    mutable std::mutex mutex_;
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
};

}  // namespace gatehouse::kernel
