#include "operator_service.h"

#include <google/protobuf/util/time_util.h>

#include <optional>
#include <stdexcept>

#include "gatehouse/kernel/dead_letters.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"

namespace gatehouse::kernel {
namespace {

constexpr std::chrono::seconds kReadTimeout{10};

class OperatorService final : public v1::OperatorService::Service {
  public:
    OperatorService(const std::string& service_name, const BearerAuthenticator& authenticator, KafkaSettings kafka,
                    std::string dead_letter_topic, std::vector<InboxConsumer*> inboxes)
        : log_(logger(service_name)),
          authenticator_(authenticator),
          kafka_(std::move(kafka)),
          topic_(std::move(dead_letter_topic)),
          inboxes_(std::move(inboxes)) {}

    grpc::Status ListDeadLetters(grpc::ServerContext* context, const v1::ListDeadLettersRequest* /*request*/,
                                 v1::ListDeadLettersResponse* response) override {
        Principal principal;
        if (grpc::Status status = authenticate(*context, principal); !status.ok()) {
            return status;
        }
        std::vector<DeadLetterRecord> records;
        if (grpc::Status status = read(records); !status.ok()) {
            return status;
        }
        response->set_topic(topic_);
        for (const DeadLetterRecord& record : records) {
            describe(record, *response->add_dead_letters());
        }
        return grpc::Status::OK;
    }

    grpc::Status RedriveDeadLetters(grpc::ServerContext* context, const v1::RedriveDeadLettersRequest* request,
                                    v1::RedriveDeadLettersResponse* response) override {
        Principal principal;
        if (grpc::Status status = authenticate(*context, principal); !status.ok()) {
            return status;
        }
        if (request->reason().empty()) {
            return {grpc::StatusCode::INVALID_ARGUMENT, "reason is required: why should the dead letters work now?"};
        }
        if (!request->all() && (request->offset() < 0 || request->partition() < 0)) {
            return {grpc::StatusCode::INVALID_ARGUMENT, "give a dead letter's partition and offset, or all"};
        }
        std::vector<DeadLetterRecord> records;
        if (grpc::Status status = read(records); !status.ok()) {
            return status;
        }
        std::vector<const DeadLetterRecord*> chosen;
        for (const DeadLetterRecord& record : records) {
            if (request->all() || (record.partition == request->partition() && record.offset == request->offset())) {
                chosen.push_back(&record);
            }
        }
        if (chosen.empty() && !request->all()) {
            return {grpc::StatusCode::NOT_FOUND, "no dead letter at " + std::to_string(request->partition()) + ":" +
                                                     std::to_string(request->offset()) + " of " + topic_};
        }
        log_->info("re-drive of {} dead letter(s) from {} by {} ({}): {}", chosen.size(), topic_, principal.user_id,
                   principal.role, request->reason());
        for (const DeadLetterRecord* record : chosen) {
            auto& result = *response->add_results();
            result.set_partition(record->partition);
            result.set_offset(record->offset);
            const InboundRecord origin = record->origin();
            v1::EventEnvelope envelope;
            if (envelope.ParseFromString(record->value)) {
                result.set_event_id(envelope.event_id());
            }
            InboxConsumer* inbox = consumer_of(origin.topic);
            if (inbox == nullptr) {
                result.set_outcome("skipped");
                result.set_detail(origin.topic.empty() ? "no origin topic in the headers"
                                                       : "this service does not consume " + origin.topic);
                response->set_skipped(response->skipped() + 1);
            } else {
                RedeliveryOutcome outcome{};
                try {
                    outcome = inbox->redeliver(origin);
                } catch (const std::exception& error) {
                    log_->error("re-drive of dead letter {}:{} failed: {}", record->partition, record->offset,
                                error.what());
                    return {grpc::StatusCode::UNAVAILABLE, std::string("re-drive stopped: ") + error.what()};
                }
                result.set_outcome(outcome_name(outcome));
                switch (outcome) {
                    case RedeliveryOutcome::applied:
                        response->set_applied(response->applied() + 1);
                        break;
                    case RedeliveryOutcome::ignored:
                        response->set_ignored(response->ignored() + 1);
                        break;
                    case RedeliveryOutcome::duplicate:
                        response->set_duplicates(response->duplicates() + 1);
                        break;
                    case RedeliveryOutcome::dead_lettered:
                        response->set_dead_lettered_again(response->dead_lettered_again() + 1);
                        break;
                    case RedeliveryOutcome::parked:
                        response->set_parked(response->parked() + 1);
                        break;
                }
            }
            log_->info("re-drive by {} ({}): dead letter {}:{} of {} (event {}, from {}/{}@{}): {}", principal.user_id,
                       request->reason(), record->partition, record->offset, topic_,
                       result.event_id().empty() ? "-" : result.event_id(), origin.topic, origin.partition,
                       origin.offset, result.outcome());
        }
        return grpc::Status::OK;
    }

    grpc::Status ListParkedRecords(grpc::ServerContext* context, const v1::ListParkedRecordsRequest* /*request*/,
                                   v1::ListParkedRecordsResponse* response) override {
        Principal principal;
        if (grpc::Status status = authenticate(*context, principal); !status.ok()) {
            return status;
        }
        using google::protobuf::util::TimeUtil;
        for (InboxConsumer* inbox : inboxes_) {
            for (const ParkedRecord& parked : inbox->parked()) {
                auto& out = *response->add_parked();
                out.set_topic(parked.record.topic);
                out.set_partition(parked.record.partition);
                out.set_offset(parked.record.offset);
                out.set_key(parked.record.key);
                out.set_value(parked.record.value);
                for (const auto& [key, value] : parked.record.headers) {
                    auto& header = *out.add_headers();
                    header.set_key(key);
                    header.set_value(value);
                }
                out.set_event_id(parked.event_id);
                out.set_event_type(parked.event_type);
                out.set_aggregate_id(parked.aggregate_id);
                out.set_reason(parked.reason);
                out.set_attempts(parked.attempts);
                *out.mutable_parked_at() = TimeUtil::NanosecondsToTimestamp(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(parked.parked_at.time_since_epoch()).count());
                *out.mutable_last_attempt_at() = TimeUtil::NanosecondsToTimestamp(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(parked.last_attempt_at.time_since_epoch())
                        .count());
            }
        }
        return grpc::Status::OK;
    }

    grpc::Status RetryParkedRecords(grpc::ServerContext* context, const v1::RetryParkedRecordsRequest* request,
                                    v1::RetryParkedRecordsResponse* response) override {
        Principal principal;
        if (grpc::Status status = authenticate(*context, principal); !status.ok()) {
            return status;
        }
        if (request->reason().empty()) {
            return {grpc::StatusCode::INVALID_ARGUMENT, "reason is required: why should the parked records work now?"};
        }
        if (request->aggregate_id().empty() == !request->all()) {
            return {grpc::StatusCode::INVALID_ARGUMENT, "give an aggregate_id, or all (not both)"};
        }
        log_->info("retry of parked records ({}) by {} ({}): {}",
                   request->all() ? "all" : "aggregate " + request->aggregate_id(), principal.user_id, principal.role,
                   request->reason());
        for (InboxConsumer* inbox : inboxes_) {
            try {
                const ParkedRetry retried = inbox->retry_parked(request->all() ? "" : request->aggregate_id());
                response->set_processed(response->processed() + static_cast<std::int32_t>(retried.processed));
                response->set_still_parked(response->still_parked() + static_cast<std::int32_t>(retried.still_parked));
            } catch (const std::exception& error) {
                log_->error("retry of parked records failed: {}", error.what());
                return {grpc::StatusCode::UNAVAILABLE, std::string("retry stopped: ") + error.what()};
            }
        }
        return grpc::Status::OK;
    }

  private:
    grpc::Status authenticate(const grpc::ServerContext& context, Principal& principal) const {
        if (authenticator_.size() == 0) {
            return {grpc::StatusCode::UNAUTHENTICATED,
                    "this service has no auth.tokens (nor auth.tokens_file): no operator can call it"};
        }
        return authenticate_call(context, authenticator_, {"operator"}, principal);
    }

    grpc::Status read(std::vector<DeadLetterRecord>& records) const {
        try {
            records = read_dead_letters(kafka_, topic_, kReadTimeout);
            return grpc::Status::OK;
        } catch (const KernelError& error) {
            return {grpc::StatusCode::UNAVAILABLE, error.what()};
        }
    }

    InboxConsumer* consumer_of(const std::string& topic) const {
        for (InboxConsumer* inbox : inboxes_) {
            for (const std::string& consumed : inbox->topics()) {
                if (!topic.empty() && consumed == topic) {
                    return inbox;
                }
            }
        }
        return nullptr;
    }

    static void describe(const DeadLetterRecord& record, v1::DeadLetter& out) {
        out.set_partition(record.partition);
        out.set_offset(record.offset);
        out.set_key(record.key);
        out.set_reason(record.header(headers::kDeadLetterReason));
        out.set_origin_topic(record.header(headers::kDeadLetterTopic));
        out.set_consumer(record.header(headers::kDeadLetterConsumer));
        try {
            out.set_origin_partition(std::stoi(record.header(headers::kDeadLetterPartition)));
            out.set_origin_offset(std::stoll(record.header(headers::kDeadLetterOffset)));
        } catch (const std::exception&) {
            out.set_origin_offset(-1);
        }
        (void)google::protobuf::util::TimeUtil::FromString(record.header(headers::kDeadLetterTime),
                                                           out.mutable_dead_lettered_at());
        v1::EventEnvelope envelope;
        if (envelope.ParseFromString(record.value)) {
            out.set_event_type(envelope.event_type());
            out.set_event_id(envelope.event_id());
            out.set_aggregate_id(envelope.aggregate_id());
        }
    }

    std::shared_ptr<spdlog::logger> log_;
    const BearerAuthenticator& authenticator_;
    KafkaSettings kafka_;
    std::string topic_;
    std::vector<InboxConsumer*> inboxes_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_operator_service(const std::string& service_name,
                                                     const BearerAuthenticator& authenticator, KafkaSettings kafka,
                                                     std::string dead_letter_topic,
                                                     std::vector<InboxConsumer*> inboxes) {
    return std::make_unique<OperatorService>(service_name, authenticator, std::move(kafka),
                                             std::move(dead_letter_topic), std::move(inboxes));
}

}  // namespace gatehouse::kernel
