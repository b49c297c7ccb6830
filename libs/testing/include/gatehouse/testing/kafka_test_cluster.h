// Kafka for kernel tests: the real broker when the ctest fixture started one (its bootstrap
// address is in the file named by GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE), otherwise librdkafka's
// mock cluster inside the test process. The fixture's broker runs with SASL and ACLs
// (kafka.sh start --sasl): the cluster's own clients, and the services the tests start with
// client_properties(), authenticate as its admin principal from client.properties beside the
// bootstrap file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::testing {

struct ConsumedRecord final {
    std::string key;
    std::string value;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::map<std::string, std::string> headers;
};

class KafkaTestCluster final {
  public:
    KafkaTestCluster();
    ~KafkaTestCluster();
    KafkaTestCluster(const KafkaTestCluster&) = delete;
    KafkaTestCluster& operator=(const KafkaTestCluster&) = delete;

    [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }
    [[nodiscard]] bool is_real() const { return mock_ == nullptr; }
    // The librdkafka properties a service started by a test needs (kafka.properties, as
    // "k=v,k=v"): its consumers' session timeout and, on the SASL broker, admin's credentials.
    [[nodiscard]] std::string client_properties() const;
    // The SASL credentials of the real broker (empty on the mock cluster or a PLAINTEXT broker).
    [[nodiscard]] const std::map<std::string, std::string>& sasl_properties() const { return sasl_; }
    // The broker's state directory (where kafka.sh keeps credentials); empty on the mock cluster.
    [[nodiscard]] const std::string& broker_dir() const { return broker_dir_; }
    // Creates the topic (retention forever) and waits until it is usable.
    void create_topic(const std::string& topic, int partitions);
    // Reads every record of `topic` from the beginning, until `expected` records were read and
    // nothing more arrives within `settle`, or `timeout` passes.
    std::vector<ConsumedRecord> read_all(const std::string& topic, std::size_t expected,
                                         std::chrono::milliseconds timeout,
                                         std::chrono::milliseconds settle = std::chrono::milliseconds(500));
    // Produces one record (to the key's partition), with `headers` if given, and waits for it.
    void produce(const std::string& topic, const std::string& key, const std::string& value,
                 const std::map<std::string, std::string>& headers = {});
    // Mock cluster only: its broker stops answering (connections refused) / answers again.
    void set_broker_down(bool down);

  private:
    struct Mock;
    std::unique_ptr<Mock> mock_;
    std::string bootstrap_;
    std::string broker_dir_;
    std::map<std::string, std::string> sasl_;
};

// The fixture broker's client credentials (client.properties beside the file named by
// GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE), for clients in other processes of a test; empty when the
// tests run on the mock cluster or on a broker without SASL.
std::map<std::string, std::string> test_broker_client_properties();

// A topic name no other test uses.
std::string unique_topic(const std::string& prefix);

}  // namespace gatehouse::testing
