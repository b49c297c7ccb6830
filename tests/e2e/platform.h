// The whole platform for end-to-end tests: the four service processes (real binaries, their own
// data directories), the real SMTP server and a webhook receiver, on Kafka (the real broker under
// the ctest label "kafka", librdkafka's mock cluster otherwise), with a topic prefix of its own.
// Tests drive it only through the public gRPC APIs, the topics and the emails received.
#pragma once

#include <grpcpp/grpcpp.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"
#include "gatehouse/testing/sinks.h"
#include "gatehouse/testing/wait_until.h"

namespace gatehouse::testing {

inline constexpr const char* kHq = "e2e-hq-token-0123456789";
inline constexpr const char* kOperator = "e2e-operator-token-0123456789";
inline constexpr const char* kSales = "e2e-sales-token-0123456789";
inline constexpr const char* kSalesManager = "e2e-sales-manager-token-0123456789";

// The notifier's sends in flight at once (its default, set explicitly): a notifier killed while
// sending can send again at most this many messages (services/notifier/README.md, "The window").
inline constexpr int kNotifierParallelism = 4;

struct PlatformOptions {
    std::string approval_mode = "direct";
};

class Platform final {
  public:
    explicit Platform(KafkaTestCluster& kafka, PlatformOptions options = {})
        : kafka_(kafka),
          prefix_(unique_topic("e2e") + "."),
          smtp_(support_script("smtp_sink.py")),
          webhook_(support_script("webhook_sink.py")) {
        for (const char* topic : {"gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1",
                                  "gatehouse.sales.events.v1", "gatehouse.notifier.events.v1"}) {
            kafka_.create_topic(prefix_ + topic, 3);
        }
        for (const char* service : {"onboarding", "customers", "sales-bridge", "notifier"}) {
            kafka_.create_topic(prefix_ + "gatehouse." + service + ".dead-letters.v1", 1);
        }
        const std::map<std::string, std::string> common = {{"GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", kafka_.bootstrap()},
                                                           {"GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix_},
                                                           {"GATEHOUSE_KAFKA_PROPERTIES", kafka_.client_properties()},
                                                           {"GATEHOUSE_LOG_LEVEL", "warn"},
                                                           {"GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys_.public_text()},
                                                           {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "10000"},
                                                           {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "10000"}};
        auto with = [&](std::map<std::string, std::string> own) {
            own.insert(common.begin(), common.end());
            return own;
        };
        onboarding_ = std::make_unique<ServiceProcess>(
            "onboarding", GATEHOUSE_ONBOARDING_BINARY,
            with({{"GATEHOUSE_ONBOARDING_APPROVAL_MODE", options.approval_mode},
                  // The load tests submit hundreds of requests at once from one address.
                  {"GATEHOUSE_RATE_LIMIT_SUBMITS_PER_SECOND", "0"},
                  {"GATEHOUSE_AUTH_TOKENS", std::string(kHq) + "=hq:hilda:hilda@hq.example"}}));
        customers_ = std::make_unique<ServiceProcess>(
            "customers", GATEHOUSE_CUSTOMERS_BINARY,
            with({{"GATEHOUSE_AUTH_TOKENS",
                   std::string(kHq) + "=hq:hilda:hilda@hq.example," + kOperator + "=operator:otto:otto@ops.example"}}));
        sales_ = std::make_unique<ServiceProcess>(
            "sales-bridge", GATEHOUSE_SALES_BINARY,
            with({{"GATEHOUSE_AUTH_TOKENS", std::string(kSales) + "=sales:sam:sam@sales.example," + kSalesManager +
                                                "=sales-manager:mia:mia@sales.example"}}));
        notifier_ = std::make_unique<ServiceProcess>(
            "notifier", GATEHOUSE_NOTIFIER_BINARY,
            with({{"GATEHOUSE_NOTIFIER_SECRET_KEY", keys_.secret_text()},
                  {"GATEHOUSE_EMAIL_TRANSPORT", "smtp"},
                  {"GATEHOUSE_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp_.port())},
                  {"GATEHOUSE_SMTP_TLS", "none"},
                  {"GATEHOUSE_LINKS_BASE_URL", "https://shop.example"},
                  {"GATEHOUSE_CHAT_WEBHOOKS", "hq=http://127.0.0.1:" + std::to_string(webhook_.port()) +
                                                  "/hq,sales=http://127.0.0.1:" + std::to_string(webhook_.port()) +
                                                  "/sales"},
                  {"GATEHOUSE_DELIVERY_PARALLELISM", std::to_string(kNotifierParallelism)},
                  {"GATEHOUSE_DELIVERY_POLL_INTERVAL", "50ms"},
                  {"GATEHOUSE_DELIVERY_BACKOFF_INITIAL", "100ms"},
                  {"GATEHOUSE_DELIVERY_BACKOFF_MAX", "1s"},
                  // Webhook endpoints on loopback (the example receiver), retried quickly.
                  {"GATEHOUSE_WEBHOOKS_ALLOW_PLAIN_HTTP", "true"},
                  {"GATEHOUSE_WEBHOOKS_POLL_INTERVAL", "50ms"},
                  {"GATEHOUSE_WEBHOOKS_BACKOFF_INITIAL", "100ms"},
                  {"GATEHOUSE_WEBHOOKS_BACKOFF_MAX", "1s"},
                  {"GATEHOUSE_AUTH_TOKENS", std::string(kOperator) + "=operator:otto:otto@ops.example"}}));
        for (auto* service : all()) {
            service->start();
        }
    }

    std::vector<ServiceProcess*> all() { return {onboarding_.get(), customers_.get(), sales_.get(), notifier_.get()}; }
    ServiceProcess& onboarding_process() { return *onboarding_; }
    ServiceProcess& customers_process() { return *customers_; }
    ServiceProcess& sales_process() { return *sales_; }
    ServiceProcess& notifier_process() { return *notifier_; }

    // Fresh stubs: the channel changes when a service restarts.
    auto onboarding() { return onboarding::v1::OnboardingService::NewStub(onboarding_->channel()); }
    auto customers() { return customers::v1::CustomersService::NewStub(customers_->channel()); }
    auto sales() { return sales::v1::SalesService::NewStub(sales_->channel()); }
    auto notifier() { return notifier::v1::NotifierService::NewStub(notifier_->channel()); }

    Sink& smtp() { return smtp_; }
    Sink& webhook() { return webhook_; }
    [[nodiscard]] std::string topic(const std::string& name) const { return prefix_ + name; }
    KafkaTestCluster& kafka() { return kafka_; }

  private:
    KafkaTestCluster& kafka_;
    std::string prefix_;
    NotifierKeys keys_;
    Sink smtp_;
    Sink webhook_;
    std::unique_ptr<ServiceProcess> onboarding_;
    std::unique_ptr<ServiceProcess> customers_;
    std::unique_ptr<ServiceProcess> sales_;
    std::unique_ptr<ServiceProcess> notifier_;
};

// The emails received for `address` whose subject contains `subject_part`.
inline std::vector<nlohmann::json> emails_to(Sink& smtp, const std::string& address, const std::string& subject_part) {
    std::vector<nlohmann::json> found;
    for (auto& email : smtp.received()) {
        if (email["to"] == address && email["subject"].get<std::string>().find(subject_part) != std::string::npos) {
            found.push_back(std::move(email));
        }
    }
    return found;
}

// The token of the first link "...token=XYZ" in an email's text.
inline std::string link_token(const nlohmann::json& email) {
    const std::string text = email["text"];
    const auto at = text.find("token=");
    if (at == std::string::npos) {
        return {};
    }
    const auto end = text.find_first_of(" \r\n", at);
    return text.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

}  // namespace gatehouse::testing
