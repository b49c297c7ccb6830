#include "gatehouse/kernel/dead_letters.h"

#include <algorithm>
#include <map>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/errors.h"
#include "kafka_client.h"

namespace gatehouse::kernel {

std::string DeadLetterRecord::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

InboundRecord DeadLetterRecord::origin() const {
    InboundRecord record;
    try {
        record.partition = std::stoi(header(headers::kDeadLetterPartition));
        record.offset = std::stoll(header(headers::kDeadLetterOffset));
        record.topic = header(headers::kDeadLetterTopic);
    } catch (const std::exception&) {
        return InboundRecord{};  // no usable origin
    }
    record.key = key;
    record.value = value;
    for (const auto& [name, text] : headers) {
        if (name.rfind("gatehouse.dlq.", 0) != 0) {
            record.headers.emplace_back(name, text);
        }
    }
    return record;
}

std::vector<DeadLetterRecord> read_dead_letters(const KafkaSettings& settings, const std::string& topic,
                                                std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto remaining_ms = [&deadline] {
        return static_cast<int>(std::max<std::int64_t>(
            1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                   .count()));
    };
    // A throw-away group that never commits: reading the dead letters moves nothing.
    auto conf = kafka::make_conf(settings, {{"group.id", "gatehouse-dead-letter-reader-" + random_token(9)},
                                            {"enable.auto.commit", "false"},
                                            {"enable.auto.offset.store", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer) {
        throw TransientError("cannot create a Kafka consumer for " + topic + ": " + error);
    }
    std::vector<DeadLetterRecord> records;
    const int partitions = kafka::partition_count(*consumer, topic, remaining_ms());
    std::map<std::int32_t, std::int64_t> end_offsets;  // partition -> end offset at the time of the call
    std::vector<RdKafka::TopicPartition*> assignment;
    for (std::int32_t partition = 0; partition < partitions; ++partition) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (const RdKafka::ErrorCode code =
                consumer->query_watermark_offsets(topic, partition, &low, &high, remaining_ms());
            code != RdKafka::ERR_NO_ERROR) {
            RdKafka::TopicPartition::destroy(assignment);
            throw TransientError("cannot read the end offsets of " + topic + ": " + RdKafka::err2str(code));
        }
        if (high > low) {
            end_offsets[partition] = high;
            assignment.push_back(RdKafka::TopicPartition::create(topic, partition, low));
        }
    }
    if (assignment.empty()) {
        consumer->close();
        return records;
    }
    const RdKafka::ErrorCode assigned = consumer->assign(assignment);
    RdKafka::TopicPartition::destroy(assignment);
    if (assigned != RdKafka::ERR_NO_ERROR) {
        throw TransientError("cannot read " + topic + ": " + RdKafka::err2str(assigned));
    }
    while (!end_offsets.empty()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            consumer->close();
            throw TransientError("timed out reading " + topic);
        }
        std::unique_ptr<RdKafka::Message> message(consumer->consume(std::min(200, remaining_ms())));
        if (message->err() != RdKafka::ERR_NO_ERROR) {
            continue;  // time-outs, partition EOF, transient broker errors: keep trying until the deadline
        }
        const auto end = end_offsets.find(message->partition());
        if (end == end_offsets.end()) {
            continue;
        }
        if (message->offset() < end->second) {
            DeadLetterRecord record;
            record.partition = message->partition();
            record.offset = message->offset();
            if (message->key_pointer() != nullptr) {
                record.key.assign(static_cast<const char*>(message->key_pointer()), message->key_len());
            }
            record.value.assign(static_cast<const char*>(message->payload()), message->len());
            if (const RdKafka::Headers* headers = message->headers()) {
                for (const auto& header : headers->get_all()) {
                    record.headers.emplace_back(
                        header.key(), header.value() == nullptr
                                          ? std::string()
                                          : std::string(static_cast<const char*>(header.value()), header.value_size()));
                }
            }
            records.push_back(std::move(record));
        }
        if (message->offset() + 1 >= end->second) {
            end_offsets.erase(end);
        }
    }
    consumer->close();
    std::sort(records.begin(), records.end(), [](const DeadLetterRecord& a, const DeadLetterRecord& b) {
        return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
    return records;
}

}  // namespace gatehouse::kernel
