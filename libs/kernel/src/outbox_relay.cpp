#include "gatehouse/kernel/outbox_relay.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/partitioner.h"
#include "gatehouse/kernel/time.h"
#include "kafka_client.h"
#include "rocks_helpers.h"

namespace gatehouse::kernel {
namespace {

using Clock = std::chrono::steady_clock;

// The CloudEvents binary-mode attributes of one event (kafka_settings.h, headers::cloudevents).
void add_cloudevents_headers(RdKafka::Headers& record_headers, const v1::EventEnvelope& envelope) {
    namespace ce = headers::cloudevents;
    record_headers.add(ce::kSpecVersion, ce::kSpecVersionValue);
    record_headers.add(ce::kId, envelope.event_id());
    record_headers.add(ce::kSource, std::string(ce::kSourcePrefix) + envelope.producer());
    record_headers.add(ce::kType, envelope.event_type());
    record_headers.add(ce::kTime, google::protobuf::util::TimeUtil::ToString(envelope.occurred_at()));
    record_headers.add(ce::kSubject, envelope.aggregate_id());
    record_headers.add(ce::kDataSchema, ce::kDataSchemaValue);
    record_headers.add(ce::kContentType, ce::kContentTypeValue);
}

// Tracks which log positions the broker has acknowledged. Called only on the relay thread (from
// Producer::poll), so it needs no lock of its own.
class DeliveryTracker final : public RdKafka::DeliveryReportCb {
  public:
    void dr_cb(RdKafka::Message& message) override {
        const auto position = reinterpret_cast<std::uintptr_t>(message.msg_opaque());
        if (message.err() != RdKafka::ERR_NO_ERROR) {
            if (error_.empty()) {
                error_ = "log position " + std::to_string(position) + ": " + message.errstr();
            }
            return;
        }
        in_flight_[position] = true;
        ++acknowledged_;
    }
    void sent(std::uint64_t position) { in_flight_.emplace(position, false); }
    void already_there(std::uint64_t position) { in_flight_.emplace(position, true); }
    // Moves `position` over every acknowledged event at the front.
    void advance(LogPosition& position) {
        while (!in_flight_.empty() && in_flight_.begin()->second) {
            position = LogPosition{in_flight_.begin()->first};
            in_flight_.erase(in_flight_.begin());
        }
    }
    [[nodiscard]] bool has_in_flight() const { return !in_flight_.empty(); }
    [[nodiscard]] const std::string& error() const { return error_; }
    std::uint64_t take_acknowledged() { return std::exchange(acknowledged_, 0); }
    void reset() {
        in_flight_.clear();
        error_.clear();
        acknowledged_ = 0;
    }

  private:
    std::map<std::uint64_t, bool> in_flight_;
    std::string error_;
    std::uint64_t acknowledged_ = 0;
};

}  // namespace

struct OutboxRelay::Impl {
    Impl(EventStore& store_in, RelayOptions options_in)
        : store(store_in), options(std::move(options_in)), position_key("relay/" + options.topic) {}

    EventStore& store;
    RelayOptions options;
    std::string position_key;
    std::shared_ptr<spdlog::logger> log = logger("relay");
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::chrono::milliseconds drain{10000};

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    RelayStats stats;     // guarded by mutex
    std::string failure;  // guarded by mutex

    void run();
    // One producer session. Returns true if a delivery failed and a new session must start.
    bool session();
    std::vector<std::uint64_t> read_partition_tails(int partitions);
    void publish_progress(LogPosition position, std::uint64_t acknowledged, std::uint64_t skipped) {
        {
            std::lock_guard lock(mutex);
            stats.position = std::max(stats.position, position);
            stats.published += acknowledged;
            stats.already_on_topic += skipped;
        }
        changed.notify_all();
    }
    void persist(LogPosition position) {
        store.write_metadata_lazily(position_key, rocks::big_endian_key(position.value));
    }
    void set_waiting(std::string why) {
        {
            std::lock_guard lock(mutex);
            if (stats.waiting == why) {
                return;
            }
            stats.waiting = std::move(why);
        }
        changed.notify_all();
    }
    // Sleeps up to `wait`, in short steps so that stop() is prompt; false if stopping.
    bool pause(std::chrono::milliseconds wait) const {
        const auto until = Clock::now() + wait;
        while (!stopping && Clock::now() < until) {
            std::this_thread::sleep_for(
                std::min<Clock::duration>(std::chrono::milliseconds(100), until - Clock::now()));
        }
        return !stopping;
    }
    void fail(const std::string& why) {
        log->error("relay to {} stopped: {}", options.topic, why);
        {
            std::lock_guard lock(mutex);
            failure = why;
        }
        changed.notify_all();
    }
};

std::vector<std::uint64_t> OutboxRelay::Impl::read_partition_tails(int partitions) {
    std::vector<std::uint64_t> tails(static_cast<std::size_t>(partitions), 0);
    std::string error;
    auto conf = kafka::make_conf(options.kafka, {{"enable.partition.eof", "true"}});
    std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
    if (!consumer) {
        throw ConfigError("cannot create a Kafka consumer: " + error);
    }
    std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(consumer.get(), options.topic, nullptr, error));
    for (int partition = 0; partition < partitions && !stopping; ++partition) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        RdKafka::ErrorCode code = RdKafka::ERR_NO_ERROR;
        const auto deadline = Clock::now() + options.topic_wait;
        while ((code = consumer->query_watermark_offsets(options.topic, partition, &low, &high, 5000)) !=
               RdKafka::ERR_NO_ERROR) {
            if (Clock::now() > deadline || stopping) {
                throw TransientError("cannot read the end of " + options.topic + "/" + std::to_string(partition) +
                                     ": " + RdKafka::err2str(code));
            }
        }
        if (high <= low) {
            continue;
        }
        consumer->start(topic.get(), partition, high - 1);
        const auto read_deadline = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < read_deadline && !stopping) {
            std::unique_ptr<RdKafka::Message> message(consumer->consume(topic.get(), partition, 1000));
            if (message->err() == RdKafka::ERR_NO_ERROR) {
                const RdKafka::Headers* headers = message->headers();
                const std::string log_id = kafka::header_value(headers, headers::kLogId);
                const std::string position = kafka::header_value(headers, headers::kLogPosition);
                if (log_id == store.log_id() && !position.empty()) {
                    tails[static_cast<std::size_t>(partition)] = std::stoull(position);
                } else {
                    log->warn("the last record of {}/{} (offset {}) is not from this log; not skipping anything there",
                              options.topic, partition, message->offset());
                }
                break;
            }
            if (message->err() != RdKafka::ERR__TIMED_OUT && message->err() != RdKafka::ERR__PARTITION_EOF) {
                throw TransientError("cannot read the last record of " + options.topic + "/" +
                                     std::to_string(partition) + ": " + message->errstr());
            }
        }
        consumer->stop(topic.get(), partition);
    }
    return tails;
}

bool OutboxRelay::Impl::session() {
    DeliveryTracker tracker;
    std::map<std::string, std::string> overrides = options.producer_properties;
    overrides["enable.idempotence"] = "true";
    overrides["acks"] = "all";
    overrides.try_emplace("linger.ms", "5");
    overrides.try_emplace("compression.type", "lz4");
    auto conf = kafka::make_conf(options.kafka, overrides);
    std::string error;
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&tracker), error) != RdKafka::Conf::CONF_OK) {
        throw ConfigError("delivery callback: " + error);
    }
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    if (!producer) {
        throw ConfigError("cannot create a Kafka producer: " + error);
    }

    // The topic's partitions: until the broker answers and the topic exists, wait (backing off to
    // 5 s) for as long as it takes; the service keeps serving and its events stay in the log.
    int partitions = -1;
    const auto started = Clock::now();
    bool said = false;
    std::chrono::milliseconds backoff{250};
    while ((partitions = kafka::partition_count(*producer, options.topic, 5000)) < 0) {
        set_waiting("topic " + options.topic + " not reachable: broker down or topic missing");
        if (!said && Clock::now() - started > options.topic_wait) {
            log->error(
                "topic {} still not reachable after {} s (broker down, or the topic missing: create it with "
                "the settings in docs/kafka.md); events stay in the log and are published once it is",
                options.topic, options.topic_wait.count() / 1000);
            said = true;
        }
        if (!pause(backoff)) {
            return false;
        }
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
    }
    if (said) {
        log->info("topic {} reachable again", options.topic);
    }
    set_waiting({});
    const std::vector<std::uint64_t> tails = read_partition_tails(partitions);

    LogPosition position;
    {
        std::lock_guard lock(mutex);
        position = stats.position;
    }
    if (auto stored = store.read_metadata(position_key)) {
        position = std::max(position, LogPosition{rocks::read_big_endian(*stored)});
    }
    log->info("relaying {} from log position {} ({} partitions)", options.topic, position.value + 1, partitions);
    LogPosition next = position.next();
    auto last_persist = Clock::now();
    v1::EventEnvelope envelope;
    // Events produced but not yet acknowledged, at most. Deep enough that librdkafka's batches stay
    // full (its own queue holds 100,000 messages by default); bounded so that a broker outage does
    // not queue the whole log in memory.
    constexpr std::uint64_t kWindow = 50'000;

    auto progress = [&](std::uint64_t skipped) {
        tracker.advance(position);
        publish_progress(position, tracker.take_acknowledged(), skipped);
        if (Clock::now() - last_persist > std::chrono::seconds(1)) {
            persist(position);
            last_persist = Clock::now();
        }
    };

    while (!stopping && tracker.error().empty()) {
        const LogPosition head = store.head();
        if (next > head) {
            if (tracker.has_in_flight()) {
                producer->poll(5);
            } else {
                (void)store.wait_for_events_after(head, options.idle_wait);
                producer->poll(0);
            }
            progress(0);
            continue;
        }
        if (next.value - position.value > kWindow) {
            producer->poll(1);  // the window is full: wait for acknowledgements, do not spin
            progress(0);
            continue;
        }
        std::uint64_t skipped = 0;
        store.scan_raw(next, [&](LogPosition at, std::string_view record) {
            if (!envelope.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
                throw CorruptRecordError("event at log position " + std::to_string(at.value) + " does not decode");
            }
            const std::string& key = envelope.aggregate_id();
            const std::int32_t partition = partition_for(key, partitions);
            if (at.value <= tails[static_cast<std::size_t>(partition)]) {
                tracker.already_there(at.value);
                ++skipped;
            } else {
                for (;;) {
                    RdKafka::Headers* record_headers = RdKafka::Headers::create();
                    record_headers->add(headers::kEventType, envelope.event_type());
                    record_headers->add(headers::kEventId, envelope.event_id());
                    record_headers->add(headers::kAggregateType, envelope.aggregate_type());
                    record_headers->add(headers::kLogPosition, std::to_string(at.value));
                    record_headers->add(headers::kLogId, store.log_id());
                    add_cloudevents_headers(*record_headers, envelope);
                    const RdKafka::ErrorCode code = producer->produce(
                        options.topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(record.data()),
                        record.size(), key.data(), key.size(), 0, record_headers,
                        reinterpret_cast<void*>(static_cast<std::uintptr_t>(at.value)));
                    if (code == RdKafka::ERR_NO_ERROR) {
                        tracker.sent(at.value);
                        break;
                    }
                    delete record_headers;  // not taken over by a failed produce()
                    if (code != RdKafka::ERR__QUEUE_FULL) {
                        throw TransientError("cannot queue log position " + std::to_string(at.value) + " for " +
                                             options.topic + ": " + RdKafka::err2str(code));
                    }
                    producer->poll(50);
                    if (stopping) {
                        return false;
                    }
                }
            }
            next = at.next();
            return next.value - position.value <= kWindow && next <= head;
        });
        producer->poll(0);
        progress(skipped);
    }

    if (!tracker.error().empty()) {
        log->warn("delivery to {} failed ({}); starting a new producer session", options.topic, tracker.error());
        set_waiting("delivery to " + options.topic + " failed: " + tracker.error());
        producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
        producer->poll(0);
        progress(0);
        persist(position);
        return true;
    }
    // Stopping: deliver what is in flight, within the drain time.
    (void)producer->flush(static_cast<int>(drain.count()));
    producer->poll(0);
    progress(0);
    persist(position);
    return false;
}

void OutboxRelay::Impl::run() {
    while (!stopping) {
        {
            std::lock_guard lock(mutex);
            ++stats.sessions;
        }
        try {
            if (!session()) {
                return;
            }
        } catch (const KernelError& error) {
            if (!error.is_retryable()) {
                fail(error.what());
                return;
            }
            log->warn("relay to {}: {}; retrying", options.topic, error.what());
            set_waiting(error.what());
            if (!pause(std::chrono::seconds(1))) {  // back off before a new session
                return;
            }
        } catch (const std::exception& error) {
            fail(error.what());
            return;
        }
    }
}

OutboxRelay::OutboxRelay(EventStore& store, RelayOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

OutboxRelay::~OutboxRelay() { stop(); }

void OutboxRelay::start() {
    if (impl_->thread.joinable()) {
        return;
    }
    impl_->stopping = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void OutboxRelay::stop(std::chrono::milliseconds drain) {
    if (!impl_->thread.joinable()) {
        return;
    }
    impl_->drain = drain;
    impl_->stopping = true;
    impl_->thread.join();
}

RelayStats OutboxRelay::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

bool OutboxRelay::wait_until_published(LogPosition position, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] {
        return impl_->stats.position >= position || !impl_->failure.empty();
    }) && impl_->stats.position >= position;
}

std::string OutboxRelay::failure() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->failure;
}

}  // namespace gatehouse::kernel
