#include "gatehouse/kernel/inbox_consumer.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/logging.h"
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

}  // namespace

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

    void run();
    RedeliveryOutcome process(const InboundRecord& message, bool redelivery);
    void dead_letter(const InboundRecord& message, const std::string& reason);
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

void InboxConsumer::Impl::dead_letter(const InboundRecord& message, const std::string& reason) {
    log->warn("dead-lettering {}/{}@{}: {}", message.topic, message.partition, message.offset, reason);
    for (int attempt = 0;; ++attempt) {
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
        } else {
            while (!dead_letter_delivery.done) {
                dead_letter_producer->poll(100);
            }
            if (dead_letter_delivery.error.empty()) {
                record([](InboxStats& s) { ++s.dead_lettered; });
                return;
            }
        }
        log->warn("cannot write the dead letter to {}: {}; retrying", options.dead_letter_topic,
                  code != RdKafka::ERR_NO_ERROR ? RdKafka::err2str(code) : dead_letter_delivery.error);
        record([](InboxStats& s) { ++s.retries; });
        if (!back_off(attempt)) {
            throw TransientError("stopped while writing a dead letter");
        }
    }
}

RedeliveryOutcome InboxConsumer::Impl::process(const InboundRecord& message, bool redelivery) {
    if (!redelivery) {
        record([](InboxStats& s) { ++s.received; });
    }
    v1::EventEnvelope envelope;
    if (!envelope.ParseFromString(message.value)) {
        dead_letter(message, "undecodable: the value is not a gatehouse.kernel.v1.EventEnvelope");
        return RedeliveryOutcome::dead_lettered;
    }
    if (envelope.event_id().empty() || envelope.event_type().empty() || envelope.aggregate_id().empty()) {
        dead_letter(message, "invalid envelope: event_id, event_type and aggregate_id are required");
        return RedeliveryOutcome::dead_lettered;
    }
    const std::string original_key = InboxConsumer::inbox_key(options.consumer_name, envelope.event_id());
    std::string key = original_key;
    if (store.was_processed(original_key)) {
        // A re-drive may run an event once more only if it was marked processed for being
        // dead-lettered, and then under a key of its own, so that repeating it changes nothing.
        if (!redelivery || !store.read_metadata(InboxConsumer::dead_letter_mark(original_key)) ||
            store.was_processed(InboxConsumer::redrive_key(original_key))) {
            record([](InboxStats& s) { ++s.duplicates; });
            return RedeliveryOutcome::duplicate;
        }
        key = InboxConsumer::redrive_key(original_key);
    }
    const InboundEvent inbound{envelope, message.topic, message.partition, message.offset, key};
    for (int attempt = 0;; ++attempt) {
        HandlerVerdict verdict;
        try {
            verdict = handler(inbound);
        } catch (const StoreError&) {
            throw;  // the log is unusable: stop, do not dead-letter a good event
        } catch (const KernelError& error) {
            if (error.is_retryable()) {
                log->warn("handling {} ({}) failed: {}; retrying", envelope.event_id(), envelope.event_type(),
                          error.what());
                record([](InboxStats& s) { ++s.retries; });
                if (!back_off(attempt)) {
                    throw TransientError("stopped while retrying");
                }
                continue;
            }
            verdict = HandlerVerdict::poison(error.what());
        } catch (const std::exception& error) {
            verdict = HandlerVerdict::poison(std::string("handler failed: ") + error.what());
        }
        switch (verdict.kind) {
            case HandlerVerdict::Kind::poison:
                dead_letter(message, verdict.reason);
                // Marked (with the dead-letter mark) so that consumption never retries it; a failed
                // re-drive marks nothing, so the new dead letter can be re-driven in turn.
                if (key == original_key) {
                    mark_processed(key, true);
                }
                return RedeliveryOutcome::dead_lettered;
            case HandlerVerdict::Kind::applied:
                record([](InboxStats& s) { ++s.applied; });
                break;
            case HandlerVerdict::Kind::ignored:
                record([](InboxStats& s) { ++s.ignored; });
                break;
        }
        // The handler's own commit normally carried the inbox record; make sure it exists.
        mark_processed(key);
        return verdict.kind == HandlerVerdict::Kind::applied ? RedeliveryOutcome::applied : RedeliveryOutcome::ignored;
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
    try {
        while (!stopping) {
            std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
            switch (message->err()) {
                case RdKafka::ERR_NO_ERROR: {
                    const InboundRecord inbound = to_record(*message);
                    std::lock_guard lock(processing);
                    (void)process(inbound, false);
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
    auto producer_conf = kafka::make_conf(impl_->options.kafka, {{"enable.idempotence", "true"}, {"acks", "all"}});
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

std::string InboxConsumer::failure() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->failure;
}

}  // namespace gatehouse::kernel
