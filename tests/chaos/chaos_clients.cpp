#include "chaos_clients.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gatehouse/sales/v1/sales_service.grpc.pb.h"

namespace gatehouse::chaos {
namespace {

namespace ob = gatehouse::onboarding::v1;
namespace sa = gatehouse::sales::v1;
using namespace std::chrono_literals;

// How often a stage that waits for something to appear (an email, a lead) looks again.
constexpr auto kPollInterval = 1s;
constexpr auto kMailboxInterval = 250ms;

ob::SubmitRequestRequest request_of(const Onboarding& onboarding) {
    ob::SubmitRequestRequest request;
    auto& company = *request.mutable_company();
    company.set_name(onboarding.company);
    company.mutable_address()->set_street("Hauptstrasse " + std::to_string(onboarding.index % 200 + 1));
    company.mutable_address()->set_city("Berlin");
    company.mutable_address()->set_postal_code("10115");
    company.mutable_address()->set_country_code("DE");
    company.set_phone("+49 30 1234567");
    auto& contact = *request.mutable_contact();
    contact.set_first_name("Chaos");
    contact.set_last_name("Tester");
    contact.set_email(onboarding.email);
    contact.set_phone("+49 30 7654321");
    contact.set_job_title("Purchasing manager");
    request.set_idempotency_key(onboarding.idempotency_key);
    return request;
}

std::string describe(const grpc::Status& status) {
    return std::to_string(status.error_code()) + " " + status.error_message();
}

}  // namespace

std::unique_ptr<grpc::ClientContext> call_as(const std::string& token, std::chrono::milliseconds deadline) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + deadline);
    if (!token.empty()) {
        context->AddMetadata("authorization", "Bearer " + token);
    }
    return context;
}

bool retryable(const grpc::Status& status) {
    switch (status.error_code()) {
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::DEADLINE_EXCEEDED:
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
        case grpc::StatusCode::ABORTED:
        case grpc::StatusCode::UNKNOWN:    // the connection broke mid-call, or the handler threw
        case grpc::StatusCode::CANCELLED:  // the server is shutting down
            return true;
        default:
            return false;
    }
}

std::string link_token(const std::string& text) {
    const auto at = text.find("token=");
    if (at == std::string::npos) {
        return {};
    }
    const auto end = text.find_first_of(" \r\n\"<>", at);
    return text.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

namespace {

std::optional<Email> read_email(const std::filesystem::path& file) {
    std::ifstream in(file);
    const auto json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_discarded()) {
        return std::nullopt;
    }
    Email email;
    email.file = file.filename().string();
    email.to = json.value("to", "");
    email.subject = json.value("subject", "");
    email.message_id = json.value("message_id", "");
    email.text = json.value("text", "");
    return email;
}

}  // namespace

std::vector<Email> read_mailbox(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() == ".json") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<Email> emails;
    for (const auto& file : files) {
        if (auto email = read_email(file)) {
            emails.push_back(std::move(*email));
        }
    }
    return emails;
}

void Mailbox::refresh() {
    std::vector<std::filesystem::path> fresh;
    {
        const std::lock_guard lock(mutex_);
        for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
            if (entry.path().extension() == ".json" && !read_.contains(entry.path().filename().string())) {
                fresh.push_back(entry.path());
            }
        }
    }
    for (const auto& file : fresh) {
        auto email = read_email(file);  // files appear whole (written, then renamed)
        if (!email) {
            continue;
        }
        const std::lock_guard lock(mutex_);
        read_.insert(email->file);
        by_recipient_[email->to].push_back(std::move(*email));
    }
}

std::vector<Email> Mailbox::to(const std::string& address) const {
    const std::lock_guard lock(mutex_);
    const auto found = by_recipient_.find(address);
    return found == by_recipient_.end() ? std::vector<Email>{} : found->second;
}

std::string to_string(Stage stage) {
    switch (stage) {
        case Stage::submit:
            return "submit";
        case Stage::learn_mode:
            return "learn-mode";
        case Stage::await_email:
            return "await-verification-email";
        case Stage::verify:
            return "verify";
        case Stage::decide_direct:
            return "hq-decision";
        case Stage::await_lead:
            return "await-lead";
        case Stage::assign:
            return "assign-lead";
        case Stage::qualify:
            return "qualify-lead";
        case Stage::close_opportunity:
            return "close-opportunity";
        case Stage::disqualify:
            return "disqualify-lead";
        case Stage::done:
            return "done";
        case Stage::given_up:
            return "given-up";
    }
    return "?";
}

ob::RequestStatus Onboarding::expected_status() const {
    if (decision_acknowledged) {
        return plan == Plan::approve ? ob::REQUEST_STATUS_APPROVED : ob::REQUEST_STATUS_REJECTED;
    }
    if (verify_acknowledged) {
        return ob::REQUEST_STATUS_PENDING;
    }
    return submit_acknowledged ? ob::REQUEST_STATUS_AWAITING_VERIFICATION : ob::REQUEST_STATUS_UNSPECIFIED;
}

// ------------------------------------------------------------------------------------------ driver

Driver::Driver(DriverSettings settings, ServiceChannels channels, std::filesystem::path mailbox_dir)
    : settings_(settings), channels_(std::move(channels)), mailbox_(std::move(mailbox_dir)) {
    std::mt19937_64 random(settings_.seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto start = Clock::now();
    onboardings_.resize(static_cast<std::size_t>(settings_.onboardings));
    for (int i = 0; i < settings_.onboardings; ++i) {
        auto& onboarding = onboardings_[static_cast<std::size_t>(i)];
        onboarding.index = i;
        onboarding.email = "buyer" + std::to_string(i) + "@chaos-firm" + std::to_string(i) + ".example";
        onboarding.company = "Chaos Firm " + std::to_string(i) + " GmbH";
        onboarding.idempotency_key = "chaos-" + std::to_string(settings_.seed) + "-" + std::to_string(i);
        onboarding.submit_at =
            start + std::chrono::duration_cast<Clock::duration>(settings_.submit_window * unit(random));
        onboarding.plan = unit(random) < settings_.reject_share ? Plan::reject : Plan::approve;
        onboarding.crm_disqualify = unit(random) < 0.5;
        onboarding.stage_since = onboarding.submit_at;
    }
}

Driver::~Driver() { stop(); }

void Driver::start() {
    {
        const std::lock_guard lock(queue_mutex_);
        for (const auto& onboarding : onboardings_) {
            due_.emplace(onboarding.submit_at, onboarding.index);
        }
    }
    for (int i = 0; i < settings_.workers; ++i) {
        workers_.emplace_back([this] { work(); });
    }
    mailbox_reader_ = std::thread([this] {
        std::unique_lock lock(queue_mutex_);
        while (!stopping_) {
            lock.unlock();
            mailbox_.refresh();
            lock.lock();
            queue_changed_.wait_for(lock, kMailboxInterval, [&] { return stopping_; });
        }
    });
}

void Driver::stop() {
    {
        const std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_changed_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
    workers_.clear();
    if (mailbox_reader_.joinable()) {
        mailbox_reader_.join();
    }
}

void Driver::work() {
    std::unique_lock lock(queue_mutex_);
    while (!stopping_) {
        if (due_.empty()) {
            queue_changed_.wait(lock);
            continue;
        }
        const auto first = due_.begin();
        if (first->first > Clock::now()) {
            queue_changed_.wait_until(lock, first->first);
            continue;
        }
        const int index = first->second;
        due_.erase(first);
        lock.unlock();
        auto& onboarding = onboardings_[static_cast<std::size_t>(index)];
        const Next next = step(onboarding);
        lock.lock();
        if (next) {
            due_.emplace(*next, index);
            queue_changed_.notify_one();
        } else {
            ++finished_;
        }
    }
}

std::map<std::string, std::map<int, int>> Driver::answers() const {
    const std::lock_guard lock(answers_mutex_);
    return answers_;
}

void Driver::count(const std::string& rpc, const grpc::Status& status) {
    const std::lock_guard lock(answers_mutex_);
    ++answers_[rpc][status.error_code()];
}

Driver::Next Driver::advance(Onboarding& onboarding, Stage stage) {
    onboarding.stage = stage;
    onboarding.attempts = 0;
    onboarding.stage_since = Clock::now();
    onboarding.last_answer.clear();
    if (stage == Stage::done) {
        onboarding.finished_at = Clock::now();
        return std::nullopt;
    }
    return Clock::now();
}

Driver::Next Driver::give_up(Onboarding& onboarding, const std::string& why) {
    onboarding.last_answer = to_string(onboarding.stage) + ": " + why;
    onboarding.stage = Stage::given_up;
    onboarding.finished_at = Clock::now();
    ++given_up_;
    return std::nullopt;
}

Driver::Next Driver::retry_later(Onboarding& onboarding, const std::string& rpc, const grpc::Status& status) {
    onboarding.last_answer = rpc + ": " + describe(status);
    if (!retryable(status)) {
        return give_up(onboarding, rpc + " answered " + describe(status));
    }
    ++onboarding.attempts;
    // Capped exponential backoff with jitter, as a client library would.
    const auto backoff = std::min<std::int64_t>(5000, 200LL << std::min(onboarding.attempts, 5));
    const auto jitter = static_cast<std::int64_t>(onboarding.index * 7919 % 100) * backoff / 200;
    return Clock::now() + std::chrono::milliseconds(backoff / 2 + jitter);
}

Driver::Next Driver::step(Onboarding& onboarding) {
    if (Clock::now() - onboarding.stage_since > settings_.stall_timeout) {
        return give_up(
            onboarding,
            "no progress for " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - onboarding.stage_since).count()) +
                " s (last answer: " + onboarding.last_answer + ")");
    }
    switch (onboarding.stage) {
        case Stage::submit:
            return submit(onboarding);
        case Stage::learn_mode:
            return learn_mode(onboarding);
        case Stage::await_email:
            return await_email(onboarding);
        case Stage::verify:
            return verify(onboarding);
        case Stage::decide_direct:
            return decide_direct(onboarding);
        case Stage::await_lead:
            return await_lead(onboarding);
        case Stage::assign:
            return assign(onboarding);
        case Stage::qualify:
            return qualify(onboarding);
        case Stage::close_opportunity:
            return close_opportunity(onboarding);
        case Stage::disqualify:
            return disqualify(onboarding);
        case Stage::done:
        case Stage::given_up:
            break;
    }
    return std::nullopt;
}

Driver::Next Driver::submit(Onboarding& onboarding) {
    ob::SubmitRequestResponse response;
    const auto status = ob::OnboardingService::NewStub(channels_.onboarding)
                            ->SubmitRequest(call_as().get(), request_of(onboarding), &response);
    count("SubmitRequest", status);
    if (!status.ok()) {
        return retry_later(onboarding, "SubmitRequest", status);
    }
    onboarding.number = response.request_number();
    onboarding.submit_acknowledged = true;
    ++submitted_;
    return advance(onboarding, Stage::learn_mode);
}

Driver::Next Driver::learn_mode(Onboarding& onboarding) {
    ob::GetProspectRequest request;
    request.set_request_number(onboarding.number);
    ob::GetProspectResponse response;
    const auto status =
        ob::OnboardingService::NewStub(channels_.onboarding)->GetProspect(call_as(kHqToken).get(), request, &response);
    count("GetProspect", status);
    if (!status.ok()) {
        return retry_later(onboarding, "GetProspect", status);
    }
    onboarding.crm = response.request().approval_mode() == ob::APPROVAL_MODE_CRM;
    return advance(onboarding, Stage::await_email);
}

Driver::Next Driver::await_email(Onboarding& onboarding) {
    for (const auto& email : mailbox_.to(onboarding.email)) {
        if (email.subject.find(onboarding.number) != std::string::npos) {
            if (auto token = link_token(email.text); !token.empty()) {
                onboarding.token = std::move(token);
                return advance(onboarding, Stage::verify);
            }
        }
    }
    onboarding.last_answer = "no confirmation email yet";
    return Clock::now() + kPollInterval;
}

Driver::Next Driver::verify(Onboarding& onboarding) {
    ob::VerifyEmailRequest request;
    request.set_request_number(onboarding.number);
    request.set_token(onboarding.token);
    ob::VerifyEmailResponse response;
    const auto status =
        ob::OnboardingService::NewStub(channels_.onboarding)->VerifyEmail(call_as().get(), request, &response);
    count("VerifyEmail", status);
    if (!status.ok()) {
        return retry_later(onboarding, "VerifyEmail", status);
    }
    onboarding.verify_acknowledged = true;
    ++verified_;
    return advance(onboarding, onboarding.crm ? Stage::await_lead : Stage::decide_direct);
}

Driver::Next Driver::decide_direct(Onboarding& onboarding) {
    auto stub = ob::OnboardingService::NewStub(channels_.onboarding);
    grpc::Status status;
    if (onboarding.plan == Plan::approve) {
        ob::ApproveProspectRequest request;
        request.set_request_number(onboarding.number);
        request.set_confirmed(true);
        ob::ApproveProspectResponse response;
        status = stub->ApproveProspect(call_as(kHqToken).get(), request, &response);
        count("ApproveProspect", status);
    } else {
        ob::RejectProspectRequest request;
        request.set_request_number(onboarding.number);
        request.set_reason("chaos run: not a fit (" + std::to_string(onboarding.index) + ")");
        ob::RejectProspectResponse response;
        status = stub->RejectProspect(call_as(kHqToken).get(), request, &response);
        count("RejectProspect", status);
    }
    if (!status.ok()) {
        return retry_later(onboarding, onboarding.plan == Plan::approve ? "ApproveProspect" : "RejectProspect", status);
    }
    onboarding.decision_acknowledged = true;
    ++decided_;
    return advance(onboarding, Stage::done);
}

Driver::Next Driver::await_lead(Onboarding& onboarding) {
    sa::ListLeadsRequest request;
    request.set_view(sa::LEAD_VIEW_ALL_COMMERCE_B2B);
    request.set_text(onboarding.email);
    sa::ListLeadsResponse response;
    const auto status =
        sa::SalesService::NewStub(channels_.sales)->ListLeads(call_as(kSalesManagerToken).get(), request, &response);
    count("ListLeads", status);
    if (!status.ok()) {
        return retry_later(onboarding, "ListLeads", status);
    }
    for (const auto& lead : response.leads()) {
        if (lead.prospect_request_number() == onboarding.number) {
            onboarding.lead_id = lead.lead_id();
            return advance(onboarding, Stage::assign);
        }
    }
    onboarding.last_answer = "no lead yet";
    return Clock::now() + 2 * kPollInterval;
}

Driver::Next Driver::assign(Onboarding& onboarding) {
    auto stub = sa::SalesService::NewStub(channels_.sales);
    sa::AssignLeadRequest request;
    request.set_lead_id(onboarding.lead_id);
    request.set_owner_user_id(kSalesUser);
    sa::AssignLeadResponse response;
    auto status = stub->AssignLead(call_as(kSalesManagerToken).get(), request, &response);
    count("AssignLead", status);
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        // Assigned by an attempt whose answer was lost? The lead says who owns it.
        sa::GetLeadRequest get;
        get.set_lead_id(onboarding.lead_id);
        sa::GetLeadResponse lead;
        const auto read = stub->GetLead(call_as(kSalesManagerToken).get(), get, &lead);
        count("GetLead", read);
        if (read.ok() && lead.summary().owner_user_id() == kSalesUser) {
            status = grpc::Status::OK;
        }
    }
    if (!status.ok()) {
        return retry_later(onboarding, "AssignLead", status);
    }
    const bool qualify = onboarding.plan == Plan::approve || !onboarding.crm_disqualify;
    return advance(onboarding, qualify ? Stage::qualify : Stage::disqualify);
}

Driver::Next Driver::qualify(Onboarding& onboarding) {
    auto stub = sa::SalesService::NewStub(channels_.sales);
    sa::QualifyLeadRequest request;
    request.set_lead_id(onboarding.lead_id);
    request.mutable_estimated_value()->set_currency_code("EUR");
    request.mutable_estimated_value()->set_minor_units(100000 + onboarding.index);
    request.set_estimated_close_date("2027-06-30");
    sa::QualifyLeadResponse response;
    auto status = stub->QualifyLead(call_as(kSalesToken).get(), request, &response);
    count("QualifyLead", status);
    std::string opportunity = response.opportunity_id();
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        // Qualified by an attempt whose answer was lost: the lead names its opportunity.
        sa::GetLeadRequest get;
        get.set_lead_id(onboarding.lead_id);
        sa::GetLeadResponse lead;
        const auto read = stub->GetLead(call_as(kSalesToken).get(), get, &lead);
        count("GetLead", read);
        if (read.ok() && lead.summary().status() == sa::LEAD_STATUS_QUALIFIED) {
            if (lead.summary().opportunity_id().empty()) {
                onboarding.last_answer = "lead qualified, its opportunity not there yet";
                return Clock::now() + kPollInterval;
            }
            opportunity = lead.summary().opportunity_id();
            status = grpc::Status::OK;
        }
    }
    if (!status.ok()) {
        return retry_later(onboarding, "QualifyLead", status);
    }
    onboarding.opportunity_id = opportunity;
    return advance(onboarding, Stage::close_opportunity);
}

Driver::Next Driver::close_opportunity(Onboarding& onboarding) {
    auto stub = sa::SalesService::NewStub(channels_.sales);
    const bool win = onboarding.plan == Plan::approve;
    grpc::Status status;
    if (win) {
        sa::WinOpportunityRequest request;
        request.set_opportunity_id(onboarding.opportunity_id);
        sa::WinOpportunityResponse response;
        status = stub->WinOpportunity(call_as(kSalesToken).get(), request, &response);
        count("WinOpportunity", status);
    } else {
        sa::LoseOpportunityRequest request;
        request.set_opportunity_id(onboarding.opportunity_id);
        request.set_reason("chaos run: chose a competitor (" + std::to_string(onboarding.index) + ")");
        sa::LoseOpportunityResponse response;
        status = stub->LoseOpportunity(call_as(kSalesToken).get(), request, &response);
        count("LoseOpportunity", status);
    }
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        sa::GetOpportunityRequest get;
        get.set_opportunity_id(onboarding.opportunity_id);
        sa::GetOpportunityResponse opportunity;
        const auto read = stub->GetOpportunity(call_as(kSalesToken).get(), get, &opportunity);
        count("GetOpportunity", read);
        if (read.ok() &&
            opportunity.summary().status() == (win ? sa::OPPORTUNITY_STATUS_WON : sa::OPPORTUNITY_STATUS_LOST)) {
            status = grpc::Status::OK;  // closed by an attempt whose answer was lost
        }
    }
    if (!status.ok()) {
        return retry_later(onboarding, win ? "WinOpportunity" : "LoseOpportunity", status);
    }
    onboarding.decision_acknowledged = true;
    ++decided_;
    return advance(onboarding, Stage::done);
}

Driver::Next Driver::disqualify(Onboarding& onboarding) {
    auto stub = sa::SalesService::NewStub(channels_.sales);
    sa::DisqualifyLeadRequest request;
    request.set_lead_id(onboarding.lead_id);
    request.set_reason("chaos run: not a reseller (" + std::to_string(onboarding.index) + ")");
    sa::DisqualifyLeadResponse response;
    auto status = stub->DisqualifyLead(call_as(kSalesToken).get(), request, &response);
    count("DisqualifyLead", status);
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        sa::GetLeadRequest get;
        get.set_lead_id(onboarding.lead_id);
        sa::GetLeadResponse lead;
        const auto read = stub->GetLead(call_as(kSalesToken).get(), get, &lead);
        count("GetLead", read);
        if (read.ok() && lead.summary().status() == sa::LEAD_STATUS_DISQUALIFIED) {
            status = grpc::Status::OK;
        }
    }
    if (!status.ok()) {
        return retry_later(onboarding, "DisqualifyLead", status);
    }
    onboarding.decision_acknowledged = true;
    ++decided_;
    return advance(onboarding, Stage::done);
}

}  // namespace gatehouse::chaos
