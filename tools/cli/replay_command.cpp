// `gatehouse replay SERVICE`: makes a service read its input topics again from a point an operator
// chooses, by moving the committed offsets of its input consumer groups (Kafka's admin API through
// librdkafka), then optionally follows it while it catches up.
//
// Replaying is safe: every input event a service has applied is recorded in its inbox, in the same
// RocksDB commit as its effects, so records it has seen are skipped ("already applied") and only
// the rest changes anything. Offsets of a group can only be moved while the group has no members,
// so the command refuses while the service runs (the broker would refuse too).
//
// The service's groups are found by name, not from a list kept here: the kernel names each input
// group <kafka.consumer_group_prefix><service>.<topic>[+<topic>...] (service_runtime.cpp).
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "kafka_options.h"

namespace gatehouse::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kTimeoutMs = 15000;

struct ReplayArgs {
    std::string service;
    KafkaArgs kafka;
    std::string group_prefix;
    std::vector<std::string> topics;  // only these input topics (default: all of the service's)
    bool from_beginning = false;
    std::optional<std::int64_t> from_offset;
    std::string from_time;  // RFC 3339
    bool dry_run = false;
    bool follow = false;
    double timeout = 0;   // seconds to follow; 0: until caught up
    std::string metrics;  // the service's metrics.listen address, for the summary
};

using PartitionKey = std::pair<std::string, std::int32_t>;  // topic, partition

struct GroupPlan {
    std::string group;
    std::vector<std::string> topics;
    std::map<PartitionKey, std::int64_t> committed;  // -1: nothing committed
    std::map<PartitionKey, std::int64_t> target;
    std::map<PartitionKey, std::int64_t> end;  // high watermark when planned
};

// Waits for the one result event of an admin call on `queue`; nullptr (after printing) on timeout.
rd_kafka_event_t* admin_result(rd_kafka_queue_t* queue, const char* what) {
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kTimeoutMs + 5000);
    if (event == nullptr) {
        std::cerr << "error: " << what << ": no answer from the broker\n";
        return nullptr;
    }
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::cerr << "error: " << what << ": " << rd_kafka_event_error_string(event) << "\n";
        rd_kafka_event_destroy(event);
        return nullptr;
    }
    return event;
}

struct EventDeleter {
    void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// The Kafka calls replay needs, on one consumer handle (admin calls go through its rd_kafka_t).
class Broker final {
  public:
    explicit Broker(std::unique_ptr<RdKafka::KafkaConsumer> consumer)
        : consumer_(std::move(consumer)), queue_(rd_kafka_queue_new(consumer_->c_ptr())) {}
    ~Broker() {
        rd_kafka_queue_destroy(queue_);
        (void)consumer_->close();
    }
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Every consumer group's id; nullopt when the broker does not answer.
    std::optional<std::vector<std::string>> groups() {
        rd_kafka_AdminOptions_t* options = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
        rd_kafka_ListConsumerGroups(consumer_->c_ptr(), options, queue_);
        rd_kafka_AdminOptions_destroy(options);
        const Event event(admin_result(queue_, "listing consumer groups"));
        if (!event) {
            return std::nullopt;
        }
        const auto* result = rd_kafka_event_ListConsumerGroups_result(event.get());
        std::size_t count = 0;
        const rd_kafka_ConsumerGroupListing_t** listings = rd_kafka_ListConsumerGroups_result_valid(result, &count);
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < count; ++i) {
            ids.emplace_back(rd_kafka_ConsumerGroupListing_group_id(listings[i]));
        }
        return ids;
    }

    // The group's member count (0 when it is empty); nullopt on an error.
    std::optional<std::size_t> members(const std::string& group) {
        rd_kafka_AdminOptions_t* options = admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
        const char* ids[] = {group.c_str()};
        rd_kafka_DescribeConsumerGroups(consumer_->c_ptr(), ids, 1, options, queue_);
        rd_kafka_AdminOptions_destroy(options);
        const Event event(admin_result(queue_, ("describing group " + group).c_str()));
        if (!event) {
            return std::nullopt;
        }
        std::size_t count = 0;
        const rd_kafka_ConsumerGroupDescription_t** described = rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
        if (count != 1 || rd_kafka_ConsumerGroupDescription_error(described[0]) != nullptr) {
            std::cerr << "error: describing group " << group << ": "
                      << (count == 1 ? rd_kafka_error_string(rd_kafka_ConsumerGroupDescription_error(described[0]))
                                     : "no description")
                      << "\n";
            return std::nullopt;
        }
        return rd_kafka_ConsumerGroupDescription_member_count(described[0]);
    }

    // The group's committed offsets of every partition of `topics` (-1 where nothing is committed).
    std::optional<std::map<PartitionKey, std::int64_t>> committed(const std::string& group,
                                                                  const std::map<PartitionKey, std::int64_t>& wanted) {
        rd_kafka_topic_partition_list_t* partitions =
            rd_kafka_topic_partition_list_new(static_cast<int>(wanted.size()));
        for (const auto& [key, unused] : wanted) {
            rd_kafka_topic_partition_list_add(partitions, key.first.c_str(), key.second);
        }
        rd_kafka_ListConsumerGroupOffsets_t* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions);
        rd_kafka_topic_partition_list_destroy(partitions);
        rd_kafka_AdminOptions_t* options = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        rd_kafka_ListConsumerGroupOffsets(consumer_->c_ptr(), &request, 1, options, queue_);
        rd_kafka_AdminOptions_destroy(options);
        rd_kafka_ListConsumerGroupOffsets_destroy(request);
        const Event event(admin_result(queue_, ("reading the offsets of " + group).c_str()));
        if (!event) {
            return std::nullopt;
        }
        std::size_t count = 0;
        const rd_kafka_group_result_t** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
        return group_offsets(count == 1 ? results : nullptr, group);
    }

    bool alter(const std::string& group, const std::map<PartitionKey, std::int64_t>& offsets) {
        rd_kafka_topic_partition_list_t* partitions =
            rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
        for (const auto& [key, offset] : offsets) {
            rd_kafka_topic_partition_list_add(partitions, key.first.c_str(), key.second)->offset = offset;
        }
        rd_kafka_AlterConsumerGroupOffsets_t* request =
            rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), partitions);
        rd_kafka_topic_partition_list_destroy(partitions);
        rd_kafka_AdminOptions_t* options = admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
        rd_kafka_AlterConsumerGroupOffsets(consumer_->c_ptr(), &request, 1, options, queue_);
        rd_kafka_AdminOptions_destroy(options);
        rd_kafka_AlterConsumerGroupOffsets_destroy(request);
        const Event event(admin_result(queue_, ("moving the offsets of " + group).c_str()));
        if (!event) {
            return false;
        }
        std::size_t count = 0;
        const rd_kafka_group_result_t** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(event.get()), &count);
        if (count != 1) {
            std::cerr << "error: moving the offsets of " << group << ": no result\n";
            return false;
        }
        if (const rd_kafka_error_t* error = rd_kafka_group_result_error(results[0])) {
            std::cerr << "error: moving the offsets of " << group << ": " << rd_kafka_error_string(error) << "\n";
            return false;
        }
        const rd_kafka_topic_partition_list_t* done = rd_kafka_group_result_partitions(results[0]);
        for (int i = 0; i < done->cnt; ++i) {
            if (done->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::cerr << "error: moving the offset of " << done->elems[i].topic << "[" << done->elems[i].partition
                          << "] for " << group << ": " << rd_kafka_err2str(done->elems[i].err) << "\n";
                return false;
            }
        }
        return true;
    }

    // The partitions of `topic`; empty when it does not exist.
    std::vector<std::int32_t> partitions(const std::string& topic) {
        std::string error;
        std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
        RdKafka::Metadata* raw = nullptr;
        if (!handle || consumer_->metadata(false, handle.get(), &raw, kTimeoutMs) != RdKafka::ERR_NO_ERROR) {
            return {};
        }
        std::unique_ptr<RdKafka::Metadata> metadata(raw);
        std::vector<std::int32_t> found;
        for (const RdKafka::TopicMetadata* described : *metadata->topics()) {
            if (described->topic() == topic && described->err() == RdKafka::ERR_NO_ERROR) {
                for (const RdKafka::PartitionMetadata* partition : *described->partitions()) {
                    found.push_back(partition->id());
                }
            }
        }
        std::sort(found.begin(), found.end());
        return found;
    }

    bool watermarks(const PartitionKey& key, std::int64_t& low, std::int64_t& high) {
        return consumer_->query_watermark_offsets(key.first, key.second, &low, &high, kTimeoutMs) ==
               RdKafka::ERR_NO_ERROR;
    }

    // The first offset at or after `millis` of each partition (the high watermark when none is).
    bool offsets_for_time(std::map<PartitionKey, std::int64_t>& offsets, std::int64_t millis,
                          const std::map<PartitionKey, std::int64_t>& ends) {
        std::vector<RdKafka::TopicPartition*> query;
        for (const auto& [key, unused] : offsets) {
            query.push_back(RdKafka::TopicPartition::create(key.first, key.second, millis));
        }
        const RdKafka::ErrorCode code = consumer_->offsetsForTimes(query, kTimeoutMs);
        bool ok = code == RdKafka::ERR_NO_ERROR;
        for (RdKafka::TopicPartition* found : query) {
            const PartitionKey key{found->topic(), found->partition()};
            ok = ok && found->err() == RdKafka::ERR_NO_ERROR;
            offsets[key] = found->offset() < 0 ? ends.at(key) : found->offset();
        }
        RdKafka::TopicPartition::destroy(query);
        if (!ok) {
            std::cerr << "error: finding the offsets for the time: " << RdKafka::err2str(code) << "\n";
        }
        return ok;
    }

  private:
    rd_kafka_AdminOptions_t* admin_options(rd_kafka_admin_op_t operation) {
        rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(consumer_->c_ptr(), operation);
        char error[256];
        (void)rd_kafka_AdminOptions_set_request_timeout(options, kTimeoutMs, error, sizeof error);
        return options;
    }

    static std::optional<std::map<PartitionKey, std::int64_t>> group_offsets(const rd_kafka_group_result_t** results,
                                                                             const std::string& group) {
        if (results == nullptr) {
            std::cerr << "error: reading the offsets of " << group << ": no result\n";
            return std::nullopt;
        }
        if (const rd_kafka_error_t* error = rd_kafka_group_result_error(results[0])) {
            std::cerr << "error: reading the offsets of " << group << ": " << rd_kafka_error_string(error) << "\n";
            return std::nullopt;
        }
        std::map<PartitionKey, std::int64_t> offsets;
        const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(results[0]);
        for (int i = 0; i < list->cnt; ++i) {
            offsets[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
        }
        return offsets;
    }

    std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
    rd_kafka_queue_t* queue_;
};

// Milliseconds since the epoch of an RFC 3339 time ("2026-11-30T12:00:00Z", "…+01:00"); nullopt
// when it is not one.
std::optional<std::int64_t> parse_time(const std::string& text) {
    std::tm parts{};
    int offset_sign = 0;
    int offset_hours = 0;
    int offset_minutes = 0;
    double seconds = 0;
    char zone[8] = {};
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%7s", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                    &parts.tm_hour, &parts.tm_min, &seconds, zone) != 7) {
        return std::nullopt;
    }
    const std::string tz = zone;
    if (tz == "Z" || tz == "z") {
        offset_sign = 0;
    } else if ((tz[0] == '+' || tz[0] == '-') &&
               std::sscanf(tz.c_str() + 1, "%2d:%2d", &offset_hours, &offset_minutes) == 2) {
        offset_sign = tz[0] == '+' ? 1 : -1;
    } else {
        return std::nullopt;
    }
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    const auto whole = static_cast<int>(seconds);
    parts.tm_sec = whole;
    const std::int64_t epoch = timegm(&parts);
    return (epoch - offset_sign * (offset_hours * 3600 + offset_minutes * 60)) * 1000 +
           static_cast<std::int64_t>((seconds - whole) * 1000);
}

// The service's inbox counters from its /metrics (Prometheus text); empty when unreachable.
std::map<std::string, std::string> inbox_counters(const std::string& address) {
    std::string body;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
        return {};
    }
    const std::string url = (address.find("://") == std::string::npos ? "http://" : "") + address + "/metrics";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* out) {
            static_cast<std::string*>(out)->append(data, size * count);
            return size * count;
        });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    std::map<std::string, std::string> counters;
    if (code != CURLE_OK) {
        std::cerr << "warning: " << url << ": " << curl_easy_strerror(code) << "\n";
        return counters;
    }
    for (const char* name : {"gatehouse_inbox_applied", "gatehouse_inbox_ignored", "gatehouse_inbox_duplicates",
                             "gatehouse_inbox_dead_lettered"}) {
        const auto at = body.find(std::string("\n") + name + " ");
        if (at != std::string::npos) {
            const auto start = at + std::strlen(name) + 2;
            counters[name] = body.substr(start, body.find('\n', start) - start);
        }
    }
    return counters;
}

std::string describe_offset(std::int64_t offset) { return offset < 0 ? "(none)" : std::to_string(offset); }

// Progress while the service catches up: the committed offsets against the ends planned.
bool follow(Broker& broker, const std::vector<GroupPlan>& plans, double timeout) {
    std::int64_t total = 0;
    for (const GroupPlan& plan : plans) {
        for (const auto& [key, target] : plan.target) {
            total += std::max<std::int64_t>(0, plan.end.at(key) - target);
        }
    }
    const bool terminal = isatty(STDOUT_FILENO) != 0;
    const auto started = Clock::now();
    std::int64_t last_printed = -1;
    for (;;) {
        std::int64_t done = 0;
        for (const GroupPlan& plan : plans) {
            const auto committed = broker.committed(plan.group, plan.target);
            if (!committed) {
                return false;
            }
            for (const auto& [key, target] : plan.target) {
                const std::int64_t at =
                    std::min(std::max(committed->count(key) ? committed->at(key) : -1, target), plan.end.at(key));
                done += std::max<std::int64_t>(0, at - target);
            }
        }
        if (done != last_printed || terminal) {
            constexpr int kWidth = 30;
            const int filled = total == 0 ? kWidth : static_cast<int>(kWidth * done / total);
            std::cout << (terminal ? "\r" : "") << "[" << std::string(static_cast<std::size_t>(filled), '#')
                      << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << done << " / " << total
                      << " records" << (terminal ? "" : "\n") << std::flush;
            last_printed = done;
        }
        if (done >= total) {
            std::cout << (terminal ? "\n" : "") << "caught up: " << total << " records read again in "
                      << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count() << " s\n";
            return true;
        }
        if (timeout > 0 && Clock::now() - started > std::chrono::duration<double>(timeout)) {
            std::cout << (terminal ? "\n" : "") << "still catching up after " << timeout << " s: " << done << " of "
                      << total << " records read; the service goes on by itself\n";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));  // the group commits every few seconds
    }
}

int run_replay(const ReplayArgs& args) {
    int failure = 0;
    auto consumer = standalone_consumer(args.kafka, "gatehouse-replay", failure);
    if (!consumer) {
        return failure;
    }
    Broker broker(std::move(consumer));

    std::optional<std::int64_t> from_millis;
    if (!args.from_time.empty()) {
        from_millis = parse_time(args.from_time);
        if (!from_millis) {
            std::cerr << "error: --from-time wants an RFC 3339 time, e.g. 2026-11-30T12:00:00Z\n";
            return kExitUsage;
        }
    }

    // The service's input groups, by name.
    const std::string prefix = args.group_prefix + args.service + ".";
    const auto groups = broker.groups();
    if (!groups) {
        return kExitUnreachable;
    }
    std::vector<GroupPlan> plans;
    for (const std::string& group : *groups) {
        if (group.rfind(prefix, 0) != 0) {
            continue;
        }
        GroupPlan plan{group, {}, {}, {}, {}};
        for (std::size_t start = prefix.size(); start <= group.size();) {
            const std::size_t plus = std::min(group.find('+', start), group.size());
            plan.topics.push_back(group.substr(start, plus - start));
            start = plus + 1;
        }
        const bool wanted = args.topics.empty() || std::any_of(plan.topics.begin(), plan.topics.end(), [&](auto& t) {
                                return std::find(args.topics.begin(), args.topics.end(), t) != args.topics.end() ||
                                       std::find(args.topics.begin(), args.topics.end(), args.kafka.topic_prefix + t) !=
                                           args.topics.end() ||
                                       (t.rfind(args.kafka.topic_prefix, 0) == 0 &&
                                        std::find(args.topics.begin(), args.topics.end(),
                                                  t.substr(args.kafka.topic_prefix.size())) != args.topics.end());
                            });
        if (wanted) {
            plans.push_back(std::move(plan));
        }
    }
    if (plans.empty()) {
        std::cerr << "error: no input consumer group of " << args.service << " (named " << prefix << "<topic>"
                  << (args.topics.empty() ? "" : " for the topics given")
                  << ") on the broker: has the service run with this kafka.consumer_group_prefix?\n";
        return kExitRefused;
    }
    std::sort(plans.begin(), plans.end(), [](const auto& a, const auto& b) { return a.group < b.group; });

    // Refused while the service consumes: offsets of a group with members cannot be moved.
    for (const GroupPlan& plan : plans) {
        const auto members = broker.members(plan.group);
        if (!members) {
            return kExitUnreachable;
        }
        if (*members > 0) {
            std::cerr << "error: gatehouse " << args.service << " is running (consumer group " << plan.group << " has "
                      << *members << " member" << (*members == 1 ? "" : "s")
                      << "): stop it first. A process that was killed stays a member until its session times "
                         "out (kafka.properties session.timeout.ms).\n";
            return kExitRefused;
        }
    }

    // Where each partition is and where it will start again.
    for (GroupPlan& plan : plans) {
        for (const std::string& topic : plan.topics) {
            const auto partitions = broker.partitions(topic);
            if (partitions.empty()) {
                std::cerr << "error: topic " << topic << " of group " << plan.group << " not found\n";
                return kExitUnreachable;
            }
            for (const std::int32_t partition : partitions) {
                const PartitionKey key{topic, partition};
                std::int64_t low = 0;
                std::int64_t high = 0;
                if (!broker.watermarks(key, low, high)) {
                    std::cerr << "error: cannot read the offsets of " << topic << "[" << partition << "]\n";
                    return kExitUnreachable;
                }
                plan.end[key] = high;
                plan.target[key] = args.from_offset ? std::clamp(*args.from_offset, low, high) : low;
            }
        }
        if (from_millis && !broker.offsets_for_time(plan.target, *from_millis, plan.end)) {
            return kExitUnreachable;
        }
        const auto committed = broker.committed(plan.group, plan.target);
        if (!committed) {
            return kExitUnreachable;
        }
        plan.committed = *committed;
    }

    std::int64_t again = 0;
    for (const GroupPlan& plan : plans) {
        std::cout << plan.group << "\n";
        for (const auto& [key, target] : plan.target) {
            const std::int64_t committed = plan.committed.count(key) ? plan.committed.at(key) : -1;
            std::cout << "  " << key.first << "[" << key.second << "]  committed " << describe_offset(committed)
                      << " -> " << target << "  (end " << plan.end.at(key) << ")\n";
            again += plan.end.at(key) - target;
        }
    }
    std::cout << again << " records will be read again; events already applied are skipped by the inbox\n";
    if (args.dry_run) {
        std::cout << "dry run: nothing changed\n";
        return 0;
    }
    for (const GroupPlan& plan : plans) {
        if (!broker.alter(plan.group, plan.target)) {
            return kExitRefused;
        }
    }
    std::cout << "offsets moved for " << plans.size() << " group" << (plans.size() == 1 ? "" : "s") << "\n";
    if (!args.follow) {
        std::cout << "start gatehouse " << args.service << " to replay\n";
        return 0;
    }
    std::cout << "start gatehouse " << args.service << " now; following it until it has read them (Ctrl-C stops "
              << "following, not the replay)\n";
    const bool caught_up = follow(broker, plans, args.timeout);
    if (!args.metrics.empty()) {
        auto counters = inbox_counters(args.metrics);
        if (!counters.empty()) {
            std::cout << "the service since its start: " << counters["gatehouse_inbox_applied"] << " applied, "
                      << counters["gatehouse_inbox_ignored"] << " ignored (not its concern), "
                      << counters["gatehouse_inbox_duplicates"] << " skipped as already applied, "
                      << counters["gatehouse_inbox_dead_lettered"] << " dead-lettered\n";
        }
    }
    return caught_up ? 0 : kExitUnreachable;
}

}  // namespace

void add_replay_command(CLI::App& app, Cli& cli) {
    static ReplayArgs args;
    args.group_prefix = env_or("GATEHOUSE_KAFKA_CONSUMER_GROUP_PREFIX", "");
    auto* replay = app.add_subcommand(
        "replay", "make a stopped service read its input topics again from a point (moves its consumer groups)");
    replay->add_option("service", args.service, "onboarding, customers, sales-bridge or notifier")
        ->required()
        ->check(CLI::IsMember({"onboarding", "customers", "sales-bridge", "notifier"}));
    auto* beginning = replay->add_flag("--from-beginning", args.from_beginning, "from the start of each partition");
    auto* offset = replay->add_option("--from-offset", args.from_offset,
                                      "from this offset of every partition (clamped to what the partition holds)");
    auto* time = replay->add_option("--from-time", args.from_time,
                                    "from the first record at or after this RFC 3339 time in each partition");
    beginning->excludes(offset, time);
    offset->excludes(time);
    replay->add_option("--topic", args.topics, "only this input topic (repeatable; default: every input)");
    add_kafka_options(*replay, args.kafka);
    replay->add_option("--group-prefix", args.group_prefix,
                       "the service's kafka.consumer_group_prefix (env GATEHOUSE_KAFKA_CONSUMER_GROUP_PREFIX)");
    replay->add_flag("--dry-run", args.dry_run, "show what would move, change nothing");
    replay->add_flag("--follow", args.follow,
                     "after moving, show progress until the (re)started service has read everything again");
    replay->add_option("--metrics", args.metrics,
                       "the service's metrics address (metrics.listen, host:port): with --follow, end with its "
                       "applied / skipped / dead-lettered counts");
    replay->add_option("--timeout", args.timeout, "stop following after this many seconds")
        ->check(CLI::NonNegativeNumber);
    replay->callback([&cli] {
        if (!args.from_beginning && !args.from_offset && args.from_time.empty()) {
            std::cerr << "error: say where to replay from: --from-beginning, --from-offset N or --from-time T\n";
            cli.exit_code = kExitUsage;
            return;
        }
        cli.exit_code = run_replay(args);
    });
}

}  // namespace gatehouse::cli
