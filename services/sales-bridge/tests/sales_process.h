// The sales-bridge service as a real process for API tests: its own data directory, Kafka (mock
// or real, see KafkaTestCluster), its own topic prefix, and bearer tokens for two sales users, a
// sales manager and an HQ user (who may not use this API).
#pragma once

#include <grpcpp/grpcpp.h>

#include <csignal>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_under_test.h"
#include "gatehouse/testing/support_failure.h"
#include "gatehouse/testing/temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kBobToken = "sales-bob-token-0123456789";      // sales: bob
inline constexpr const char* kCarolToken = "sales-carol-token-0123456789";  // sales: carol
inline constexpr const char* kMariaToken = "sales-maria-token-0123456789";  // sales-manager: maria
inline constexpr const char* kHqToken = "hq-alice-token-0123456789";        // hq: alice

class SalesProcess final : public ServiceUnderTest<sales::v1::SalesService> {
  public:
    explicit SalesProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : ServiceUnderTest(
              kafka, "sales-bridge", GATEHOUSE_SALES_BINARY,
              {"gatehouse.sales.events.v1", "gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1"},
              with_defaults(std::move(settings)), NotifierKey::none, "sales") {}
    // A graceful shutdown at the end of each test, as the service would see in production (the
    // shared process would SIGKILL it).
    ~SalesProcess() {
        try {
            stop();
        } catch (const std::exception& error) {
            report_support_failure(std::string("stopping gatehouse sales-bridge: ") + error.what());
        }
    }
    SalesProcess(const SalesProcess&) = delete;
    SalesProcess& operator=(const SalesProcess&) = delete;
    SalesProcess(SalesProcess&&) = delete;
    SalesProcess& operator=(SalesProcess&&) = delete;

    // kill -9: no clean shutdown.
    void crash() { stop(SIGKILL); }

    [[nodiscard]] std::string sales_topic() const { return topic("gatehouse.sales.events.v1"); }
    [[nodiscard]] std::string onboarding_topic() const { return topic("gatehouse.onboarding.events.v1"); }
    [[nodiscard]] std::string customers_topic() const { return topic("gatehouse.customers.events.v1"); }

  private:
    static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> settings) {
        settings.try_emplace("GATEHOUSE_SALES_USERS",
                             "bob=bob@sales.example,carol=carol@sales.example,maria=maria@sales.example");
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kBobToken) + "=sales:bob:bob@sales.example," +
                                                          kCarolToken + "=sales:carol:carol@sales.example," +
                                                          kMariaToken + "=sales-manager:maria:maria@sales.example," +
                                                          kHqToken + "=hq:alice:alice@hq.example");
        return settings;
    }
};

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const char* token = nullptr) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (token != nullptr) {
        context->AddMetadata("authorization", std::string("Bearer ") + token);
    }
    return context;
}

}  // namespace gatehouse::testing
