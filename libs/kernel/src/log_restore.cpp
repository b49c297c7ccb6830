#include "gatehouse/kernel/log_restore.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include "gatehouse/kernel/envelope_view.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "kafka_client.h"

namespace gatehouse::kernel {
namespace {

struct TopicRecord {
    std::uint64_t position = 0;
    std::string log_id;
    std::string value;  // the stored envelope bytes
    std::int32_t partition = 0;
    std::int64_t offset = 0;
};

// Every record of `topic`, from the beginning to the end offsets at the time of the call.
std::vector<TopicRecord> read_topic(const KafkaSettings& kafka, const std::string& topic, const Progress& progress) {
    auto conf = kafka::make_conf(kafka, {{"group.id", "gatehouse-log-tool-" + new_uuid_v7()},
                                         {"enable.auto.commit", "false"},
                                         {"enable.partition.eof", "true"},
                                         {"auto.offset.reset", "earliest"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer) {
        throw ConfigError("cannot create a Kafka consumer: " + error);
    }
    const int partitions = kafka::partition_count(*consumer, topic, 15000);
    if (partitions <= 0) {
        throw ConfigError("topic " + topic + " does not exist (or the broker at " + kafka.bootstrap_servers +
                          " did not answer)");
    }
    std::vector<RdKafka::TopicPartition*> assignment;
    std::map<std::int32_t, std::int64_t> end_of;  // partition -> high watermark still to reach
    std::uint64_t total = 0;
    for (int partition = 0; partition < partitions; ++partition) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (const auto code = consumer->query_watermark_offsets(topic, partition, &low, &high, 15000);
            code != RdKafka::ERR_NO_ERROR) {
            throw TransientError("cannot read the offsets of " + topic + "/" + std::to_string(partition) + ": " +
                                 RdKafka::err2str(code));
        }
        if (high > low) {
            assignment.push_back(RdKafka::TopicPartition::create(topic, partition, low));
            end_of[partition] = high;
            total += static_cast<std::uint64_t>(high - low);
        }
    }
    std::vector<TopicRecord> records;
    records.reserve(total);
    if (!assignment.empty()) {
        consumer->assign(assignment);
    }
    RdKafka::TopicPartition::destroy(assignment);
    auto last_progress = std::chrono::steady_clock::now();
    auto last_record = std::chrono::steady_clock::now();
    while (!end_of.empty()) {
        std::unique_ptr<RdKafka::Message> message(consumer->consume(1000));
        if (message->err() == RdKafka::ERR__TIMED_OUT || message->err() == RdKafka::ERR__PARTITION_EOF) {
            if (std::chrono::steady_clock::now() - last_record > std::chrono::seconds(60)) {
                throw TransientError("reading " + topic + " stalled for 60 s before its end");
            }
            continue;
        }
        if (message->err() != RdKafka::ERR_NO_ERROR) {
            throw TransientError("cannot read " + topic + ": " + message->errstr());
        }
        last_record = std::chrono::steady_clock::now();
        TopicRecord record;
        record.partition = message->partition();
        record.offset = message->offset();
        record.log_id = kafka::header_value(message->headers(), headers::kLogId);
        const std::string position = kafka::header_value(message->headers(), headers::kLogPosition);
        record.position = position.empty() ? 0 : std::stoull(position);
        record.value.assign(static_cast<const char*>(message->payload()), message->len());
        records.push_back(std::move(record));
        if (const auto end = end_of.find(message->partition());
            end != end_of.end() && message->offset() + 1 >= end->second) {
            end_of.erase(end);
        }
        if (progress && std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(200)) {
            progress(records.size(), total);
            last_progress = std::chrono::steady_clock::now();
        }
    }
    consumer->close();
    if (progress) {
        progress(records.size(), total);
    }
    return records;
}

std::string describe_logs(const std::map<std::string, std::uint64_t>& logs) {
    std::string text;
    for (const auto& [id, count] : logs) {
        text += (text.empty() ? "" : ", ") + (id.empty() ? std::string("(no log id)") : id) + " (" +
                std::to_string(count) + " records)";
    }
    return text;
}

}  // namespace

KafkaSettings kafka_settings_from(const Config& config) {
    KafkaSettings settings;
    settings.bootstrap_servers = config.string("kafka.bootstrap_servers");
    settings.client_id = config.string("kafka.client_id");
    settings.properties = config.map("kafka.properties");
    return settings;
}

RestoreReport restore_log_from_topic(const std::filesystem::path& directory, const KafkaSettings& kafka,
                                     const std::string& topic, const std::string& inbox_namespace,
                                     const std::string& log_id, const Progress& progress) {
    std::error_code ignored;
    if (std::filesystem::exists(directory, ignored) && !std::filesystem::is_empty(directory, ignored)) {
        throw ConfigError("data_dir " + directory.string() +
                          " is not empty: restoring writes a new log there. Move the old directory away first.");
    }
    RestoreReport report;
    std::vector<TopicRecord> records = read_topic(kafka, topic, progress);
    report.records_read = records.size();
    std::map<std::string, std::uint64_t> logs;
    for (const auto& record : records) {
        ++logs[record.log_id];
    }
    if (records.empty()) {
        throw ConfigError("topic " + topic + " is empty: there is nothing to restore");
    }
    report.log_id = log_id;
    if (report.log_id.empty()) {
        if (logs.size() != 1) {
            throw ConfigError("topic " + topic + " holds events of several logs: " + describe_logs(logs) +
                              ". Name the one to restore with --log-id (normally the log of the newest records).");
        }
        report.log_id = logs.begin()->first;
    } else if (logs.count(report.log_id) == 0) {
        throw ConfigError("topic " + topic + " has no events of log " + report.log_id + "; it has " +
                          describe_logs(logs));
    }
    if (report.log_id.empty()) {
        throw ConfigError("the records of " + topic + " carry no gatehouse.log-id header: not published by a relay");
    }
    std::erase_if(records, [&](const TopicRecord& record) { return record.log_id != report.log_id; });
    std::stable_sort(records.begin(), records.end(),
                     [](const TopicRecord& a, const TopicRecord& b) { return a.position < b.position; });

    StoreOptions options;
    options.durable = false;  // one fsync at the end (sync()) instead of one per event
    options.log_id_for_new_log = report.log_id;
    auto store = EventStore::open(directory, options);
    std::set<std::string> causes;
    std::uint64_t expected = 1;
    for (const auto& record : records) {
        if (record.position < expected) {
            ++report.duplicates_skipped;  // the relay published this position twice; same event
            continue;
        }
        if (record.position != expected) {
            throw ConfigError("topic " + topic + " lacks position " + std::to_string(expected) + " of log " +
                              report.log_id + " (next is " + std::to_string(record.position) +
                              "): the log cannot be restored without a gap. Was the topic's retention not infinite?");
        }
        const EnvelopeView view = EnvelopeView::parse(LogPosition{record.position}, record.value);
        v1::EventEnvelope envelope = view.decode_full();
        Commit commit;
        StreamAppend& append = commit.appends.emplace_back();
        append.stream = StreamId{std::string(view.aggregate_type), std::string(view.aggregate_id)};
        append.expected = ExpectedVersion::exactly(StreamVersion{view.aggregate_version - 1});
        if (!envelope.causation_id().empty()) {
            causes.insert(envelope.causation_id());
        }
        append.events.push_back(std::move(envelope));
        const CommitResult result = store->commit(std::move(commit));
        if (result.outcome != CommitOutcome::committed || result.first.value != record.position) {
            throw CorruptRecordError("restoring position " + std::to_string(record.position) + " of " + topic +
                                     ": the stream " + append.stream.aggregate_type + "/" + append.stream.aggregate_id +
                                     " does not continue at version " + std::to_string(view.aggregate_version));
        }
        ++report.events_restored;
        ++expected;
    }
    // The input events that caused events were processed: their inbox records come back too, so
    // that re-reading the input topics does not apply them twice.
    for (const auto& cause : causes) {
        Commit commit;
        commit.inbox_key = InboxConsumer::inbox_key(inbox_namespace, cause);
        if (store->commit(std::move(commit)).outcome == CommitOutcome::committed) {
            ++report.inbox_records;
        }
    }
    store->sync();
    return report;
}

VerifyReport verify_log_against_topic(const EventStore& store, const KafkaSettings& kafka, const std::string& topic,
                                      const Progress& progress) {
    VerifyReport report;
    report.log_events = store.head().value;
    std::vector<TopicRecord> records = read_topic(kafka, topic, progress);
    std::map<std::uint64_t, const TopicRecord*> published;
    for (const auto& record : records) {
        if (record.log_id != store.log_id()) {
            ++report.other_logs;
            continue;
        }
        ++report.topic_records;
        if (!published.emplace(record.position, &record).second) {
            ++report.duplicates;
        }
    }
    const std::uint64_t last_published = published.empty() ? 0 : published.rbegin()->first;
    if (last_published > report.log_events) {
        report.divergences.push_back("the topic has positions up to " + std::to_string(last_published) +
                                     " but the log ends at " + std::to_string(report.log_events) +
                                     ": events were lost from the log (restore it from the topic)");
    }
    report.not_yet_published = report.log_events > last_published ? report.log_events - last_published : 0;
    store.scan_raw(LogPosition{1}, [&](LogPosition position, std::string_view bytes) {
        if (position.value > last_published) {
            return false;
        }
        const auto found = published.find(position.value);
        if (found == published.end()) {
            report.divergences.push_back("position " + std::to_string(position.value) + " is not on the topic");
        } else if (found->second->value != bytes) {
            const EnvelopeView logged = EnvelopeView::parse(position, bytes);
            report.divergences.push_back("position " + std::to_string(position.value) + " differs: log has " +
                                         std::string(logged.event_type) + " of " + std::string(logged.aggregate_id) +
                                         ", topic (partition " + std::to_string(found->second->partition) +
                                         ", offset " + std::to_string(found->second->offset) + ") has other bytes");
        }
        return report.divergences.size() < 100;  // enough to act on
    });
    return report;
}

namespace {

void print_progress(const char* what, std::uint64_t done, std::uint64_t total) {
    constexpr int kWidth = 30;
    const int filled = total == 0 ? 0 : static_cast<int>(kWidth * done / total);
    std::cerr << "\r" << what << " [" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << done << "/" << total
              << std::flush;
}

}  // namespace

std::optional<int> run_log_command(int argc, char** argv, const std::string& service, const ConfigSchema& schema,
                                   const std::string& own_topic) {
    if (argc < 2) {
        return std::nullopt;
    }
    const std::string command = argv[1];
    if (command != "restore-from-topic" && command != "verify") {
        return std::nullopt;
    }
    std::optional<std::filesystem::path> file;
    std::string log_id;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--log-id" && i + 1 < argc) {
            log_id = argv[++i];
        } else if (!arg.empty() && arg[0] != '-' && !file) {
            file = arg;
        } else {
            std::cerr << "usage: gatehouse-" << service << " restore-from-topic [CONFIG.yaml] [--log-id ID]\n"
                      << "       gatehouse-" << service << " verify [CONFIG.yaml]\n";
            return 2;
        }
    }
    if (!file) {
        if (const char* env = std::getenv("GATEHOUSE_CONFIG")) {
            file = env;
        }
    }
    try {
        const Config config = Config::load(schema, file);
        const std::string topic = config.string("kafka.topic_prefix") + own_topic;
        const std::filesystem::path data_dir = config.string("data_dir");
        if (command == "restore-from-topic") {
            std::cerr << "restoring " << data_dir.string() << " from " << topic << " (the service must be stopped)\n";
            const auto report = restore_log_from_topic(
                data_dir, kafka_settings_from(config), topic, service, log_id,
                [](std::uint64_t done, std::uint64_t total) { print_progress("reading the topic", done, total); });
            std::cerr << "\n";
            std::cout << "restored log " << report.log_id << " in " << data_dir.string() << ": " << report.records_read
                      << " records read, " << report.events_restored << " events restored, "
                      << report.duplicates_skipped << " duplicate publications skipped, " << report.inbox_records
                      << " inbox records restored\n";
            return 0;
        }
        StoreOptions options;
        auto store = EventStore::open(data_dir, options);
        const auto report = verify_log_against_topic(
            *store, kafka_settings_from(config), topic,
            [](std::uint64_t done, std::uint64_t total) { print_progress("reading the topic", done, total); });
        std::cerr << "\n";
        std::cout << "log " << store->log_id() << ": " << report.log_events << " events; topic " << topic << ": "
                  << report.topic_records << " records of this log (" << report.duplicates << " duplicates, "
                  << report.other_logs << " from other logs); not yet published: " << report.not_yet_published << "\n";
        for (const auto& divergence : report.divergences) {
            std::cout << "DIVERGENCE: " << divergence << "\n";
        }
        std::cout << (report.consistent() ? "consistent\n" : "NOT consistent\n");
        return report.consistent() ? 0 : 1;
    } catch (const ConfigError& error) {
        std::cerr << "\ngatehouse-" << service << " " << command << ": " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "\ngatehouse-" << service << " " << command << ": " << error.what() << "\n";
        return 1;
    }
}

}  // namespace gatehouse::kernel
