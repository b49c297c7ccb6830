// The onboarding service as a real process for API tests: its own data directory, Kafka (mock or
// real, see KafkaTestCluster), a notifier key pair the test holds, and two bearer tokens.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <csignal>
#include <map>
#include <memory>
#include <string>

#include "child_process.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "kafka_test_cluster.h"
#include "temp_dir.h"

namespace gatehouse::testing {

inline constexpr const char* kHqToken = "hq-token-0123456789abcdef";
inline constexpr const char* kSalesToken = "sales-token-0123456789abcdef";

class OnboardingProcess final {
  public:
    explicit OnboardingProcess(KafkaTestCluster& kafka, std::map<std::string, std::string> settings = {})
        : kafka_(kafka), settings_(std::move(settings)), prefix_(unique_topic("test") + ".") {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium");
        }
        crypto_box_keypair(public_key_, secret_key_);
        kafka_.create_topic(onboarding_topic(), 3);
        kafka_.create_topic(sales_topic(), 3);
        kafka_.create_topic(prefix_ + "gatehouse.onboarding.dead-letters.v1", 1);
        start();
    }
    ~OnboardingProcess() { stop(); }

    void start() {
        std::vector<std::string> command = environment();
        command.push_back(GATEHOUSE_ONBOARDING_BINARY);
        process_ = std::make_unique<ChildProcess>(command);
        while (auto line = process_->read_line(std::chrono::seconds(60))) {
            if (line->rfind("onboarding ready grpc=", 0) == 0) {
                const int port = std::stoi(line->substr(std::string("onboarding ready grpc=").size()));
                stub_ = onboarding::v1::OnboardingService::NewStub(
                    grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
                return;
            }
        }
        throw std::runtime_error("gatehouse-onboarding did not become ready");
    }

    // `/usr/bin/env` with this process's settings, to start the binary with.
    [[nodiscard]] std::vector<std::string> environment() const {
        char key[64];
        sodium_bin2base64(key, sizeof key, public_key_, sizeof public_key_, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        std::vector<std::string> command = {"/usr/bin/env",
                                            "GATEHOUSE_DATA_DIR=" + data_dir().string(),
                                            "GATEHOUSE_KAFKA_BOOTSTRAP_SERVERS=" + kafka_.bootstrap(),
                                            "GATEHOUSE_KAFKA_PROPERTIES=session.timeout.ms=6000",
                                            "GATEHOUSE_LOG_LEVEL=warn",
                                            "GATEHOUSE_KAFKA_TOPIC_PREFIX=" + prefix_,
                                            std::string("GATEHOUSE_NOTIFIER_PUBLIC_KEY=") + key,
                                            std::string("GATEHOUSE_AUTH_TOKENS=") + kHqToken +
                                                "=hq:alice:alice@hq.example," + kSalesToken +
                                                "=sales:bob:bob@hq.example"};
        for (const auto& [name, value] : settings_) {
            command.push_back(name + "=" + value);
        }
        return command;
    }

    // Runs an operator command of the binary (e.g. "verify") with this process's settings, while
    // the service is stopped; returns its exit code and its output (stdout and stderr).
    std::pair<int, std::string> run_command(const std::vector<std::string>& arguments) const {
        std::vector<std::string> command = environment();
        command.push_back(GATEHOUSE_ONBOARDING_BINARY);
        command.insert(command.end(), arguments.begin(), arguments.end());
        ChildProcess tool(command, true);
        std::string output;
        while (auto line = tool.read_line(std::chrono::seconds(120))) {
            output += *line + "\n";
        }
        return {tool.wait(), output};
    }

    [[nodiscard]] std::filesystem::path data_dir() const { return data_.path() / "log"; }

    // SIGTERM and wait; returns the exit code.
    int stop() {
        if (!process_) {
            return -1;
        }
        process_->kill(SIGTERM);
        const int code = process_->wait();
        process_.reset();
        stub_.reset();
        return code;
    }

    onboarding::v1::OnboardingService::Stub& api() { return *stub_; }
    // This process's topics (each test uses its own prefix, so tests never see each other's events).
    [[nodiscard]] std::string onboarding_topic() const { return prefix_ + "gatehouse.onboarding.events.v1"; }
    [[nodiscard]] std::string sales_topic() const { return prefix_ + "gatehouse.sales.events.v1"; }

    // Opens a token sealed for the notifier, as the notifier will.
    std::string unseal(const std::string& sealed) const {
        if (sealed.size() < crypto_box_SEALBYTES) {
            return {};
        }
        std::string token(sealed.size() - crypto_box_SEALBYTES, '\0');
        if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(token.data()),
                                 reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(), public_key_,
                                 secret_key_) != 0) {
            return {};
        }
        return token;
    }

  private:
    KafkaTestCluster& kafka_;
    std::map<std::string, std::string> settings_;
    std::string prefix_;
    TempDir data_;
    unsigned char public_key_[crypto_box_PUBLICKEYBYTES]{};
    unsigned char secret_key_[crypto_box_SECRETKEYBYTES]{};
    std::unique_ptr<ChildProcess> process_;
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
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (token != nullptr) {
        context->AddMetadata("authorization", std::string("Bearer ") + token);
    }
    return context;
}

}  // namespace gatehouse::testing
