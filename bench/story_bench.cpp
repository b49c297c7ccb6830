// story_bench: the whole onboarding story across the four services, at a fixed arrival rate, as
// the outside world sees it (bench/story.sh starts Kafka, the SMTP server and the services).
//
//   story_bench topics --bootstrap HOST:PORT --prefix P
//       creates the platform's topics under prefix P (librdkafka's admin API): the four event
//       topics with 3 partitions, the four dead-letter topics with 1, kept forever.
//   story_bench run --mode crm|direct --onboarding HOST:PORT [--sales HOST:PORT] --smtp-dir DIR
//                   --bootstrap HOST:PORT --prefix P --hq-token T --sales-token T [--sales-user U]
//                   [--rate R] [--duration S] [--warmup N] [--drain S]
//       starts R onboardings a second for S seconds (open loop: each at its planned time, whatever
//       the others do) and drives each through its story:
//         submit (SubmitRequest) -> the confirmation email at the SMTP server -> VerifyEmail with
//         the token of its link ->
//           crm:    the lead appears (LeadCreated) -> the sales user takes it (AssignLead) and
//                   qualifies it (QualifyLead) -> the CRM account and contact are replicated to
//                   customers (CustomerCreated, source CRM: the story waits for them, as
//                   tests/e2e/stories_test.cpp does) -> WinOpportunity -> ProspectApproved
//           direct: HQ approves (ApproveProspect) ->
//         customers create the organization, its admin and hierarchy and issue the admin's
//         invitation (InvitationIssued) -> the welcome email at the SMTP server.
//       Each point in time comes from where it can be seen from outside (all on this machine's
//       system clock): the bench's own clock for its calls; the SMTP server's `received_at` for
//       emails (DIR/<n>.json of tests/support/smtp_sink.py); for what happens inside a service, a
//       consumer of the four topics: the Kafka record's timestamp (CreateTime, milliseconds: when
//       the service's relay produced the event, after its commit) and the event's own time where
//       the payload has one (RequestSubmitted.submitted_at, ProspectApproved.approved_at,
//       NotificationQueued.queued_at). Not the envelope's `occurred_at`: it is set with protobuf's
//       TimeUtil::GetCurrentTime(), which has whole seconds only. Prints one Markdown table of
//       p50 / p99 / max per hop and end to end, and one "summary ..." line for scripts.
//       `--warmup N` stories run first and are not counted (consumer groups joined, caches warm).
#include <grpcpp/grpcpp.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "bench_support.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/notifier/v1/events.pb.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "gatehouse/sales/v1/events.pb.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"

namespace {

using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;
namespace ob = gatehouse::onboarding::v1;
namespace sa = gatehouse::sales::v1;
namespace cu = gatehouse::customers::v1;
namespace nt = gatehouse::notifier::v1;

// Nanoseconds since the Unix epoch on the system clock: the services, the SMTP server, the broker
// and the bench run on one machine, so their timestamps are comparable.
using Nanos = std::int64_t;

Nanos now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SystemClock::now().time_since_epoch()).count();
}
Nanos to_ns(const google::protobuf::Timestamp& at) { return at.seconds() * 1'000'000'000LL + at.nanos(); }

const std::array<const char*, 4> kEventTopics = {"gatehouse.onboarding.events.v1", "gatehouse.sales.events.v1",
                                                 "gatehouse.customers.events.v1", "gatehouse.notifier.events.v1"};
const std::array<const char*, 4> kServices = {"onboarding", "sales-bridge", "customers", "notifier"};

int create_topics(const std::string& bootstrap, const std::string& prefix) {
    char error[512] = {};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
        std::cerr << "topics: " << error << "\n";
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (admin == nullptr) {
        std::cerr << "topics: " << error << "\n";
        return 1;
    }
    std::vector<rd_kafka_NewTopic_t*> topics;
    for (const char* topic : kEventTopics) {
        topics.push_back(rd_kafka_NewTopic_new((prefix + topic).c_str(), 3, 1, error, sizeof error));
    }
    for (const char* service : kServices) {
        topics.push_back(rd_kafka_NewTopic_new((prefix + "gatehouse." + service + ".dead-letters.v1").c_str(), 1, 1,
                                               error, sizeof error));
    }
    for (auto* topic : topics) {
        rd_kafka_NewTopic_set_config(topic, "retention.ms", "-1");
    }
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(admin, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    (void)rd_kafka_AdminOptions_set_operation_timeout(options, 30'000, error, sizeof error);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
    rd_kafka_CreateTopics(admin, topics.data(), topics.size(), options, queue);
    int result = 0;
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 60'000);
    if (event == nullptr) {
        std::cerr << "topics: no answer from " << bootstrap << " within 60 s\n";
        result = 1;
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::cerr << "topics: " << rd_kafka_event_error_string(event) << "\n";
        result = 1;
    } else {
        std::size_t count = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        for (std::size_t i = 0; i < count; ++i) {
            const auto code = rd_kafka_topic_result_error(results[i]);
            if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                std::cerr << "topics: " << rd_kafka_topic_result_name(results[i]) << ": "
                          << rd_kafka_topic_result_error_string(results[i]) << "\n";
                result = 1;
            }
        }
    }
    if (event != nullptr) {
        rd_kafka_event_destroy(event);
    }
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
    rd_kafka_destroy(admin);
    return result;
}

// The points of one story, in story order. Not every mode has every point.
enum Point : std::size_t {
    kSubmitPlanned,      // bench: the planned arrival time (SubmitRequest is sent then, or late if the bench lags)
    kSubmitAnswered,     // bench: SubmitRequest answered
    kSubmittedAccepted,  // onboarding: RequestSubmitted.submitted_at (before its commit)
    kSubmittedOnTopic,   // Kafka: RequestSubmitted's record timestamp
    kConfirmQueued,      // notifier: NotificationQueued.queued_at (request_received)
    kConfirmReceived,    // SMTP server: the confirmation email's received_at
    kVerifyAnswered,     // bench: VerifyEmail answered
    kLeadOnTopic,        // Kafka: LeadCreated's record timestamp (crm)
    kQualifyAnswered,    // bench: AssignLead then QualifyLead answered (crm)
    kReplicated,         // Kafka: the later CustomerCreated (source CRM) record of the account and contact (crm)
    kDecisionAnswered,   // bench: WinOpportunity (crm) / ApproveProspect (direct) answered
    kApprovedDecided,    // onboarding: ProspectApproved.approved_at (crm: the reaction to OpportunityWon)
    kInvitationOnTopic,  // Kafka: InvitationIssued's (admin on approval) record timestamp
    kWelcomeQueued,      // notifier: NotificationQueued.queued_at (partner_approved)
    kWelcomeReceived,    // SMTP server: the welcome email's received_at
    kPoints
};

struct Story {
    std::array<Nanos, kPoints> at{};  // 0: not seen (yet)
    std::string number;
    std::string lead_id;
    std::string opportunity_id;
    Nanos organization_replicated = 0;
    Nanos person_replicated = 0;
    bool verify_sent = false;
    bool lead_taken = false;
    bool win_sent = false;
    bool failed = false;
    bool done = false;
};

struct Options {
    std::string mode = "crm";
    std::string onboarding;
    std::string sales;
    std::string smtp_dir;
    std::string bootstrap;
    std::string prefix;
    std::string hq_token;
    std::string sales_token;
    std::string sales_user = "sam";
    double rate = 200;
    double duration = 60;
    unsigned warmup = 3;
    double drain = 180;
};

// One gRPC call in flight on the completion queue.
struct PendingCall {
    virtual ~PendingCall() = default;
    virtual void finish() = 0;
    grpc::ClientContext context;
    grpc::Status status;
};

template <class Response>
struct CallOf final : PendingCall {
    Response response;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
    std::function<void(const grpc::Status&, Response&)> then;
    void finish() override { then(status, response); }
};

std::shared_ptr<grpc::Channel> connect(const std::string& target) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
    if (!channel->WaitForConnected(SystemClock::now() + 10s)) {
        throw std::runtime_error("cannot connect to " + target);
    }
    return channel;
}

class StoryBench {
  public:
    explicit StoryBench(Options options)
        : options_(std::move(options)),
          crm_(options_.mode == "crm"),
          tag_(std::string(crm_ ? "crm" : "direct") + std::to_string(now_ns() / 1'000'000 % 1'000'000'007)),
          onboarding_(ob::OnboardingService::NewStub(connect(options_.onboarding))) {
        if (crm_) {
            sales_ = sa::SalesService::NewStub(connect(options_.sales));
        }
        const auto measured = static_cast<std::size_t>(std::llround(options_.rate * options_.duration));
        stories_.resize(options_.warmup + measured);
    }

    int run() {
        start_consumer();
        threads_.emplace_back([this] { serve_completions(); });
        threads_.emplace_back([this] { watch_mailbox(); });
        threads_.emplace_back([this] { consume(); });
        const int result = drive();
        stop();
        return result;
    }

  private:
    // ---- identities: every story's email address and company name encode its index

    [[nodiscard]] std::string address(std::size_t i) const {
        return "buyer" + std::to_string(i) + "@" + tag_ + "-" + std::to_string(i % 1000) + ".example";
    }
    [[nodiscard]] std::string company(std::size_t i) const { return "Firm " + tag_ + " " + std::to_string(i); }

    static std::optional<std::size_t> number_at(std::string_view text, std::size_t at, std::size_t* end = nullptr) {
        std::size_t value = 0;
        const auto [next, error] = std::from_chars(text.data() + at, text.data() + text.size(), value);
        if (error != std::errc() || next == text.data() + at) {
            return std::nullopt;
        }
        if (end != nullptr) {
            *end = static_cast<std::size_t>(next - text.data());
        }
        return value;
    }
    [[nodiscard]] std::optional<std::size_t> story_of_address(std::string_view email) const {
        std::size_t end = 0;
        if (email.rfind("buyer", 0) != 0) {
            return std::nullopt;
        }
        const auto i = number_at(email, 5, &end);
        if (!i || *i >= stories_.size() || email.substr(end) != address(*i).substr(end)) {
            return std::nullopt;
        }
        return i;
    }
    [[nodiscard]] std::optional<std::size_t> story_of_company(std::string_view name) const {
        const std::string prefix = "Firm " + tag_ + " ";
        std::size_t end = 0;
        if (name.rfind(prefix, 0) != 0) {
            return std::nullopt;
        }
        const auto i = number_at(name, prefix.size(), &end);
        if (!i || end != name.size() || *i >= stories_.size()) {
            return std::nullopt;
        }
        return i;
    }

    ob::SubmitRequestRequest request_for(std::size_t i) const {
        ob::SubmitRequestRequest request;
        auto& firm = *request.mutable_company();
        firm.set_name(company(i));
        firm.mutable_address()->set_street("Hauptstrasse 1");
        firm.mutable_address()->set_city("Berlin");
        firm.mutable_address()->set_postal_code("10115");
        firm.mutable_address()->set_country_code("DE");
        firm.set_phone("+49 30 1234567");
        auto& contact = *request.mutable_contact();
        contact.set_first_name("Jane");
        contact.set_last_name("Doe");
        contact.set_email(address(i));
        contact.set_phone("+49 30 7654321");
        contact.set_job_title("Purchasing manager");
        return request;
    }

    // ---- gRPC

    template <class Response, class Start>
    void call(const std::string& token, Start start, std::function<void(const grpc::Status&, Response&)> then) {
        auto* pending = new CallOf<Response>;
        pending->context.set_deadline(SystemClock::now() + 30s);
        if (!token.empty()) {
            pending->context.AddMetadata("authorization", "Bearer " + token);
        }
        pending->then = std::move(then);
        in_flight_.fetch_add(1);
        pending->reader = start(&pending->context);
        pending->reader->Finish(&pending->response, &pending->status, pending);
    }

    void serve_completions() {
        void* tag = nullptr;
        bool ok = false;
        while (queue_.Next(&tag, &ok)) {
            std::unique_ptr<PendingCall> pending(static_cast<PendingCall*>(tag));
            pending->finish();
            in_flight_.fetch_sub(1);
        }
    }

    // Marks story i failed (caller holds mutex_).
    void fail(std::size_t i, const std::string& what, const grpc::Status& status) {
        if (!stories_[i].failed && !stories_[i].done) {
            stories_[i].failed = true;
            ++errors_[what + ": " + std::to_string(status.error_code()) + " " + status.error_message()];
            progress_.notify_all();
        }
    }

    void submit(std::size_t i, Nanos planned) {
        {
            std::lock_guard lock(mutex_);
            stories_[i].at[kSubmitPlanned] = planned;
        }
        const auto request = request_for(i);
        call<ob::SubmitRequestResponse>(
            {},
            [&](grpc::ClientContext* context) { return onboarding_->AsyncSubmitRequest(context, request, &queue_); },
            [this, i](const grpc::Status& status, ob::SubmitRequestResponse& response) {
                std::lock_guard lock(mutex_);
                if (!status.ok()) {
                    fail(i, "SubmitRequest", status);
                    return;
                }
                stories_[i].at[kSubmitAnswered] = now_ns();
                stories_[i].number = response.request_number();
            });
    }

    void verify(std::size_t i, const std::string& number, const std::string& token) {
        ob::VerifyEmailRequest request;
        request.set_request_number(number);
        request.set_token(token);
        call<ob::VerifyEmailResponse>(
            {}, [&](grpc::ClientContext* context) { return onboarding_->AsyncVerifyEmail(context, request, &queue_); },
            [this, i, number](const grpc::Status& status, ob::VerifyEmailResponse&) {
                std::lock_guard lock(mutex_);
                if (!status.ok()) {
                    fail(i, "VerifyEmail", status);
                    return;
                }
                stories_[i].at[kVerifyAnswered] = now_ns();
                if (!crm_) {
                    approve(i, number);
                }
            });
    }

    // Direct mode: HQ approves as soon as the email is verified.
    void approve(std::size_t i, const std::string& number) {
        ob::ApproveProspectRequest request;
        request.set_request_number(number);
        request.set_confirmed(true);
        call<ob::ApproveProspectResponse>(
            options_.hq_token,
            [&](grpc::ClientContext* context) { return onboarding_->AsyncApproveProspect(context, request, &queue_); },
            [this, i](const grpc::Status& status, ob::ApproveProspectResponse&) {
                std::lock_guard lock(mutex_);
                if (!status.ok()) {
                    fail(i, "ApproveProspect", status);
                    return;
                }
                stories_[i].at[kDecisionAnswered] = now_ns();
            });
    }

    // CRM mode: the sales user takes the new lead and qualifies it.
    void take_lead(std::size_t i, const std::string& lead_id) {
        sa::AssignLeadRequest request;
        request.set_lead_id(lead_id);
        request.set_owner_user_id(options_.sales_user);
        call<sa::AssignLeadResponse>(
            options_.sales_token,
            [&](grpc::ClientContext* context) { return sales_->AsyncAssignLead(context, request, &queue_); },
            [this, i, lead_id](const grpc::Status& status, sa::AssignLeadResponse&) {
                if (!status.ok()) {
                    std::lock_guard lock(mutex_);
                    fail(i, "AssignLead", status);
                    return;
                }
                qualify(i, lead_id);
            });
    }

    void qualify(std::size_t i, const std::string& lead_id) {
        sa::QualifyLeadRequest request;
        request.set_lead_id(lead_id);
        request.mutable_estimated_value()->set_currency_code("EUR");
        request.mutable_estimated_value()->set_minor_units(5'000'000);
        request.set_estimated_close_date("2026-12-31");
        call<sa::QualifyLeadResponse>(
            options_.sales_token,
            [&](grpc::ClientContext* context) { return sales_->AsyncQualifyLead(context, request, &queue_); },
            [this, i](const grpc::Status& status, sa::QualifyLeadResponse& response) {
                std::lock_guard lock(mutex_);
                if (!status.ok()) {
                    fail(i, "QualifyLead", status);
                    return;
                }
                stories_[i].at[kQualifyAnswered] = now_ns();
                stories_[i].opportunity_id = response.opportunity_id();
                maybe_win(i);
            });
    }

    // Won once the lead is qualified and customers has the account and the contact (as the e2e
    // story waits for them). Caller holds mutex_.
    void maybe_win(std::size_t i) {
        Story& story = stories_[i];
        if (story.win_sent || story.failed || story.at[kQualifyAnswered] == 0 || story.organization_replicated == 0 ||
            story.person_replicated == 0) {
            return;
        }
        story.win_sent = true;
        story.at[kReplicated] = std::max(story.organization_replicated, story.person_replicated);
        sa::WinOpportunityRequest request;
        request.set_opportunity_id(story.opportunity_id);
        call<sa::WinOpportunityResponse>(
            options_.sales_token,
            [&](grpc::ClientContext* context) { return sales_->AsyncWinOpportunity(context, request, &queue_); },
            [this, i](const grpc::Status& status, sa::WinOpportunityResponse&) {
                std::lock_guard lock(mutex_);
                if (!status.ok()) {
                    fail(i, "WinOpportunity", status);
                    return;
                }
                stories_[i].at[kDecisionAnswered] = now_ns();
            });
    }

    // ---- the SMTP server's mailbox: DIR/000001.json, 000002.json, ... in arrival order, each
    // renamed into place complete

    void watch_mailbox() {
        std::size_t next = 1;
        char name[32];
        while (!stopping_.load()) {
            std::snprintf(name, sizeof name, "%06zu.json", next);
            std::ifstream in(std::filesystem::path(options_.smtp_dir) / name);
            if (!in) {
                std::this_thread::sleep_for(2ms);  // polling: the next message is not there yet
                continue;
            }
            ++next;
            nlohmann::json email;
            try {
                email = nlohmann::json::parse(in);
            } catch (const std::exception& error) {
                std::cerr << "story_bench: " << name << ": " << error.what() << "\n";
                continue;
            }
            on_email(email);
        }
    }

    static std::string query_value(const std::string& text, const std::string& key) {
        const auto at = text.find(key);
        if (at == std::string::npos) {
            return {};
        }
        const auto end = text.find_first_of("& \r\n", at + key.size());
        return text.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
    }

    void on_email(const nlohmann::json& email) {
        const auto i = story_of_address(email.value("to", ""));
        if (!i || !email.contains("received_at")) {
            return;
        }
        const auto received = static_cast<Nanos>(std::llround(email["received_at"].get<double>() * 1e9));
        // Told apart by their links (the confirmation is in the company's language, e.g. German).
        const std::string text = email.value("text", "");
        std::lock_guard lock(mutex_);
        Story& story = stories_[*i];
        if (text.find("/verify?request=") != std::string::npos) {
            if (story.verify_sent || story.failed) {
                return;
            }
            story.verify_sent = true;
            story.at[kConfirmReceived] = received;
            verify(*i, query_value(text, "request="), query_value(text, "token="));
        } else if (text.find("/set-password?token=") != std::string::npos && story.at[kWelcomeReceived] == 0) {
            story.at[kWelcomeReceived] = received;
            if (!story.failed) {
                story.done = true;
                progress_.notify_all();
            }
        }
    }

    // ---- the four topics, read from the beginning

    void start_consumer() {
        std::string error;
        std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
        const std::map<std::string, std::string> settings = {{"bootstrap.servers", options_.bootstrap},
                                                             {"group.id", "story-bench-" + tag_},
                                                             {"enable.auto.commit", "false"},
                                                             {"fetch.wait.max.ms", "10"},
                                                             {"enable.partition.eof", "false"}};
        for (const auto& [key, value] : settings) {
            if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
                throw std::runtime_error("kafka " + key + ": " + error);
            }
        }
        consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
        if (!consumer_) {
            throw std::runtime_error("kafka consumer: " + error);
        }
        std::vector<RdKafka::TopicPartition*> partitions;
        for (const char* name : kEventTopics) {
            const std::string topic_name = options_.prefix + name;
            std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(consumer_.get(), topic_name, nullptr, error));
            RdKafka::Metadata* raw = nullptr;
            if (!topic || consumer_->metadata(false, topic.get(), &raw, 10'000) != RdKafka::ERR_NO_ERROR) {
                throw std::runtime_error("kafka: no metadata for " + topic_name);
            }
            const std::unique_ptr<RdKafka::Metadata> metadata(raw);
            for (const auto* described : *metadata->topics()) {
                if (described->topic() != topic_name || described->partitions()->empty()) {
                    throw std::runtime_error("kafka: topic " + topic_name + " does not exist");
                }
                for (const auto* partition : *described->partitions()) {
                    partitions.push_back(
                        RdKafka::TopicPartition::create(topic_name, partition->id(), RdKafka::Topic::OFFSET_BEGINNING));
                }
            }
        }
        const auto assigned = consumer_->assign(partitions);
        RdKafka::TopicPartition::destroy(partitions);
        if (assigned != RdKafka::ERR_NO_ERROR) {
            throw std::runtime_error("kafka assign: " + RdKafka::err2str(assigned));
        }
    }

    void consume() {
        while (!stopping_.load()) {
            const std::unique_ptr<RdKafka::Message> message(consumer_->consume(100));
            if (message->err() == RdKafka::ERR__TIMED_OUT) {
                continue;
            }
            if (message->err() != RdKafka::ERR_NO_ERROR) {
                std::cerr << "story_bench: kafka: " << message->errstr() << "\n";
                continue;
            }
            gatehouse::kernel::v1::EventEnvelope envelope;
            if (!envelope.ParseFromArray(message->payload(), static_cast<int>(message->len()))) {
                continue;
            }
            const auto stamp = message->timestamp();
            on_event(envelope, stamp.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                                   ? 0
                                   : stamp.timestamp * 1'000'000LL);
        }
    }

    // Records `point` of the story whose address is `email`.
    template <class Then = void (*)(std::size_t)>
    void seen(const std::string& email, Point point, Nanos at, Then then = nullptr) {
        const auto i = story_of_address(email);
        if (!i) {
            return;
        }
        std::lock_guard lock(mutex_);
        if (stories_[*i].at[point] == 0) {
            stories_[*i].at[point] = at;
        }
        if constexpr (!std::is_same_v<Then, void (*)(std::size_t)>) {
            then(*i);
        }
    }

    void on_event(const gatehouse::kernel::v1::EventEnvelope& envelope, Nanos on_topic) {
        const std::string& type = envelope.event_type();
        if (type == ob::RequestSubmitted::descriptor()->full_name()) {
            ob::RequestSubmitted event;
            if (event.ParseFromString(envelope.payload())) {
                seen(event.contact().email(), kSubmittedAccepted, to_ns(event.submitted_at()));
                seen(event.contact().email(), kSubmittedOnTopic, on_topic);
            }
        } else if (type == ob::ProspectApproved::descriptor()->full_name()) {
            ob::ProspectApproved event;
            if (event.ParseFromString(envelope.payload())) {
                seen(event.prospect().contact().email(), kApprovedDecided, to_ns(event.approved_at()));
            }
        } else if (type == sa::LeadCreated::descriptor()->full_name()) {
            sa::LeadCreated event;
            if (event.ParseFromString(envelope.payload())) {
                seen(event.contact().email(), kLeadOnTopic, on_topic, [&](std::size_t i) {
                    Story& story = stories_[i];
                    if (crm_ && !story.lead_taken && !story.failed) {
                        story.lead_taken = true;
                        story.lead_id = event.lead_id();
                        take_lead(i, event.lead_id());
                    }
                });
            }
        } else if (type == cu::CustomerCreated::descriptor()->full_name()) {
            cu::CustomerCreated event;
            if (event.ParseFromString(envelope.payload()) && event.source() == cu::CUSTOMER_SOURCE_CRM) {
                const bool organization = event.type() == cu::CUSTOMER_TYPE_ORGANIZATION;
                const auto i =
                    organization ? story_of_company(event.details().name()) : story_of_address(event.details().email());
                if (i) {
                    std::lock_guard lock(mutex_);
                    (organization ? stories_[*i].organization_replicated : stories_[*i].person_replicated) = on_topic;
                    maybe_win(*i);
                }
            }
        } else if (type == cu::InvitationIssued::descriptor()->full_name()) {
            cu::InvitationIssued event;
            if (event.ParseFromString(envelope.payload()) && event.kind() == cu::INVITATION_KIND_ADMIN_ON_APPROVAL) {
                seen(event.email(), kInvitationOnTopic, on_topic);
            }
        } else if (type == nt::NotificationQueued::descriptor()->full_name()) {
            nt::NotificationQueued event;
            if (event.ParseFromString(envelope.payload())) {
                if (event.template_name() == "request_received") {
                    seen(event.recipient(), kConfirmQueued, to_ns(event.queued_at()));
                } else if (event.template_name() == "partner_approved") {
                    seen(event.recipient(), kWelcomeQueued, to_ns(event.queued_at()));
                }
            }
        }
    }

    // ---- the run

    // Waits until stories [first, last) are done or failed, or until `deadline`; prints progress.
    bool settle(std::size_t first, std::size_t last, SystemClock::time_point deadline, const char* phase) {
        std::unique_lock lock(mutex_);
        auto next_report = SystemClock::now() + 10s;
        for (;;) {
            std::size_t done = 0;
            std::size_t failed = 0;
            for (std::size_t i = first; i < last; ++i) {
                done += stories_[i].done ? 1 : 0;
                failed += stories_[i].failed ? 1 : 0;
            }
            if (done + failed == last - first) {
                return true;
            }
            if (SystemClock::now() >= deadline) {
                std::cerr << "story_bench: " << phase << ": " << done << " done, " << failed << " failed, "
                          << (last - first - done - failed) << " unfinished at the deadline\n";
                return false;
            }
            if (SystemClock::now() >= next_report) {
                std::cerr << "story_bench: " << phase << ": " << done << " done, " << failed << " failed of "
                          << (last - first) << "\n";
                next_report += 10s;
            }
            progress_.wait_until(lock, std::min(deadline, next_report));
        }
    }

    int drive() {
        const std::size_t warmup = options_.warmup;
        for (std::size_t i = 0; i < warmup; ++i) {
            submit(i, now_ns());
        }
        if (!settle(0, warmup, SystemClock::now() + 180s, "warm-up")) {
            std::lock_guard lock(mutex_);
            describe_unfinished(0, warmup);
            return 1;
        }
        const std::size_t total = stories_.size();
        const auto started = SystemClock::now() + 100ms;
        Nanos worst_lag = 0;
        for (std::size_t i = warmup; i < total; ++i) {
            const auto planned = started + std::chrono::duration_cast<SystemClock::duration>(
                                               std::chrono::duration<double>((i - warmup) / options_.rate));
            std::this_thread::sleep_until(planned);  // the arrival schedule
            const Nanos planned_ns =
                std::chrono::duration_cast<std::chrono::nanoseconds>(planned.time_since_epoch()).count();
            worst_lag = std::max(worst_lag, now_ns() - planned_ns);
            submit(i, planned_ns);
        }
        const auto arrivals_ended = SystemClock::now();
        const bool settled = settle(warmup, total,
                                    arrivals_ended + std::chrono::duration_cast<SystemClock::duration>(
                                                         std::chrono::duration<double>(options_.drain)),
                                    crm_ ? "crm" : "direct");
        const double last_ms = std::chrono::duration<double, std::milli>(SystemClock::now() - arrivals_ended).count();
        std::lock_guard lock(mutex_);
        if (!settled) {
            describe_unfinished(warmup, total);
        }
        report(warmup, total, worst_lag, last_ms);
        return 0;
    }

    // Where unfinished stories stopped (caller holds mutex_).
    void describe_unfinished(std::size_t first, std::size_t last) {
        std::map<std::size_t, std::size_t> stuck;
        for (std::size_t i = first; i < last; ++i) {
            if (stories_[i].done || stories_[i].failed) {
                continue;
            }
            std::size_t furthest = 0;
            for (std::size_t p = 0; p < kPoints; ++p) {
                if (stories_[i].at[p] != 0) {
                    furthest = p;
                }
            }
            ++stuck[furthest];
        }
        for (const auto& [point, count] : stuck) {
            std::cerr << "story_bench: " << count << " unfinished stories got as far as point " << point << "\n";
        }
        for (const auto& [error, count] : errors_) {
            std::cerr << "story_bench: " << count << "x " << error << "\n";
        }
    }

    // "12.3 ms" below a second, "80.4 s" above.
    static std::string duration_text(double ms) {
        char text[32];
        std::snprintf(text, sizeof text, std::abs(ms) < 1000 ? "%.1f ms" : "%.1f s",
                      std::abs(ms) < 1000 ? ms : ms / 1000);
        return text;
    }

    struct Row {
        std::string hop;
        std::string clock;
        Point from;
        Point to;
    };

    void report(std::size_t first, std::size_t last, Nanos worst_lag, double settle_ms) const {
        std::vector<Row> rows;
        const std::string smtp = "SMTP server";
        rows.push_back({"submit → SubmitRequest answered", "bench → bench", kSubmitPlanned, kSubmitAnswered});
        rows.push_back(
            {"→ confirmation email at the SMTP server", "bench → " + smtp, kSubmitAnswered, kConfirmReceived});
        rows.push_back({"  ↳ RequestSubmitted accepted → on the topic (commit, relay)", "onboarding → Kafka",
                        kSubmittedAccepted, kSubmittedOnTopic});
        rows.push_back(
            {"  ↳ on the topic → email queued (notifier)", "Kafka → notifier", kSubmittedOnTopic, kConfirmQueued});
        rows.push_back(
            {"  ↳ queued → at the SMTP server (dispatch)", "notifier → " + smtp, kConfirmQueued, kConfirmReceived});
        rows.push_back(
            {"→ VerifyEmail answered (token from the email)", smtp + " → bench", kConfirmReceived, kVerifyAnswered});
        if (crm_) {
            rows.push_back(
                {"→ lead created (LeadCreated on the topic)", "bench → Kafka", kVerifyAnswered, kLeadOnTopic});
            rows.push_back({"**submit → lead created**", "bench → Kafka", kSubmitPlanned, kLeadOnTopic});
            rows.push_back({"→ sales user took and qualified it (AssignLead, QualifyLead answered)", "Kafka → bench",
                            kLeadOnTopic, kQualifyAnswered});
            rows.push_back({"→ account and contact replicated to customers (CustomerCreated on the topic)",
                            "bench → Kafka", kQualifyAnswered, kReplicated});
            rows.push_back({"→ WinOpportunity answered", "Kafka → bench", kReplicated, kDecisionAnswered});
            rows.push_back(
                {"→ ProspectApproved (approved_at)", "bench → onboarding", kDecisionAnswered, kApprovedDecided});
            rows.push_back({"→ admin, hierarchy, invitation in customers (InvitationIssued on the topic)",
                            "onboarding → Kafka", kApprovedDecided, kInvitationOnTopic});
        } else {
            rows.push_back({"→ ApproveProspect answered (HQ)", "bench → bench", kVerifyAnswered, kDecisionAnswered});
            rows.push_back({"→ organization, admin, hierarchy, invitation in customers (InvitationIssued on the topic)",
                            "bench → Kafka", kDecisionAnswered, kInvitationOnTopic});
        }
        rows.push_back({"→ welcome email at the SMTP server", "Kafka → " + smtp, kInvitationOnTopic, kWelcomeReceived});
        rows.push_back(
            {"  ↳ on the topic → email queued (notifier)", "Kafka → notifier", kInvitationOnTopic, kWelcomeQueued});
        rows.push_back(
            {"  ↳ queued → at the SMTP server (dispatch)", "notifier → " + smtp, kWelcomeQueued, kWelcomeReceived});
        rows.push_back({"**end to end: submit → welcome email**", "bench → " + smtp, kSubmitPlanned, kWelcomeReceived});

        const std::size_t stories = last - first;
        std::size_t completed = 0;
        std::size_t failed = 0;
        for (std::size_t i = first; i < last; ++i) {
            completed += stories_[i].done ? 1 : 0;
            failed += stories_[i].failed ? 1 : 0;
        }
        std::printf(
            "%s mode: %zu onboardings at %g/s for %g s; completed %zu, failed %zu, unfinished %zu "
            "(the last %.1f s after the last arrival; the bench started submits up to %.1f ms late)\n\n",
            crm_ ? "CRM" : "Direct", stories, options_.rate, options_.duration, completed, failed,
            stories - completed - failed, settle_ms / 1000.0, static_cast<double>(worst_lag) / 1e6);
        std::printf("| hop | clocks (from → to) | n | p50 | p99 | max |\n|---|---|---:|---:|---:|---:|\n");
        double submit_to_lead_p99 = -1;
        double end_to_end_p99 = -1;
        for (const Row& row : rows) {
            std::vector<double> ms;
            for (std::size_t i = first; i < last; ++i) {
                const auto& at = stories_[i].at;
                if (at[row.from] != 0 && at[row.to] != 0) {
                    ms.push_back(static_cast<double>(at[row.to] - at[row.from]) / 1e6);
                }
            }
            const gatehouse::bench::Samples samples(std::move(ms));
            const auto quantile = [&](double q) { return samples.quantile(q); };
            if (samples.empty()) {
                std::printf("| %s | %s | 0 | – | – | – |\n", row.hop.c_str(), row.clock.c_str());
                continue;
            }
            std::printf("| %s | %s | %zu | %s | %s | %s |\n", row.hop.c_str(), row.clock.c_str(), samples.size(),
                        duration_text(quantile(0.50)).c_str(), duration_text(quantile(0.99)).c_str(),
                        duration_text(samples.max()).c_str());
            if (row.from == kSubmitPlanned && row.to == kLeadOnTopic) {
                submit_to_lead_p99 = quantile(0.99);
            }
            if (row.from == kSubmitPlanned && row.to == kWelcomeReceived) {
                end_to_end_p99 = quantile(0.99);
            }
        }
        std::printf(
            "\nsummary mode=%s stories=%zu completed=%zu failed=%zu submit_to_lead_p99_ms=%.1f "
            "end_to_end_p99_ms=%.1f\n",
            options_.mode.c_str(), stories, completed, failed, submit_to_lead_p99, end_to_end_p99);
        for (const auto& [error, count] : errors_) {
            std::printf("error %zux %s\n", count, error.c_str());
        }
        std::fflush(stdout);
    }

    void stop() {
        // Calls still in flight end by their 30 s deadline at the latest.
        const auto deadline = SystemClock::now() + 35s;
        while (in_flight_.load() > 0 && SystemClock::now() < deadline) {
            std::this_thread::sleep_for(10ms);  // polling, bounded by the calls' own deadlines
        }
        stopping_.store(true);
        queue_.Shutdown();
        for (auto& thread : threads_) {
            thread.join();
        }
        consumer_->close();
    }

    Options options_;
    bool crm_;
    std::string tag_;
    std::unique_ptr<ob::OnboardingService::Stub> onboarding_;
    std::unique_ptr<sa::SalesService::Stub> sales_;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
    grpc::CompletionQueue queue_;
    std::atomic<long> in_flight_{0};
    std::atomic<bool> stopping_{false};
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable progress_;
    std::vector<Story> stories_;
    std::map<std::string, std::size_t> errors_;
};

int usage() {
    std::cerr << "usage: story_bench topics --bootstrap HOST:PORT --prefix P\n"
                 "       story_bench run --mode crm|direct --onboarding HOST:PORT [--sales HOST:PORT] --smtp-dir DIR\n"
                 "                       --bootstrap HOST:PORT --prefix P --hq-token T --sales-token T\n"
                 "                       [--sales-user U] [--rate R] [--duration S] [--warmup N] [--drain S]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || (args[0] != "topics" && args[0] != "run")) {
        return usage();
    }
    try {
        Options options;
        const auto text = [](std::string& field) { return [&field](const std::string& v) { field = v; }; };
        const auto number = [](double& field) { return [&field](const std::string& v) { field = std::stod(v); }; };
        gatehouse::bench::OptionReader()
            .value("--mode", text(options.mode))
            .value("--onboarding", text(options.onboarding))
            .value("--sales", text(options.sales))
            .value("--smtp-dir", text(options.smtp_dir))
            .value("--bootstrap", text(options.bootstrap))
            .value("--prefix", text(options.prefix))
            .value("--hq-token", text(options.hq_token))
            .value("--sales-token", text(options.sales_token))
            .value("--sales-user", text(options.sales_user))
            .value("--rate", number(options.rate))
            .value("--duration", number(options.duration))
            .value("--warmup", [&](const std::string& v) { options.warmup = static_cast<unsigned>(std::stoul(v)); })
            .value("--drain", number(options.drain))
            .read(args, 1);
        if (options.bootstrap.empty()) {
            return usage();
        }
        if (args[0] == "topics") {
            return create_topics(options.bootstrap, options.prefix);
        }
        if ((options.mode != "crm" && options.mode != "direct") || options.onboarding.empty() ||
            options.smtp_dir.empty() || options.rate <= 0 || options.duration <= 0 ||
            (options.mode == "crm" && options.sales.empty())) {
            return usage();
        }
        StoryBench bench(options);
        return bench.run();
    } catch (const std::exception& error) {
        std::cerr << "story_bench: " << error.what() << "\n";
        return 1;
    }
}
