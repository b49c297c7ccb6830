// Disaster recovery against the real gatehouse-onboarding process: verify the log against the
// topic, lose the data directory, restore it from the topic, and carry on where it stopped.
#include <catch2/catch.hpp>

#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/testing/wait_until.h"
#include "onboarding_process.h"

using namespace gatehouse;
using namespace gatehouse::testing;
using namespace std::chrono_literals;
namespace ob = gatehouse::onboarding::v1;

namespace {

std::string submit_one(OnboardingProcess& service, const std::string& email) {
    ob::SubmitRequestResponse response;
    const auto status = service.api().SubmitRequest(as().get(), valid_request(email, "Firm " + email), &response);
    REQUIRE(status.error_message().empty());
    return response.request_number();
}

ob::RequestStatus status_of(OnboardingProcess& service, const std::string& number, const std::string& email) {
    ob::GetRequestStatusRequest request;
    request.set_request_number(number);
    request.set_email(email);
    ob::GetRequestStatusResponse response;
    REQUIRE(service.api().GetRequestStatus(as().get(), request, &response).ok());
    return response.status();
}

}  // namespace

TEST_CASE(
    "a lost log is restored from the topic: same requests, same statuses, numbering goes on, nothing "
    "published twice",
    "[kafka]") {
    KafkaTestCluster kafka;
    OnboardingProcess service(kafka, {{"GATEHOUSE_RATE_LIMIT_ANONYMOUS_BURST", "1000"},
                                      {"GATEHOUSE_RATE_LIMIT_ANONYMOUS_PER_SECOND", "1000"},
                                      {"GATEHOUSE_RATE_LIMIT_SUBMITS_PER_SECOND", "0"},
                                      {"GATEHOUSE_VERIFICATION_MAX_UNVERIFIED_PER_DOMAIN", "0"}});
    constexpr int kRequests = 30;
    std::vector<std::pair<std::string, std::string>> requests;  // number, email
    for (int i = 0; i < kRequests; ++i) {
        const std::string email = "buyer" + std::to_string(i) + "@firm.example";
        requests.emplace_back(submit_one(service, email), email);
    }
    ob::RejectProspectRequest reject;  // a decision, so that state is more than submissions
    reject.set_request_number(requests[0].first);
    reject.set_reason("test");
    ob::RejectProspectResponse rejected;
    CHECK(service.api().RejectProspect(as(kHqToken).get(), reject, &rejected).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);  // not verified yet: refused, nothing written
    // Wait until every event is on the topic (the relay is asynchronous).
    REQUIRE(wait_until(
        [&] {
            return kafka.read_all(service.onboarding_topic(), kRequests, 10s, 100ms).size() >=
                   static_cast<std::size_t>(kRequests);
        },
        60s, 500ms));
    REQUIRE(service.stop() == 0);

    auto [code, output] = service.run_command({"verify"});
    INFO(output);
    CHECK(code == 0);
    CHECK_THAT(output, Catch::Contains("consistent") && Catch::Contains(std::to_string(kRequests) + " events"));

    // The disk is lost.
    std::filesystem::remove_all(service.data_dir());
    std::tie(code, output) = service.run_command({"restore-from-topic"});
    INFO(output);
    REQUIRE(code == 0);
    CHECK_THAT(output, Catch::Contains(std::to_string(kRequests) + " events restored"));
    // Restoring over an existing log is refused.
    std::tie(code, output) = service.run_command({"restore-from-topic"});
    CHECK(code == 2);
    CHECK_THAT(output, Catch::Contains("not empty"));
    std::tie(code, output) = service.run_command({"verify"});
    CHECK(code == 0);

    service.start();
    for (const auto& [number, email] : requests) {
        CHECK(status_of(service, number, email) == ob::REQUEST_STATUS_AWAITING_VERIFICATION);
    }
    // Numbering resumes after the highest number in use: no number is handed out twice.
    const std::string next = submit_one(service, "after@firm.example");
    CHECK(next == "PR-" + std::string(6 - std::to_string(kRequests + 1).size(), '0') + std::to_string(kRequests + 1));
    // The relay found the topic up to date: only the new request's event was published.
    const auto records = kafka.read_all(service.onboarding_topic(), kRequests + 2, 20s, 1s);
    CHECK(records.size() == static_cast<std::size_t>(kRequests + 1));
}
