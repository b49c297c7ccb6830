// The clients of the chaos run: requesters, HQ and the sales team, driving each onboarding
// through its story over the public gRPC APIs while services die, the broker is away and the SMTP
// server is down. Every call has a deadline; a call that was refused for a passing reason
// (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNKNOWN, CANCELLED) or timed
// out is not
// acknowledged and is retried as a client would: SubmitRequest with its idempotency key, the
// other commands because they are idempotent or their effect can be read back (a qualified lead
// names its opportunity). What the clients were told is recorded for the checker.
//
// Each onboarding is a small state machine; a pool of workers takes whichever onboarding is due
// next, so that onboardings waiting for an email do not hold up the others.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"

namespace gatehouse::chaos {

using Clock = std::chrono::steady_clock;

inline constexpr const char* kHqToken = "chaos-hq-token-0123456789";
inline constexpr const char* kOperatorToken = "chaos-operator-token-0123456789";
inline constexpr const char* kSalesToken = "chaos-sales-token-0123456789";
inline constexpr const char* kSalesManagerToken = "chaos-sales-manager-token-0123456789";
inline constexpr const char* kSalesUser = "sam";

// A client context with a bearer credential (or none) and a deadline.
std::unique_ptr<grpc::ClientContext> call_as(const std::string& token = {},
                                             std::chrono::milliseconds deadline = std::chrono::seconds(10));

// Answers a client retries: the call did not happen, or may have, and asking again is safe.
bool retryable(const grpc::Status& status);

// One email the SMTP server accepted (a file of smtp_sink.py).
struct Email final {
    std::string file;
    std::string to;
    std::string subject;
    std::string message_id;
    std::string text;
};

// The token of the first "...token=XYZ" link in an email's text ("" if none).
std::string link_token(const std::string& text);

// Reads the SMTP server's directory: every message it accepted so far.
std::vector<Email> read_mailbox(const std::filesystem::path& dir);

// The SMTP server's directory, read incrementally (new files only) and indexed by recipient.
class Mailbox final {
  public:
    explicit Mailbox(std::filesystem::path dir) : dir_(std::move(dir)) {}
    void refresh();
    [[nodiscard]] std::vector<Email> to(const std::string& address) const;

  private:
    std::filesystem::path dir_;
    mutable std::mutex mutex_;
    std::set<std::string> read_;
    std::map<std::string, std::vector<Email>> by_recipient_;
};

// What the run means to do with a request once verified.
enum class Plan { approve, reject };

enum class Stage {
    submit,
    learn_mode,
    await_email,
    verify,
    decide_direct,
    await_lead,
    assign,
    qualify,
    close_opportunity,
    disqualify,
    done,
    given_up,
};
std::string to_string(Stage stage);

// One onboarding and what its clients were told.
struct Onboarding final {
    int index = 0;
    std::string email;
    std::string company;
    std::string idempotency_key;
    Clock::time_point submit_at{};
    Plan plan = Plan::approve;
    bool crm_disqualify = false;  // a CRM rejection: disqualify the lead (else: lose the opportunity)

    Stage stage = Stage::submit;
    std::string number;
    bool crm = false;  // the request's approval mode, as GetProspect tells it
    std::string token;
    std::string lead_id;
    std::string opportunity_id;

    // Acknowledged: the API answered OK (or, after a retry, the effect was read back).
    bool submit_acknowledged = false;
    bool verify_acknowledged = false;
    bool decision_acknowledged = false;

    int attempts = 0;  // in the current stage
    Clock::time_point stage_since{};
    Clock::time_point finished_at{};
    std::string last_answer;  // the last failed answer, for a stalled onboarding

    // The status the request must end in, from what the clients were told.
    [[nodiscard]] onboarding::v1::RequestStatus expected_status() const;
};

struct DriverSettings final {
    int onboardings = 1000;
    std::chrono::milliseconds submit_window{std::chrono::minutes(18)};  // submissions spread over it
    int workers = 16;
    // An onboarding that makes no progress in one stage for this long is given up (and reported).
    std::chrono::milliseconds stall_timeout{std::chrono::minutes(20)};
    std::uint64_t seed = 1;
    double reject_share = 0.15;
};

struct ServiceChannels final {
    std::shared_ptr<grpc::Channel> onboarding;
    std::shared_ptr<grpc::Channel> customers;
    std::shared_ptr<grpc::Channel> sales;
    std::shared_ptr<grpc::Channel> notifier;
};

class Driver final {
  public:
    Driver(DriverSettings settings, ServiceChannels channels, std::filesystem::path mailbox_dir);
    ~Driver();
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    void start();
    // Stops the workers (an onboarding under way keeps its state).
    void stop();

    [[nodiscard]] int finished() const { return finished_; }
    [[nodiscard]] bool all_finished() const { return finished_ == static_cast<int>(onboardings_.size()); }
    // Progress counters, safe to read while running.
    [[nodiscard]] int submitted() const { return submitted_; }
    [[nodiscard]] int verified() const { return verified_; }
    [[nodiscard]] int decided() const { return decided_; }
    [[nodiscard]] int given_up() const { return given_up_; }

    // After stop(): every onboarding and what its clients were told.
    [[nodiscard]] const std::vector<Onboarding>& onboardings() const { return onboardings_; }
    // After stop(): how often each RPC was answered with each status code (OK included).
    [[nodiscard]] std::map<std::string, std::map<int, int>> answers() const;

  private:
    using Next = std::optional<Clock::time_point>;
    void work();
    Next step(Onboarding& onboarding);
    Next retry_later(Onboarding& onboarding, const std::string& rpc, const grpc::Status& status);
    Next advance(Onboarding& onboarding, Stage stage);
    Next give_up(Onboarding& onboarding, const std::string& why);
    void count(const std::string& rpc, const grpc::Status& status);

    Next submit(Onboarding& onboarding);
    Next learn_mode(Onboarding& onboarding);
    Next await_email(Onboarding& onboarding);
    Next verify(Onboarding& onboarding);
    Next decide_direct(Onboarding& onboarding);
    Next await_lead(Onboarding& onboarding);
    Next assign(Onboarding& onboarding);
    Next qualify(Onboarding& onboarding);
    Next close_opportunity(Onboarding& onboarding);
    Next disqualify(Onboarding& onboarding);

    DriverSettings settings_;
    ServiceChannels channels_;
    Mailbox mailbox_;
    std::vector<Onboarding> onboardings_;

    std::mutex queue_mutex_;
    std::condition_variable queue_changed_;
    std::multimap<Clock::time_point, int> due_;  // guarded by queue_mutex_
    bool stopping_ = false;                      // guarded by queue_mutex_
    std::vector<std::thread> workers_;
    std::thread mailbox_reader_;

    mutable std::mutex answers_mutex_;
    std::map<std::string, std::map<int, int>> answers_;

    std::atomic<int> finished_{0};
    std::atomic<int> submitted_{0};
    std::atomic<int> verified_{0};
    std::atomic<int> decided_{0};
    std::atomic<int> given_up_{0};
};

}  // namespace gatehouse::chaos
