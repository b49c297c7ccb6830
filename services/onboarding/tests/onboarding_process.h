// The onboarding service as a real process for API tests: its own data directory, Kafka (mock or
// real, see KafkaTestCluster), a notifier key pair the test holds, and two bearer tokens.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "gatehouse/testing/kafka_test_cluster.h"
#include "gatehouse/testing/service_process.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kSalesToken = "sales-token-0123456789abcdef";

class OnboardingProcess final {
  public:
    explicit OnboardingProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : kafka_(kafka), prefix_(unique_topic("test") + ".") {
        kafka_.create_topic(onboarding_topic(), 3);
        kafka_.create_topic(sales_topic(), 3);
        kafka_.create_topic(prefix_ + "gatehouse.onboarding.dead-letters.v1", 1);
        settings.try_emplace("GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS", kafka_.bootstrap());
        settings.try_emplace("GATEHOUSE_KAFKA_PROPERTIES", kafka_.client_properties());
        settings.try_emplace("GATEHOUSE_LOG_LEVEL", "warn");
        settings.try_emplace("GATEHOUSE_KAFKA_TOPIC_PREFIX", prefix_);
        settings.try_emplace("GATEHOUSE_NOTIFIER_PUBLIC_KEY", keys_.public_text());
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kHqToken) + "=hq:alice:alice@hq.example," +
                                                          kSalesToken + "=sales:bob:bob@hq.example");
        process_ = std::make_unique<ServiceProcess>("onboarding", GATEHOUSE_ONBOARDING_BINARY, std::move(settings));
        start();
    }

    void start() {
        process_->start();
        stub_ = onboarding::v1::OnboardingService::NewStub(process_->channel());
    }
    // SIGTERM and wait; returns the exit code.
    int stop() {
        stub_.reset();
        return process_->stop();
    }
    // Runs an operator command of the binary (e.g. "verify") while the service is stopped.
    [[nodiscard]] std::pair<int, std::string> run_command(const std::vector<std::string>& arguments) const {
        return process_->run_command(arguments);
    }
    [[nodiscard]] std::filesystem::path data_dir() const { return process_->data_dir(); }
    [[nodiscard]] double metric(const std::string& name) const { return process_->metric(name); }

    onboarding::v1::OnboardingService::Stub& api() { return *stub_; }
    // This process's topics (each test uses its own prefix, so tests never see each other's events).
    [[nodiscard]] std::string onboarding_topic() const { return prefix_ + "gatehouse.onboarding.events.v1"; }
    [[nodiscard]] std::string sales_topic() const { return prefix_ + "gatehouse.sales.events.v1"; }
    [[nodiscard]] std::string dead_letter_topic() const { return prefix_ + "gatehouse.onboarding.dead-letters.v1"; }

    // Opens a token sealed for the notifier, as the notifier will.
    [[nodiscard]] std::string unseal(const std::string& sealed) const { return keys_.unseal(sealed); }

  private:
    KafkaTestCluster& kafka_;
    std::string prefix_;
    NotifierKeys keys_;
    std::unique_ptr<ServiceProcess> process_;
    std::unique_ptr<onboarding::v1::OnboardingService::Stub> stub_;
};

// A request that passes validation (German company, VAT id with valid check digits).
inline onboarding::v1::SubmitRequestRequest valid_request(const std::string& email = "jane@acme.example",
                                                          const std::string& company = "Acme GmbH") {
    onboarding::v1::SubmitRequestRequest request;
    auto& details = *request.mutable_company();
    details.set_name(company);
    details.mutable_address()->set_street("Hauptstrasse 1");
    details.mutable_address()->set_city("Berlin");
    details.mutable_address()->set_postal_code("10115");
    details.mutable_address()->set_country_code("DE");
    details.set_phone("+49 30 1234567");
    details.set_tax_id(company == "Acme GmbH" ? "DE 136 695 976" : "");  // others: no VAT id, no match
    auto& contact = *request.mutable_contact();
    contact.set_first_name("Jane");
    contact.set_last_name("Doe");
    contact.set_email(email);
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    return request;
}

// A client context with an optional bearer token and a deadline.
inline std::unique_ptr<grpc::ClientContext> as(const char* token = nullptr) {
    return call_as(token == nullptr ? std::string() : std::string(token));
}

}  // namespace gatehouse::testing
