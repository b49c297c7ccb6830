#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/wait_until.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

namespace gatehouse::testing {
namespace {

using Clock = std::chrono::steady_clock;

void set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
    std::string error;
    if (conf.set(name, value, error) != RdKafka::Conf::CONF_OK) {
        throw std::runtime_error(name + ": " + error);
    }
}

}  // namespace

struct KafkaTestCluster::Mock {
    rd_kafka_t* host = nullptr;
    rd_kafka_mock_cluster_t* cluster = nullptr;
};

KafkaTestCluster::KafkaTestCluster() {
    if (const char* file = std::getenv("GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE"); file != nullptr && *file != '\0') {
        std::ifstream in(file);
        std::getline(in, bootstrap_);
        if (bootstrap_.empty()) {
            throw std::runtime_error(std::string("no bootstrap address in ") + file +
                                     " (did the kafka_broker_start fixture run?)");
        }
        broker_dir_ = std::filesystem::path(file).parent_path().string();
        sasl_ = test_broker_client_properties();
        return;
    }
    mock_ = std::make_unique<Mock>();
    char error[256];
    mock_->host = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error);
    if (mock_->host == nullptr) {
        throw std::runtime_error(error);
    }
    mock_->cluster = rd_kafka_mock_cluster_new(mock_->host, 1);
    if (mock_->cluster == nullptr) {
        throw std::runtime_error("cannot start librdkafka's mock cluster");
    }
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_->cluster);
}

std::map<std::string, std::string> test_broker_client_properties() {
    std::map<std::string, std::string> properties;
    const char* file = std::getenv("GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE");
    if (file == nullptr || *file == '\0') {
        return properties;
    }
    std::ifstream in(std::filesystem::path(file).parent_path() / "client.properties");
    for (std::string line; std::getline(in, line);) {
        if (const auto equals = line.find('='); equals != std::string::npos && !line.starts_with('#')) {
            properties[line.substr(0, equals)] = line.substr(equals + 1);
        }
    }
    return properties;
}

std::string KafkaTestCluster::client_properties() const {
    std::string properties = "session.timeout.ms=6000";
    for (const auto& [name, value] : sasl_) {
        properties += "," + name + "=" + value;
    }
    return properties;
}

KafkaTestCluster::~KafkaTestCluster() {
    if (mock_) {
        rd_kafka_mock_cluster_destroy(mock_->cluster);
        rd_kafka_destroy(mock_->host);
    }
}

void KafkaTestCluster::set_broker_down(bool down) {
    if (!mock_) {
        throw std::logic_error("set_broker_down: only the mock cluster's broker can be taken down");
    }
    const rd_kafka_resp_err_t result =
        down ? rd_kafka_mock_broker_set_down(mock_->cluster, 1) : rd_kafka_mock_broker_set_up(mock_->cluster, 1);
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error(std::string("mock broker: ") + rd_kafka_err2str(result));
    }
}

void KafkaTestCluster::create_topic(const std::string& topic, int partitions) {
    if (mock_) {
        if (rd_kafka_mock_topic_create(mock_->cluster, topic.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw std::runtime_error("cannot create mock topic " + topic);
        }
        return;
    }
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_.c_str(), error, sizeof error);
    for (const auto& [name, value] : sasl_) {
        rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error);
    }
    rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (admin == nullptr) {
        throw std::runtime_error(error);
    }
    rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
    rd_kafka_NewTopic_set_config(new_topic, "retention.ms", "-1");
    rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
    rd_kafka_CreateTopics(admin, &new_topic, 1, nullptr, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
    std::string failure;
    if (event == nullptr) {
        failure = "no answer to CreateTopics";
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_event_error_string(event);
    } else {
        size_t count = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        for (size_t i = 0; i < count; ++i) {
            if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
                rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                failure = rd_kafka_topic_result_error_string(results[i]);
            }
        }
    }
    if (event != nullptr) {
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(new_topic);
    // Wait until every partition has a leader in the metadata.
    const auto partitions_led = [&] {
        rd_kafka_topic_t* handle = rd_kafka_topic_new(admin, topic.c_str(), nullptr);
        const rd_kafka_metadata_t* metadata = nullptr;
        bool ready = false;
        if (rd_kafka_metadata(admin, 0, handle, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ready = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                    metadata->topics[0].partition_cnt == partitions;
            for (int i = 0; ready && i < metadata->topics[0].partition_cnt; ++i) {
                ready = metadata->topics[0].partitions[i].leader >= 0;
            }
            rd_kafka_metadata_destroy(metadata);
        }
        rd_kafka_topic_destroy(handle);
        return ready;
    };
    const bool ready =
        failure.empty() && wait_until(partitions_led, std::chrono::seconds(30), std::chrono::milliseconds(100));
    rd_kafka_destroy(admin);
    if (!failure.empty() || !ready) {
        throw std::runtime_error("cannot create topic " + topic + ": " + (failure.empty() ? "not ready" : failure));
    }
}

std::vector<ConsumedRecord> KafkaTestCluster::read_all(const std::string& topic, std::size_t expected,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds settle) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set(*conf, "bootstrap.servers", bootstrap_);
    for (const auto& [name, setting] : sasl_) {
        set(*conf, name, setting);
    }
    std::string error;
    std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
    RdKafka::Metadata* raw = nullptr;
    if (consumer->metadata(false, handle.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR) {
        throw std::runtime_error("no metadata for " + topic);
    }
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    const int partitions = static_cast<int>(metadata->topics()->at(0)->partitions()->size());
    std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer.get()));
    for (int p = 0; p < partitions; ++p) {
        consumer->start(handle.get(), p, RdKafka::Topic::OFFSET_BEGINNING, queue.get());
    }
    std::vector<ConsumedRecord> records;
    const auto deadline = Clock::now() + timeout;
    auto last_record = Clock::now();
    while (Clock::now() < deadline) {
        if (records.size() >= expected && Clock::now() - last_record > settle) {
            break;
        }
        std::unique_ptr<RdKafka::Message> message(consumer->consume(queue.get(), 100));
        if (message->err() != RdKafka::ERR_NO_ERROR) {
            continue;
        }
        ConsumedRecord& record = records.emplace_back();
        record.key = message->key() ? *message->key() : std::string();
        record.value.assign(static_cast<const char*>(message->payload()), message->len());
        record.partition = message->partition();
        record.offset = message->offset();
        if (const RdKafka::Headers* headers = message->headers()) {
            for (const auto& header : headers->get_all()) {
                record.headers[header.key()] =
                    header.value() ? std::string(static_cast<const char*>(header.value()), header.value_size()) : "";
            }
        }
        last_record = Clock::now();
    }
    for (int p = 0; p < partitions; ++p) {
        consumer->stop(handle.get(), p);
    }
    return records;
}

void KafkaTestCluster::produce(const std::string& topic, const std::string& key, const std::string& value,
                               const std::map<std::string, std::string>& headers) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    set(*conf, "bootstrap.servers", bootstrap_);
    for (const auto& [name, setting] : sasl_) {
        set(*conf, name, setting);
    }
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    RdKafka::Headers* record_headers = nullptr;
    if (!headers.empty()) {
        record_headers = RdKafka::Headers::create();
        for (const auto& [name, text] : headers) {
            record_headers->add(name, text);
        }
    }
    if (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                          const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, record_headers,
                          nullptr) != RdKafka::ERR_NO_ERROR) {
        delete record_headers;  // not taken over by a failed produce()
        throw std::runtime_error("cannot produce to " + topic);
    }
    if (producer->flush(10000) != RdKafka::ERR_NO_ERROR) {
        throw std::runtime_error("cannot produce to " + topic);
    }
}

std::string unique_topic(const std::string& prefix) {
    std::random_device random;
    return prefix + "-" + std::to_string(random() % 1000000000U);
}

}  // namespace gatehouse::testing
