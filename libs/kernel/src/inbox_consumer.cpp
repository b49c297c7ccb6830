#include "gatehouse/kernel/inbox_consumer.h"

#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/kernel/v1/parked_record.pb.h"
#include "kafka_client.h"

namespace gatehouse::kernel {
namespace {

std::string utc_now_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// Waits for the delivery of one dead letter.
class DeliveryWaiter final : public RdKafka::DeliveryReportCb {
  public:
    void dr_cb(RdKafka::Message& message) override {
        done = true;
        error = message.err() == RdKafka::ERR_NO_ERROR ? std::string() : message.errstr();
    }
    bool done = false;
    std::string error;
};

InboundRecord to_record(RdKafka::Message& message) {
    InboundRecord record;
    record.topic = message.topic_name();
    record.partition = message.partition();
    record.offset = message.offset();
    if (message.key_pointer() != nullptr) {
        record.key.assign(static_cast<const char*>(message.key_pointer()), message.key_len());
    }
    record.value.assign(static_cast<const char*>(message.payload()), message.len());
    if (const RdKafka::Headers* headers = message.headers()) {
        for (const auto& header : headers->get_all()) {
            record.headers.emplace_back(
                header.key(), header.value() == nullptr
                                  ? std::string()
                                  : std::string(static_cast<const char*>(header.value()), header.value_size()));
        }
    }
    return record;
}

// The key of a parked record in the store's index family: by consumer, topic and aggregate, then
// position, so that one aggregate's records sort in the order they were read. (No aggregate type
// is named "inbox-parked": a read model's rebuild never clears these.)
std::string parked_prefix(const std::string& consumer, const std::string& topic) {
    std::string key = "inbox-parked";
    key += '\0';
    key += consumer;
    key += '\0';
    key += topic;
    key += '\0';
    return key;
}

std::string big_endian(std::uint64_t value, int bytes) {
    std::string out(static_cast<std::size_t>(bytes), '\0');
    for (int i = bytes - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xFFU);
        value >>= 8U;
    }
    return out;
}

std::string parked_key(const std::string& consumer, const v1::ParkedRecord& entry) {
    return parked_prefix(consumer, entry.topic()) + entry.aggregate_id() + '\0' +
           big_endian(static_cast<std::uint32_t>(entry.partition()), 4) +
           big_endian(static_cast<std::uint64_t>(entry.offset()), 8);
}

InboundRecord record_of(const v1::ParkedRecord& entry) {
    InboundRecord record;
    record.topic = entry.topic();
    record.partition = entry.partition();
    record.offset = entry.offset();
    record.key = entry.key();
    record.value = entry.value();
    for (const auto& header : entry.headers()) {
        record.headers.emplace_back(header.key(), header.value());
    }
    return record;
}

}  // namespace

const char* outcome_name(RedeliveryOutcome outcome) {
    switch (outcome) {
        case RedeliveryOutcome::applied:
            return "applied";
        case RedeliveryOutcome::ignored:
            return "ignored";
        case RedeliveryOutcome::duplicate:
            return "duplicate";
        case RedeliveryOutcome::dead_lettered:
            return "dead-lettered";
        case RedeliveryOutcome::parked:
            return "parked";
    }
    return "?";
}

struct InboxConsumer::Impl {
    Impl(EventStore& store_in, InboxOptions options_in, InboxHandler handler_in)
        : store(store_in), options(std::move(options_in)), handler(std::move(handler_in)) {}

    EventStore& store;
    InboxOptions options;
    InboxHandler handler;
    std::shared_ptr<spdlog::logger> log = logger("inbox");
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::unique_ptr<RdKafka::KafkaConsumer> consumer;
    DeliveryWaiter dead_letter_delivery;
    std::unique_ptr<RdKafka::Producer> dead_letter_producer;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    InboxStats stats;                     // guarded by mutex
    std::string failure;                  // guarded by mutex
    std::condition_variable stop_signal;  // wakes a backoff wait early
    // Held while a record is processed, so that a redelivery never runs beside a consumed record
    // (the handler and the dead-letter producer's delivery wait are not shared safely).
    std::mutex processing;

    template <class Update>
    void record(Update update) {
        {
            std::lock_guard lock(mutex);
            update(stats);
        }
        changed.notify_all();
    }

    // Parked records (guarded by `processing`, like everything a record's processing touches):
    // their keys, and how many each "topic NUL aggregate" has.
    std::set<std::string> parked_keys;
    std::map<std::string, std::size_t> parked_per_aggregate;
    // The parked record being retried, while retry_parked() runs it.
    const v1::ParkedRecord* retrying = nullptr;

    // A decoded, deduplicated record: either settled already, or to be handled under `key`.
    struct Prepared {
        std::optional<RedeliveryOutcome> outcome;
        v1::EventEnvelope envelope;
        std::string key;
        std::string original_key;
    };
    // One try of the handler: its verdict, or the text of a retryable error.
    struct Attempt {
        std::optional<HandlerVerdict> verdict;
        std::string error;
        bool storage = false;  // the store cannot write: not the record's fault, no budget spent
    };

    void run();
    RedeliveryOutcome process(const InboundRecord& message, bool redelivery);
    Prepared prepare(const InboundRecord& message, bool redelivery);
    Attempt attempt(const InboundEvent& inbound);
    RedeliveryOutcome settle(const InboundRecord& message, const Prepared& prepared, const HandlerVerdict& verdict,
                             bool redelivery);
    RedeliveryOutcome park(const InboundRecord& message, const v1::EventEnvelope& envelope, bool redelivery,
                           const std::string& reason, int attempts);
    void unpark(const std::string& key, const v1::ParkedRecord& entry, RedeliveryOutcome outcome);
    void load_parked();
    std::vector<std::pair<std::string, v1::ParkedRecord>> read_parked() const;
    ParkedRetry retry_parked(const std::string& aggregate_id);
    static std::string aggregate_slot(const std::string& topic, const std::string& aggregate_id) {
        return topic + '\0' + aggregate_id;
    }
    // Produces the dead letter; the delivery error, or empty once it is on the topic.
    std::string dead_letter(const InboundRecord& message, const std::string& reason);
    void mark_processed(const std::string& inbox_key, bool dead_lettered = false);
    void store_offset(RdKafka::Message& message);
    // Sleeps for the backoff of attempt `attempt`; false if stopping.
    bool back_off(int attempt);
    void update_lag();
};

void InboxConsumer::Impl::store_offset(RdKafka::Message& message) {
    std::vector<RdKafka::TopicPartition*> offsets = {
        RdKafka::TopicPartition::create(message.topic_name(), message.partition(), message.offset() + 1)};
    (void)consumer->offsets_store(offsets);
    RdKafka::TopicPartition::destroy(offsets);
}

bool InboxConsumer::Impl::back_off(int attempt) {
    static thread_local std::mt19937 random{std::random_device{}()};
    const auto cap =
        std::min<std::int64_t>(options.retry_max.count(), options.retry_initial.count() << std::min(attempt, 20));
    // "Full jitter": a random wait up to the exponential cap, so that many retrying consumers spread out.
    const auto wait = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(cap / 2, cap)(random));
    std::unique_lock lock(mutex);
    return !stop_signal.wait_for(lock, wait, [&] { return stopping.load(); });
}

void InboxConsumer::Impl::mark_processed(const std::string& inbox_key, bool dead_lettered) {
    if (store.was_processed(inbox_key)) {
        return;
    }
    Commit commit;
    commit.inbox_key = inbox_key;
    if (dead_lettered) {  // lets a re-drive tell "dead-lettered" from "applied" (see redeliver())
        commit.metadata.emplace_back(InboxConsumer::dead_letter_mark(inbox_key), utc_now_iso8601());
    }
    (void)store.commit(std::move(commit));
}

std::string InboxConsumer::Impl::dead_letter(const InboundRecord& message, const std::string& reason) {
    log->warn("dead-lettering {}/{}@{}: {}", message.topic, message.partition, message.offset, reason);
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [key, value] : message.headers) {
        headers->add(key, value);
    }
    headers->add(headers::kDeadLetterReason, reason);
    headers->add(headers::kDeadLetterTopic, message.topic);
    headers->add(headers::kDeadLetterPartition, std::to_string(message.partition));
    headers->add(headers::kDeadLetterOffset, std::to_string(message.offset));
    headers->add(headers::kDeadLetterTime, utc_now_iso8601());
    headers->add(headers::kDeadLetterConsumer, options.consumer_name);
    dead_letter_delivery = DeliveryWaiter{};
    const RdKafka::ErrorCode code = dead_letter_producer->produce(
        options.dead_letter_topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(message.value.data()), message.value.size(), message.key.data(), message.key.size(), 0,
        headers, nullptr);
    if (code != RdKafka::ERR_NO_ERROR) {
        delete headers;
        return RdKafka::err2str(code);
    }
    // The producer's message.timeout.ms is dead_letter_timeout: the delivery report comes by then.
    // The deadline here only guards against a report that never comes.
    const auto deadline = std::chrono::steady_clock::now() + options.dead_letter_timeout + std::chrono::seconds(5);
    while (!dead_letter_delivery.done && std::chrono::steady_clock::now() < deadline) {
        dead_letter_producer->poll(100);
    }
    if (!dead_letter_delivery.done) {
        return "no delivery report within " + std::to_string(options.dead_letter_timeout.count()) + " ms";
    }
    if (dead_letter_delivery.error.empty()) {
        record([](InboxStats& s) { ++s.dead_lettered; });
    }
    return dead_letter_delivery.error;
}

InboxConsumer::Impl::Prepared InboxConsumer::Impl::prepare(const InboundRecord& message, bool redelivery) {
    Prepared prepared;
    const auto poison = [&](const std::string& reason) {
        prepared.outcome = settle(message, prepared, HandlerVerdict::poison(reason), redelivery);
        return prepared;
    };
    if (!prepared.envelope.ParseFromString(message.value)) {
        prepared.envelope.Clear();
        return poison("undecodable: the value is not a gatehouse.kernel.v1.EventEnvelope");
    }
    const v1::EventEnvelope& envelope = prepared.envelope;
    if (envelope.event_id().empty() || envelope.event_type().empty() || envelope.aggregate_id().empty()) {
        return poison("invalid envelope: event_id, event_type and aggregate_id are required");
    }
    // Defence in depth behind the broker's ACLs: only the topic's owner may write to it, so an event
    // that names another producer was forged or misrouted, and no handler sees it.
    if (!options.producer.empty() && envelope.producer() != options.producer) {
        return poison("wrong producer: " + message.topic + " is written by \"" + options.producer +
                      "\" only, this event names \"" + envelope.producer() + "\"");
    }
    prepared.original_key = InboxConsumer::inbox_key(options.consumer_name, envelope.event_id());
    prepared.key = prepared.original_key;
    if (store.was_processed(prepared.original_key)) {
        // A re-drive may run an event once more only if it was marked processed for being
        // dead-lettered, and then under a key of its own, so that repeating it changes nothing.
        if (!redelivery || !store.read_metadata(InboxConsumer::dead_letter_mark(prepared.original_key)) ||
            store.was_processed(InboxConsumer::redrive_key(prepared.original_key))) {
            record([](InboxStats& s) { ++s.duplicates; });
            prepared.outcome = RedeliveryOutcome::duplicate;
            return prepared;
        }
        prepared.key = InboxConsumer::redrive_key(prepared.original_key);
    }
    return prepared;
}

InboxConsumer::Impl::Attempt InboxConsumer::Impl::attempt(const InboundEvent& inbound) {
    try {
        return {handler(inbound), {}};
    } catch (const StoreError&) {
        throw;  // the log is unusable: stop, do not dead-letter or park a good event
    } catch (const StorageUnavailable& error) {
        return {std::nullopt, error.what(), true};
    } catch (const KernelError& error) {
        if (error.is_retryable()) {
            return {std::nullopt, error.what()};
        }
        return {HandlerVerdict::poison(error.what()), {}};
    } catch (const std::exception& error) {
        return {HandlerVerdict::poison(std::string("handler failed: ") + error.what()), {}};
    }
}

RedeliveryOutcome InboxConsumer::Impl::settle(const InboundRecord& message, const Prepared& prepared,
                                              const HandlerVerdict& verdict, bool redelivery) {
    switch (verdict.kind) {
        case HandlerVerdict::Kind::poison:
            if (const std::string error = dead_letter(message, verdict.reason); !error.empty()) {
                log->error("cannot write the dead letter to {}: {}", options.dead_letter_topic, error);
                return park(message, prepared.envelope, redelivery,
                            verdict.reason + " (and the dead-letter topic could not be written: " + error + ")", 0);
            }
            // Marked (with the dead-letter mark) so that consumption never retries it; a failed
            // re-drive marks nothing, so the new dead letter can be re-driven in turn.
            if (!prepared.key.empty() && prepared.key == prepared.original_key) {
                mark_processed(prepared.key, true);
            }
            return RedeliveryOutcome::dead_lettered;
        case HandlerVerdict::Kind::applied:
            record([](InboxStats& s) { ++s.applied; });
            break;
        case HandlerVerdict::Kind::ignored:
            record([](InboxStats& s) { ++s.ignored; });
            // Nothing was written for it: its record needs no fsync of its own (event_store.h).
            if (!store.was_processed(prepared.key)) {
                store.mark_processed_lazily(prepared.key);
            }
            return RedeliveryOutcome::ignored;
    }
    // The handler's own commit normally carried the inbox record; make sure it exists.
    mark_processed(prepared.key);
    return RedeliveryOutcome::applied;
}

RedeliveryOutcome InboxConsumer::Impl::park(const InboundRecord& message, const v1::EventEnvelope& envelope,
                                            bool redelivery, const std::string& reason, int attempts) {
    v1::ParkedRecord entry;
    entry.set_topic(message.topic);
    entry.set_partition(message.partition);
    entry.set_offset(message.offset);
    entry.set_key(message.key);
    entry.set_value(message.value);
    for (const auto& [key, value] : message.headers) {
        auto& header = *entry.add_headers();
        header.set_key(key);
        header.set_value(value);
    }
    entry.set_event_id(envelope.event_id());
    entry.set_event_type(envelope.event_type());
    entry.set_aggregate_id(envelope.aggregate_id());
    entry.set_reason(reason);
    entry.set_redrive(redelivery);
    *entry.mutable_last_attempt_at() = to_timestamp(std::chrono::system_clock::now());
    if (retrying != nullptr) {  // parked again: it keeps its history
        entry.set_attempts(retrying->attempts() + std::max(attempts, 1));
        *entry.mutable_parked_at() = retrying->parked_at();
    } else {
        entry.set_attempts(attempts);
        *entry.mutable_parked_at() = entry.last_attempt_at();
    }
    const std::string key = parked_key(options.consumer_name, entry);
    if (retrying == nullptr && parked_keys.count(key) != 0) {
        return RedeliveryOutcome::parked;  // consumed again after a restart: it is parked already
    }
    Commit commit;
    commit.index_changes.puts.emplace_back(key, entry.SerializeAsString());
    (void)store.commit(std::move(commit));
    if (parked_keys.insert(key).second) {
        ++parked_per_aggregate[aggregate_slot(entry.topic(), entry.aggregate_id())];
        record([](InboxStats& s) { ++s.parked; });
        log->warn("parked {}/{}@{} (event {} {} of aggregate {}) after {} attempt(s): {}", entry.topic(),
                  entry.partition(), entry.offset(), entry.event_type(), entry.event_id(), entry.aggregate_id(),
                  entry.attempts(), reason);
    }
    return RedeliveryOutcome::parked;
}

void InboxConsumer::Impl::unpark(const std::string& key, const v1::ParkedRecord& entry, RedeliveryOutcome outcome) {
    Commit commit;
    commit.index_changes.deletes.push_back(key);
    (void)store.commit(std::move(commit));
    if (parked_keys.erase(key) != 0) {
        const std::string slot = aggregate_slot(entry.topic(), entry.aggregate_id());
        if (auto it = parked_per_aggregate.find(slot); it != parked_per_aggregate.end() && --it->second == 0) {
            parked_per_aggregate.erase(it);
        }
        record([](InboxStats& s) {
            --s.parked;
            ++s.unparked;
        });
    }
    log->info("unparked {}/{}@{} (event {} of aggregate {}): {}", entry.topic(), entry.partition(), entry.offset(),
              entry.event_id(), entry.aggregate_id(), outcome_name(outcome));
}

std::vector<std::pair<std::string, v1::ParkedRecord>> InboxConsumer::Impl::read_parked() const {
    std::vector<std::pair<std::string, v1::ParkedRecord>> entries;
    for (const std::string& topic : options.topics) {
        const std::string lower = parked_prefix(options.consumer_name, topic);
        std::string upper = lower;
        upper.back() = '\x01';
        store.scan_index(lower, upper, [&](std::string_view key, std::string_view value) {
            v1::ParkedRecord entry;
            if (entry.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                entries.emplace_back(std::string(key), std::move(entry));
            }
            return true;
        });
    }
    return entries;
}

void InboxConsumer::Impl::load_parked() {
    parked_keys.clear();
    parked_per_aggregate.clear();
    for (const auto& [key, entry] : read_parked()) {
        parked_keys.insert(key);
        ++parked_per_aggregate[aggregate_slot(entry.topic(), entry.aggregate_id())];
    }
    record([count = parked_keys.size()](InboxStats& s) { s.parked = count; });
    if (!parked_keys.empty()) {
        log->warn("inbox {}: {} parked record(s) from before; retried every {} s", options.consumer_name,
                  parked_keys.size(), options.parked_retry_interval.count() / 1000);
    }
}

ParkedRetry InboxConsumer::Impl::retry_parked(const std::string& aggregate_id) {
    ParkedRetry result;
    std::string blocked;  // the aggregate whose earlier record failed again: the rest of it waits
    for (const auto& [key, entry] : read_parked()) {
        if (!aggregate_id.empty() && entry.aggregate_id() != aggregate_id) {
            continue;
        }
        const std::string slot = aggregate_slot(entry.topic(), entry.aggregate_id());
        if (slot == blocked || stopping) {
            ++result.still_parked;
            continue;
        }
        retrying = &entry;
        RedeliveryOutcome outcome{};
        try {
            const InboundRecord message = record_of(entry);
            const Prepared prepared = prepare(message, entry.redrive());
            if (prepared.outcome) {
                outcome = *prepared.outcome;
            } else {
                const InboundEvent inbound{prepared.envelope, message.topic, message.partition, message.offset,
                                           prepared.key};
                const Attempt tried = attempt(inbound);
                if (tried.storage) {
                    throw StorageUnavailable(tried.error);
                }
                if (tried.verdict) {
                    outcome = settle(message, prepared, *tried.verdict, entry.redrive());
                } else {
                    record([](InboxStats& s) { ++s.retries; });
                    outcome = park(message, prepared.envelope, entry.redrive(), tried.error, 1);
                }
            }
        } catch (...) {
            retrying = nullptr;
            throw;
        }
        retrying = nullptr;
        if (outcome == RedeliveryOutcome::parked) {
            blocked = slot;
            ++result.still_parked;
        } else {
            unpark(key, entry, outcome);
            ++result.processed;
        }
    }
    return result;
}

RedeliveryOutcome InboxConsumer::Impl::process(const InboundRecord& message, bool redelivery) {
    if (!redelivery) {
        record([](InboxStats& s) { ++s.received; });
    }
    const Prepared prepared = prepare(message, redelivery);
    if (prepared.outcome) {
        return *prepared.outcome;
    }
    const v1::EventEnvelope& envelope = prepared.envelope;
    if (parked_per_aggregate.count(aggregate_slot(message.topic, envelope.aggregate_id())) != 0) {
        return park(message, envelope, redelivery, "waiting behind an earlier parked record of the same aggregate", 0);
    }
    const InboundEvent inbound{envelope, message.topic, message.partition, message.offset, prepared.key};
    const auto first_failure = std::chrono::steady_clock::now();
    for (int attempts = 1;; ++attempts) {
        const Attempt tried = attempt(inbound);
        if (tried.verdict) {
            return settle(message, prepared, *tried.verdict, redelivery);
        }
        log->warn("handling {} ({}) failed (attempt {}): {}", envelope.event_id(), envelope.event_type(), attempts,
                  tried.error);
        record([](InboxStats& s) { ++s.retries; });
        if (tried.storage) {
            throw StorageUnavailable(tried.error);  // not the record's fault: run() waits for the store
        }
        if (attempts >= options.retry_attempts ||
            std::chrono::steady_clock::now() - first_failure >= options.retry_budget) {
            return park(message, envelope, redelivery, tried.error, attempts);
        }
        if (!back_off(attempts - 1)) {
            throw TransientError("stopped while retrying");
        }
    }
}

void InboxConsumer::Impl::update_lag() {
    std::vector<RdKafka::TopicPartition*> assigned;
    if (consumer->assignment(assigned) != RdKafka::ERR_NO_ERROR) {
        return;
    }
    (void)consumer->position(assigned);
    std::int64_t lag = 0;
    for (RdKafka::TopicPartition* partition : assigned) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (consumer->get_watermark_offsets(partition->topic(), partition->partition(), &low, &high) ==
                RdKafka::ERR_NO_ERROR &&
            partition->offset() >= 0 && high >= partition->offset()) {
            lag += high - partition->offset();
        }
    }
    RdKafka::TopicPartition::destroy(assigned);
    record([lag](InboxStats& s) { s.lag = lag; });
}

void InboxConsumer::Impl::run() {
    auto last_lag = std::chrono::steady_clock::now();
    auto last_parked_retry = std::chrono::steady_clock::now();
    try {
        while (!stopping) {
            if (std::chrono::steady_clock::now() - last_parked_retry >= options.parked_retry_interval &&
                store.write_failure().empty()) {
                std::lock_guard lock(processing);
                if (!parked_keys.empty()) {
                    try {
                        const ParkedRetry retried = retry_parked({});
                        log->log(retried.processed > 0 ? spdlog::level::info : spdlog::level::debug,
                                 "inbox {}: parked records retried: {} processed, {} still parked",
                                 options.consumer_name, retried.processed, retried.still_parked);
                    } catch (const StorageUnavailable& error) {
                        log->warn("inbox {}: parked records not retried: {}", options.consumer_name, error.what());
                    }
                }
                last_parked_retry = std::chrono::steady_clock::now();
            }
            std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
            switch (message->err()) {
                case RdKafka::ERR_NO_ERROR: {
                    const InboundRecord inbound = to_record(*message);
                    // While the store cannot write (disk full, I/O errors) the record is neither
                    // processed nor skipped: it is tried again, with the store, until it writes.
                    for (int waits = 0;; ++waits) {
                        try {
                            std::lock_guard lock(processing);
                            (void)process(inbound, false);
                            break;
                        } catch (const StorageUnavailable& error) {
                            if (waits == 0) {
                                log->error("inbox {}: the store cannot write ({}); waiting for it",
                                           options.consumer_name, error.what());
                            }
                            (void)store.try_resume();
                            if (!back_off(std::min(waits, 5))) {
                                throw TransientError("stopped while waiting for the store");
                            }
                        }
                    }
                    store_offset(*message);
                    break;
                }
                case RdKafka::ERR__TIMED_OUT:
                case RdKafka::ERR__PARTITION_EOF:
                    break;
                default:
                    log->warn("consumer: {}", message->errstr());
            }
            if (std::chrono::steady_clock::now() - last_lag > std::chrono::seconds(1)) {
                update_lag();
                last_lag = std::chrono::steady_clock::now();
            }
        }
    } catch (const std::exception& error) {
        if (!stopping) {
            log->critical("inbox {} stopped: {}", options.consumer_name, error.what());
            std::lock_guard lock(mutex);
            failure = error.what();
        }
        changed.notify_all();
    }
}

InboxConsumer::InboxConsumer(EventStore& store, InboxOptions options, InboxHandler handler)
    : impl_(std::make_unique<Impl>(store, std::move(options), std::move(handler))) {
    if (impl_->options.consumer_name.empty()) {
        throw ConfigError("inbox consumer: consumer_name (the group id) is required");
    }
    if (impl_->options.dead_letter_topic.empty()) {
        throw ConfigError("inbox consumer " + impl_->options.consumer_name + ": dead_letter_topic is required");
    }
}

InboxConsumer::~InboxConsumer() { stop(); }

void InboxConsumer::start() {
    if (impl_->thread.joinable()) {
        return;
    }
    std::map<std::string, std::string> overrides = impl_->options.consumer_properties;
    overrides["group.id"] = impl_->options.group_id.empty() ? impl_->options.consumer_name : impl_->options.group_id;
    overrides["enable.auto.commit"] = "true";         // commits only what we stored...
    overrides["enable.auto.offset.store"] = "false";  // ...which is after processing
    overrides.try_emplace("auto.offset.reset", "earliest");
    overrides.try_emplace("auto.commit.interval.ms", "500");
    // An input topic created after the service subscribed is seen at the next metadata refresh
    // (librdkafka's default: 5 minutes); look every 10 s instead.
    if (impl_->options.kafka.properties.count("topic.metadata.refresh.interval.ms") == 0) {
        overrides.try_emplace("topic.metadata.refresh.interval.ms", "10000");
    }
    auto conf = kafka::make_conf(impl_->options.kafka, overrides);
    std::string error;
    impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!impl_->consumer) {
        throw ConfigError("cannot create the Kafka consumer " + impl_->options.consumer_name + ": " + error);
    }
    auto producer_conf = kafka::make_conf(
        impl_->options.kafka, {{"enable.idempotence", "true"},
                               {"acks", "all"},
                               {"message.timeout.ms", std::to_string(impl_->options.dead_letter_timeout.count())}});
    if (producer_conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&impl_->dead_letter_delivery), error) !=
        RdKafka::Conf::CONF_OK) {
        throw ConfigError("delivery callback: " + error);
    }
    impl_->dead_letter_producer.reset(RdKafka::Producer::create(producer_conf.get(), error));
    if (!impl_->dead_letter_producer) {
        throw ConfigError("cannot create the dead-letter producer: " + error);
    }
    if (const RdKafka::ErrorCode code = impl_->consumer->subscribe(impl_->options.topics);
        code != RdKafka::ERR_NO_ERROR) {
        throw ConfigError("cannot subscribe to the input topics: " + RdKafka::err2str(code));
    }
    {
        std::lock_guard lock(impl_->processing);
        impl_->load_parked();
    }
    impl_->stopping = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void InboxConsumer::stop() {
    if (!impl_->thread.joinable()) {
        return;
    }
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->stop_signal.notify_all();
    impl_->thread.join();
    // close() commits the offsets stored so far and leaves the group.
    (void)impl_->consumer->close();
    impl_->consumer.reset();
    (void)impl_->dead_letter_producer->flush(5000);
    impl_->dead_letter_producer.reset();
}

InboxStats InboxConsumer::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

bool InboxConsumer::wait_for(const std::function<bool(const InboxStats&)>& done,
                             std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] { return done(impl_->stats) || !impl_->failure.empty(); }) &&
           done(impl_->stats);
}

const std::vector<std::string>& InboxConsumer::topics() const { return impl_->options.topics; }

RedeliveryOutcome InboxConsumer::redeliver(const InboundRecord& record) {
    if (!impl_->dead_letter_producer) {
        throw ConfigError("inbox consumer " + impl_->options.consumer_name + ": redeliver() before start()");
    }
    std::lock_guard lock(impl_->processing);
    return impl_->process(record, true);
}

std::vector<ParkedRecord> InboxConsumer::parked() const {
    std::vector<ParkedRecord> out;
    for (const auto& [key, entry] : impl_->read_parked()) {
        ParkedRecord& parked = out.emplace_back();
        parked.record = record_of(entry);
        parked.event_id = entry.event_id();
        parked.event_type = entry.event_type();
        parked.aggregate_id = entry.aggregate_id();
        parked.reason = entry.reason();
        parked.attempts = entry.attempts();
        parked.parked_at = to_time_point(entry.parked_at());
        parked.last_attempt_at = to_time_point(entry.last_attempt_at());
    }
    return out;
}

ParkedRetry InboxConsumer::retry_parked(const std::string& aggregate_id) {
    if (!impl_->dead_letter_producer) {
        throw ConfigError("inbox consumer " + impl_->options.consumer_name + ": retry_parked() before start()");
    }
    std::lock_guard lock(impl_->processing);
    return impl_->retry_parked(aggregate_id);
}

std::string InboxConsumer::failure() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->failure;
}

}  // namespace gatehouse::kernel
