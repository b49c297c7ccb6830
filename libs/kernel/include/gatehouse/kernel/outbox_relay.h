// The outbox relay: the only way events leave a service. It tails the service's log and publishes
// each event to the service's topic with an idempotent producer (acks=all), keyed by aggregate id
// and sent to the partition Kafka's default partitioner picks for that key.
//
// Exactly once on the topic, without Kafka transactions: each record carries its log position and
// the log's id in headers. On (re)start the relay reads the last record of every partition; since
// an idempotent producer writes a partition in order and without gaps, every event of that
// partition up to that position is already there and is skipped. The published position stored in
// RocksDB is only a starting hint and may lag safely.
//
// Thread safety: start / stop from one thread; the accessors from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/kernel/event_store.h"
#include "gatehouse/kernel/kafka_settings.h"

namespace gatehouse::kernel {

struct RelayOptions final {
    KafkaSettings kafka;
    std::string topic;
    // How long the relay waits for new events before checking again (it is woken on commits).
    std::chrono::milliseconds idle_wait{200};
    // How long to wait for the topic before saying so loudly (an error in the log). The relay
    // never gives up: while the broker is unreachable or the topic missing, events stay in the
    // log, the service goes on serving, and the relay keeps trying (stats().waiting says why).
    std::chrono::milliseconds topic_wait{60000};
    // Extra librdkafka producer properties (e.g. linger.ms); the kernel's guarantees are not
    // overridable: enable.idempotence, acks.
    std::map<std::string, std::string> producer_properties;
};

struct RelayStats final {
    std::uint64_t published = 0;         // records acknowledged by the broker
    std::uint64_t already_on_topic = 0;  // skipped at restart: found on the topic already
    std::uint64_t sessions = 0;          // producer sessions (1 + restarts after delivery errors)
    LogPosition position{};              // every event up to here is on the topic
    // Why the relay is not publishing right now (broker unreachable, topic missing, a failed
    // delivery being retried); empty while it is.
    std::string waiting;
};

class OutboxRelay final {
  public:
    OutboxRelay(EventStore& store, RelayOptions options);
    ~OutboxRelay();  // stops
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    void start();
    // Publishes what is in flight (waiting up to `drain`), stores the position and stops.
    void stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

    [[nodiscard]] RelayStats stats() const;
    // Waits until every event up to `position` is on the topic; false on timeout.
    bool wait_until_published(LogPosition position, std::chrono::milliseconds timeout) const;
    // Set when the relay stopped on an error it cannot recover from (a corrupt log record, a bad
    // configuration); never for an unreachable broker or a missing topic.
    [[nodiscard]] std::string failure() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::kernel
