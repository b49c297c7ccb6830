// The inbox: how a service reacts to other services' events, effectively once.
//
// For each record of its input topics the consumer skips events it has already processed (an
// inbox record keyed by consumer name + event id, in RocksDB), otherwise calls the handler. The
// handler appends the events it causes with `InboundEvent::inbox_key` in its CommandContext, so
// that the events and the "processed" record are one atomic commit. Only after that is the Kafka
// offset stored for commit. A crash anywhere therefore leads to a redelivery that changes nothing.
//
// Failures: a handler that throws a retryable KernelError (e.g. TransientError) is retried with
// exponential backoff and jitter, within a budget per record (InboxOptions::retry_attempts and
// retry_budget). When the budget is spent the record is *parked*: kept in the service's store
// (parked_record.proto) keyed by its topic and aggregate, and its offset is committed. Later
// records of the same aggregate are parked behind it without being tried (order per aggregate is
// kept); records of other aggregates go on. Parked records are retried in order every
// parked_retry_interval and by the operator (retry_parked()); one that succeeds leaves the
// parking, one that fails again stays, with the later ones of its aggregate.
// Poison records (undecodable, no event id, handler verdict `poison`, or a non-kernel exception)
// are produced to the dead-letter topic with reason and origin in headers, marked processed, and
// consumption continues; if the dead-letter topic cannot be written within
// dead_letter_timeout, the record is parked instead (and dead-lettered when it is retried).
// A StoreError stops the consumer (the local log is unusable): see failure().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/kafka_settings.h"

namespace gatehouse::kernel {

struct InboundEvent final {
    const v1::EventEnvelope& envelope;
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    // Pass this as CommandContext::inbox_key in the commit the event causes.
    std::string inbox_key;
};

struct HandlerVerdict final {
    enum class Kind { applied, ignored, poison };
    Kind kind = Kind::applied;
    std::string reason;  // for poison: why (goes into the dead letter's headers)

    static HandlerVerdict applied() { return {Kind::applied, {}}; }
    static HandlerVerdict ignored() { return {Kind::ignored, {}}; }
    static HandlerVerdict poison(std::string why) { return {Kind::poison, std::move(why)}; }
};

using InboxHandler = std::function<HandlerVerdict(const InboundEvent&)>;

// One Kafka record as the inbox sees it, without librdkafka types: what redeliver() takes.
struct InboundRecord final {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

// What became of a redelivered record.
enum class RedeliveryOutcome { applied, ignored, duplicate, dead_lettered, parked };
// "applied", "ignored", "duplicate", "dead-lettered" or "parked".
const char* outcome_name(RedeliveryOutcome outcome);

// A record kept back after its retry budget was spent (see the top of this file).
struct ParkedRecord final {
    InboundRecord record;
    std::string event_id;  // from the envelope; empty if it does not decode
    std::string event_type;
    std::string aggregate_id;
    std::string reason;  // the last error, or "waiting behind an earlier parked record ..."
    int attempts = 0;    // handler attempts so far
    std::chrono::system_clock::time_point parked_at;
    std::chrono::system_clock::time_point last_attempt_at;
};

// What a retry of parked records did.
struct ParkedRetry final {
    std::size_t processed = 0;     // left the parking (applied, ignored, duplicate or dead-lettered)
    std::size_t still_parked = 0;  // of those asked for
};

struct InboxOptions final {
    KafkaSettings kafka;
    // The consumer group id, and the namespace of this consumer's inbox records.
    std::string consumer_name;
    // The Kafka consumer group; empty: consumer_name. Changing it re-consumes the topics from the
    // start (auto.offset.reset=earliest), which the inbox records make harmless.
    std::string group_id;
    std::vector<std::string> topics;
    // The service that owns `topics` (the envelopes' `producer`); records naming another producer
    // are dead-lettered without reaching the handler. Empty: any producer.
    std::string producer;
    std::string dead_letter_topic;
    std::chrono::milliseconds retry_initial{100};
    std::chrono::milliseconds retry_max{30000};
    // The retry budget of one record: it is parked after this many handler attempts, or once this
    // long has passed since its first failure, whichever comes first.
    int retry_attempts = 10;
    std::chrono::milliseconds retry_budget{std::chrono::minutes(5)};
    // How often parked records are retried.
    std::chrono::milliseconds parked_retry_interval{std::chrono::minutes(1)};
    // The longest a dead letter's delivery is waited for; then the record is parked.
    std::chrono::milliseconds dead_letter_timeout{std::chrono::seconds(30)};
    std::map<std::string, std::string> consumer_properties;
};

struct InboxStats final {
    std::uint64_t received = 0;
    std::uint64_t applied = 0;
    std::uint64_t ignored = 0;
    std::uint64_t duplicates = 0;  // already processed: skipped
    std::uint64_t dead_lettered = 0;
    std::uint64_t retries = 0;
    std::uint64_t parked = 0;    // records parked now
    std::uint64_t unparked = 0;  // records that left the parking since start
    std::int64_t lag = 0;        // records behind the end of the assigned partitions
};

class InboxConsumer final {
  public:
    InboxConsumer(EventStore& store, InboxOptions options, InboxHandler handler);
    ~InboxConsumer();  // stops
    InboxConsumer(const InboxConsumer&) = delete;
    InboxConsumer& operator=(const InboxConsumer&) = delete;

    void start();
    // Finishes the current record, commits the stored offsets and leaves the group.
    void stop();

    [[nodiscard]] InboxStats stats() const;
    // Waits until `done(stats)` holds; false on timeout.
    bool wait_for(const std::function<bool(const InboxStats&)>& done, std::chrono::milliseconds timeout) const;
    [[nodiscard]] std::string failure() const;
    // The topics this consumer reads (with the deployment's prefix).
    [[nodiscard]] const std::vector<std::string>& topics() const;

    // Re-drive of a dead letter: processes `record` (as read from record.topic) exactly as if it had
    // just been consumed: decode, dedupe, handler (with retries), commit, poison -> a new dead letter;
    // no Kafka offset is stored. Runs between two consumed records (never concurrently with one).
    // An event marked processed when it was dead-lettered runs once more, under the inbox key
    // redrive_key(): so a re-drive applies an event at most once, however often it is repeated, and
    // an event already applied (or re-driven) is a `duplicate`. Requires start(). Throws like the
    // consumer would stop (StoreError), or TransientError when stopped while retrying.
    RedeliveryOutcome redeliver(const InboundRecord& record);

    // The records this consumer parked, by topic, aggregate and position (oldest first per
    // aggregate). Reads the store: safe from any thread.
    [[nodiscard]] std::vector<ParkedRecord> parked() const;
    // Retries the parked records of `aggregate_id` (empty: all), in order, one attempt each; stops
    // at an aggregate's first record that fails again. Runs between two consumed records, like
    // redeliver(). Requires start().
    ParkedRetry retry_parked(const std::string& aggregate_id = {});

    static std::string inbox_key(const std::string& consumer_name, const std::string& event_id) {
        return consumer_name + "/" + event_id;
    }
    static std::string redrive_key(const std::string& inbox_key) { return inbox_key + "/redriven"; }
    // Metadata written with the "processed" mark of a dead-lettered event (value: the time).
    static std::string dead_letter_mark(const std::string& inbox_key) { return "dlq/" + inbox_key; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::kernel
