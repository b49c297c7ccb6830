// Kafka for kernel tests: the real broker when the ctest fixture started one (its bootstrap
// address is in the file named by GATEHOUSE_TEST_KAFKA_BOOTSTRAP_FILE), otherwise librdkafka's
// mock cluster inside the test process.
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
    // Creates the topic (retention forever) and waits until it is usable.
    void create_topic(const std::string& topic, int partitions);
    // Reads every record of `topic` from the beginning, until `expected` records were read and
    // nothing more arrives within `settle`, or `timeout` passes.
    std::vector<ConsumedRecord> read_all(const std::string& topic, std::size_t expected,
                                         std::chrono::milliseconds timeout,
                                         std::chrono::milliseconds settle = std::chrono::milliseconds(500));
    void produce(const std::string& topic, const std::string& key, const std::string& value);
    // Mock cluster only: its broker stops answering (connections refused) / answers again.
    void set_broker_down(bool down);

  private:
    struct Mock;
    std::unique_ptr<Mock> mock_;
    std::string bootstrap_;
};

// A topic name no other test uses.
std::string unique_topic(const std::string& prefix);

}  // namespace gatehouse::testing
