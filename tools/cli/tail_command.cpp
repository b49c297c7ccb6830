// `gatehouse tail`: follows Gatehouse topics straight from Kafka and prints each record as one JSON
// object per line: where it is (topic, partition, offset), its key and headers, the EventEnvelope's
// fields and its payload decoded by `event_type` (payloads of unknown types as base64).
//
// It reads with partitions assigned directly and never commits offsets, so tailing a topic moves
// no consumer group and never disturbs a service.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <librdkafka/rdkafkacpp.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/notifier/v1/events.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "kafka_options.h"

namespace gatehouse::cli {
namespace {

struct TailArgs {
    std::vector<std::string> topics;
    KafkaArgs kafka;
    std::string type;
    std::string aggregate;
    bool from_beginning = false;
    long max = 0;        // 0: no limit
    double timeout = 0;  // seconds; 0: follow until interrupted
};

// Every event package's descriptors must be in the generated pool: naming one message of each makes
// sure the linker keeps them.
void link_event_descriptors() {
    (void)onboarding::v1::CompanyDetails::descriptor();
    (void)customers::v1::CustomerCreated::descriptor();
    (void)sales::v1::LeadCreated::descriptor();
    (void)notifier::v1::NotificationQueued::descriptor();
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string base64(const std::string& bytes) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
    }
    if (i + 1 == bytes.size()) {
        const unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
    } else if (i + 2 == bytes.size()) {
        const unsigned n =
            (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
    }
    return out;
}

google::protobuf::util::JsonPrintOptions compact_json() {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    return options;
}

// The payload as JSON through the generated descriptor pool; nullopt for an unknown or undecodable type.
std::optional<std::string> decode_payload(const kernel::v1::EventEnvelope& envelope) {
    const auto* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(envelope.event_type());
    if (descriptor == nullptr) {
        return std::nullopt;
    }
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
    if (prototype == nullptr) {
        return std::nullopt;
    }
    std::unique_ptr<google::protobuf::Message> payload(prototype->New());
    std::string json;
    if (!payload->ParseFromString(envelope.payload()) ||
        !google::protobuf::util::MessageToJsonString(*payload, &json, compact_json()).ok()) {
        return std::nullopt;
    }
    return json;
}

bool type_matches(const std::string& event_type, const std::string& wanted) {
    return wanted.empty() || event_type == wanted ||
           (event_type.size() > wanted.size() &&
            event_type.compare(event_type.size() - wanted.size(), wanted.size(), wanted) == 0 &&
            event_type[event_type.size() - wanted.size() - 1] == '.');
}

// One JSON line for `message`, or "" when the filters leave it out.
std::string render(RdKafka::Message& message, const TailArgs& args) {
    const std::string value(static_cast<const char*>(message.payload()), message.len());
    kernel::v1::EventEnvelope envelope;
    const bool decoded = envelope.ParseFromString(value) && !envelope.event_type().empty();
    if ((!args.type.empty() || !args.aggregate.empty()) &&
        (!decoded || !type_matches(envelope.event_type(), args.type) ||
         (!args.aggregate.empty() && envelope.aggregate_id() != args.aggregate))) {
        return {};
    }
    std::string line =
        "{\"topic\":" + json_string(message.topic_name()) + ",\"partition\":" + std::to_string(message.partition()) +
        ",\"offset\":" + std::to_string(message.offset()) + ",\"key\":" +
        (message.key_pointer() == nullptr
             ? std::string("null")
             : json_string(std::string(static_cast<const char*>(message.key_pointer()), message.key_len())));
    line += ",\"headers\":{";
    if (const RdKafka::Headers* headers = message.headers()) {
        bool first = true;
        for (const auto& header : headers->get_all()) {
            line += (first ? "" : ",") + json_string(header.key()) + ":" +
                    (header.value() == nullptr
                         ? std::string("null")
                         : json_string(std::string(static_cast<const char*>(header.value()), header.value_size())));
            first = false;
        }
    }
    line += "}";
    if (!decoded) {
        return line + ",\"undecodable\":true,\"value_base64\":" + json_string(base64(value)) + "}";
    }
    kernel::v1::EventEnvelope fields = envelope;
    fields.clear_payload();
    std::string envelope_json;
    (void)google::protobuf::util::MessageToJsonString(fields, &envelope_json, compact_json());
    // envelope_json is "{...,"payload":""}" : splice its fields in, the decoded payload last.
    const auto payload_field = envelope_json.rfind(",\"payload\"");
    line += "," +
            envelope_json.substr(1, payload_field == std::string::npos ? envelope_json.size() - 2 : payload_field - 1);
    if (const auto payload = decode_payload(envelope)) {
        line += ",\"payload\":" + *payload;
    } else {
        line += ",\"payload\":null,\"payload_base64\":" + json_string(base64(envelope.payload()));
    }
    return line + "}";
}

// The topic's partition count, or -1 when it does not exist (yet) or the broker does not answer.
int partition_count(RdKafka::KafkaConsumer& consumer, const std::string& topic) {
    std::string error;
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&consumer, topic, nullptr, error));
    RdKafka::Metadata* raw = nullptr;
    if (!handle || consumer.metadata(false, handle.get(), &raw, 5000) != RdKafka::ERR_NO_ERROR) {
        return -1;
    }
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const RdKafka::TopicMetadata* found : *metadata->topics()) {
        if (found->topic() == topic && found->err() == RdKafka::ERR_NO_ERROR) {
            return static_cast<int>(found->partitions()->size());
        }
    }
    return -1;
}

int run_tail(const TailArgs& args) {
    link_event_descriptors();
    int failure = 0;
    const auto consumer = standalone_consumer(args.kafka, "gatehouse-tail", failure);
    if (!consumer) {
        return failure;
    }
    std::vector<RdKafka::TopicPartition*> assignment;
    for (const std::string& name : args.topics) {
        // A bare service name means its event topic, e.g. "sales" -> gatehouse.sales.events.v1.
        const std::string topic =
            args.kafka.topic_prefix + (name.find('.') == std::string::npos ? "gatehouse." + name + ".events.v1" : name);
        const int partitions = partition_count(*consumer, topic);
        if (partitions < 0) {
            std::cerr << "error: topic " << topic << " not found on " << args.kafka.bootstrap << "\n";
            RdKafka::TopicPartition::destroy(assignment);
            return kExitUnreachable;
        }
        for (int partition = 0; partition < partitions; ++partition) {
            assignment.push_back(RdKafka::TopicPartition::create(
                topic, partition, args.from_beginning ? RdKafka::Topic::OFFSET_BEGINNING : RdKafka::Topic::OFFSET_END));
        }
    }
    const RdKafka::ErrorCode assigned = consumer->assign(assignment);
    RdKafka::TopicPartition::destroy(assignment);
    if (assigned != RdKafka::ERR_NO_ERROR) {
        std::cerr << "error: cannot read the topics: " << RdKafka::err2str(assigned) << "\n";
        return kExitUnreachable;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(static_cast<std::int64_t>(args.timeout * 1000));
    long printed = 0;
    while ((args.max == 0 || printed < args.max) &&
           (args.timeout <= 0 || std::chrono::steady_clock::now() < deadline)) {
        std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
        if (message->err() == RdKafka::ERR_NO_ERROR) {
            if (const std::string line = render(*message, args); !line.empty()) {
                std::cout << line << "\n" << std::flush;
                ++printed;
            }
        } else if (message->err() != RdKafka::ERR__TIMED_OUT && message->err() != RdKafka::ERR__PARTITION_EOF) {
            std::cerr << "warning: " << message->errstr() << "\n";
        }
    }
    (void)consumer->unassign();
    (void)consumer->close();
    return 0;
}

}  // namespace

void add_tail_command(CLI::App& app, Cli& cli) {
    static TailArgs args;
    auto* tail = app.add_subcommand("tail", "follow Gatehouse topics from Kafka, one decoded JSON event per line");
    tail->add_option("topics", args.topics,
                     "topics without the prefix (e.g. gatehouse.sales.events.v1), or service names (sales)")
        ->required();
    add_kafka_options(*tail, args.kafka);
    tail->add_option("--type", args.type, "only this event type: full name or its last part (OpportunityWon)");
    tail->add_option("--aggregate", args.aggregate, "only events of this aggregate id");
    tail->add_flag("--from-beginning", args.from_beginning,
                   "read the topics from their start (default: new records only)");
    tail->add_option("--max", args.max, "stop after printing N records")->check(CLI::NonNegativeNumber);
    tail->add_option("--timeout", args.timeout, "stop after this many seconds")->check(CLI::NonNegativeNumber);
    tail->callback([&cli] { cli.exit_code = run_tail(args); });
}

}  // namespace gatehouse::cli
