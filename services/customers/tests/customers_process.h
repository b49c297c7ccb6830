// The customers service as a real process for API tests: its own data directory and topic prefix,
// Kafka (mock or real, see KafkaTestCluster), a notifier key pair the test holds (to open the
// sealed invitation tokens as the notifier would), and staff bearer tokens.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"
#include "gatehouse/testing/service_under_test.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kOperatorToken = "operator-token-0123456789abcdef";

class CustomersProcess final : public ServiceUnderTest<customers::v1::CustomersService> {
  public:
    explicit CustomersProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : ServiceUnderTest(
              kafka, "customers", GATEHOUSE_CUSTOMERS_BINARY,
              {"gatehouse.customers.events.v1", "gatehouse.onboarding.events.v1", "gatehouse.sales.events.v1"},
              with_defaults(std::move(settings)), NotifierKey::public_half) {}

    [[nodiscard]] std::string customers_topic() const { return topic("gatehouse.customers.events.v1"); }
    [[nodiscard]] std::string onboarding_topic() const { return topic("gatehouse.onboarding.events.v1"); }
    [[nodiscard]] std::string sales_topic() const { return topic("gatehouse.sales.events.v1"); }

  private:
    static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> settings) {
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kHqToken) + "=hq:alice:alice@hq.example," +
                                                          kOperatorToken + "=operator:olga:olga@hq.example");
        return settings;
    }
};

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const std::string& token = {}) { return call_as(token); }

}  // namespace gatehouse::testing
