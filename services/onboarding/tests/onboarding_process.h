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
#include "gatehouse/testing/service_under_test.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kSalesToken = "sales-token-0123456789abcdef";

class OnboardingProcess final : public ServiceUnderTest<onboarding::v1::OnboardingService> {
  public:
    explicit OnboardingProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : ServiceUnderTest(kafka, "onboarding", GATEHOUSE_ONBOARDING_BINARY,
                           {"gatehouse.onboarding.events.v1", "gatehouse.sales.events.v1"},
                           with_defaults(std::move(settings)), NotifierKey::public_half) {}

    // This process's topics (each test uses its own prefix, so tests never see each other's events).
    [[nodiscard]] std::string onboarding_topic() const { return topic("gatehouse.onboarding.events.v1"); }
    [[nodiscard]] std::string sales_topic() const { return topic("gatehouse.sales.events.v1"); }

  private:
    static std::map<std::string, std::string> with_defaults(std::map<std::string, std::string> settings) {
        settings.try_emplace("GATEHOUSE_AUTH_TOKENS", std::string(kHqToken) + "=hq:alice:alice@hq.example," +
                                                          kSalesToken + "=sales:bob:bob@hq.example");
        return settings;
    }
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
