#include "chaos_checker.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <array>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/kernel/v1/envelope.pb.h"
#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "gatehouse/testing/wait_until.h"

namespace gatehouse::chaos {
namespace {

namespace ob = gatehouse::onboarding::v1;
namespace cu = gatehouse::customers::v1;
namespace sa = gatehouse::sales::v1;
namespace nv = gatehouse::notifier::v1;
namespace kv = gatehouse::kernel::v1;
using namespace std::chrono_literals;

constexpr std::array<const char*, 4> kEventTopics = {"gatehouse.onboarding.events.v1", "gatehouse.customers.events.v1",
                                                     "gatehouse.sales.events.v1", "gatehouse.notifier.events.v1"};
constexpr std::array<const char*, 4> kServices = {"onboarding", "customers", "sales-bridge", "notifier"};

// Calls until the answer is not a passing failure (at most two minutes: the services are all up
// by now); throws when it never answers.
grpc::Status answered(const std::string& what, const std::function<grpc::Status()>& call) {
    grpc::Status status;
    if (gatehouse::testing::wait_until(
            [&] {
                status = call();
                return !retryable(status);
            },
            120s, 500ms)) {
        return status;
    }
    throw std::runtime_error(what + " did not answer within 120 s: " + status.error_message());
}

std::map<std::string, ob::ProspectSummary> all_prospects(const ServiceChannels& channels) {
    std::map<std::string, ob::ProspectSummary> prospects;
    auto stub = ob::OnboardingService::NewStub(channels.onboarding);
    ob::ListProspectsRequest request;
    request.set_page_size(200);
    std::string token;
    do {
        request.set_page_token(token);
        ob::ListProspectsResponse page;
        const auto status = answered("ListProspects",
                                     [&] { return stub->ListProspects(call_as(kHqToken, 30s).get(), request, &page); });
        if (!status.ok()) {
            throw std::runtime_error("ListProspects: " + status.error_message());
        }
        for (const auto& prospect : page.prospects()) {
            prospects[prospect.request_number()] = prospect;
        }
        token = page.next_page_token();
    } while (!token.empty());
    return prospects;
}

std::vector<cu::Customer> all_customers(const ServiceChannels& channels, cu::CustomerType type) {
    std::vector<cu::Customer> customers;
    auto stub = cu::CustomersService::NewStub(channels.customers);
    cu::ListCustomersRequest request;
    request.set_type(type);
    request.set_page_size(200);
    std::string token;
    do {
        request.set_page_token(token);
        cu::ListCustomersResponse page;
        const auto status = answered("ListCustomers",
                                     [&] { return stub->ListCustomers(call_as(kHqToken, 30s).get(), request, &page); });
        if (!status.ok()) {
            throw std::runtime_error("ListCustomers: " + status.error_message());
        }
        customers.insert(customers.end(), page.customers().begin(), page.customers().end());
        token = page.next_page_token();
    } while (!token.empty());
    return customers;
}

std::vector<sa::LeadSummary> all_leads(const ServiceChannels& channels) {
    std::vector<sa::LeadSummary> leads;
    auto stub = sa::SalesService::NewStub(channels.sales);
    sa::ListLeadsRequest request;
    request.set_view(sa::LEAD_VIEW_ALL_COMMERCE_B2B);
    request.set_page_size(200);
    std::string token;
    do {
        request.set_page_token(token);
        sa::ListLeadsResponse page;
        const auto status = answered(
            "ListLeads", [&] { return stub->ListLeads(call_as(kSalesManagerToken, 30s).get(), request, &page); });
        if (!status.ok()) {
            throw std::runtime_error("ListLeads: " + status.error_message());
        }
        leads.insert(leads.end(), page.leads().begin(), page.leads().end());
        token = page.next_page_token();
    } while (!token.empty());
    return leads;
}

int notifications_with(const ServiceChannels& channels, nv::NotificationStatus status) {
    nv::ListNotificationsRequest request;
    request.set_status(status);
    request.set_page_size(1);
    nv::ListNotificationsResponse response;
    auto stub = nv::NotifierService::NewStub(channels.notifier);
    const auto answer = answered("ListNotifications", [&] {
        return stub->ListNotifications(call_as(kOperatorToken, 30s).get(), request, &response);
    });
    if (!answer.ok()) {
        throw std::runtime_error("ListNotifications: " + answer.error_message());
    }
    return response.total();
}

std::vector<std::shared_ptr<grpc::Channel>> service_channels(const ServiceChannels& channels) {
    return {channels.onboarding, channels.customers, channels.sales, channels.notifier};
}

// Parked records per service (ListParkedRecords on each, as `gatehouse dlq parked` does).
std::map<std::string, std::vector<kv::ParkedRecord>> parked_records(const ServiceChannels& channels) {
    std::map<std::string, std::vector<kv::ParkedRecord>> parked;
    const auto all = service_channels(channels);
    for (std::size_t i = 0; i < all.size(); ++i) {
        auto stub = kv::OperatorService::NewStub(all[i]);
        kv::ListParkedRecordsResponse response;
        const auto status = answered("ListParkedRecords", [&] {
            return stub->ListParkedRecords(call_as(kOperatorToken, 30s).get(), {}, &response);
        });
        if (!status.ok()) {
            throw std::runtime_error(std::string("ListParkedRecords on ") + kServices[i] + ": " +
                                     status.error_message());
        }
        parked[kServices[i]] = {response.parked().begin(), response.parked().end()};
    }
    return parked;
}

struct TopicRecord final {
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string value;
    std::map<std::string, std::string> headers;
};

// Every record of `topic` from offset 0 to the end offsets read at the start: a plain consumer,
// no group, nothing committed.
std::vector<TopicRecord> read_topic(const CheckerInputs& inputs, const std::string& topic) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    auto set = [&](const std::string& name, const std::string& value) {
        if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
            throw std::runtime_error(name + ": " + error);
        }
    };
    set("bootstrap.servers", inputs.bootstrap);
    for (const auto& [name, value] : inputs.kafka_properties) {
        set(name, value);
    }
    std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
    if (!consumer) {
        throw std::runtime_error("consumer: " + error);
    }
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
    RdKafka::Metadata* raw = nullptr;
    if (consumer->metadata(false, handle.get(), &raw, 30000) != RdKafka::ERR_NO_ERROR) {
        throw std::runtime_error("no metadata for " + topic);
    }
    const std::unique_ptr<RdKafka::Metadata> metadata(raw);
    const int partitions = static_cast<int>(metadata->topics()->at(0)->partitions()->size());
    std::map<int, std::int64_t> ends;
    for (int p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (consumer->query_watermark_offsets(topic, p, &low, &high, 30000) != RdKafka::ERR_NO_ERROR) {
            throw std::runtime_error("no end offsets for " + topic);
        }
        if (high > 0) {
            ends[p] = high;
        }
    }
    std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer.get()));
    for (const auto& [partition, end] : ends) {
        consumer->start(handle.get(), partition, RdKafka::Topic::OFFSET_BEGINNING, queue.get());
    }
    std::vector<TopicRecord> records;
    std::map<int, std::int64_t> next;  // per partition: the next offset to expect
    const auto deadline = Clock::now() + 300s;
    auto done = [&] {
        return std::all_of(ends.begin(), ends.end(), [&](const auto& end) { return next[end.first] >= end.second; });
    };
    while (!done()) {
        if (Clock::now() > deadline) {
            throw std::runtime_error("reading " + topic + " did not reach its end within 300 s");
        }
        const std::unique_ptr<RdKafka::Message> message(consumer->consume(queue.get(), 200));
        if (message->err() != RdKafka::ERR_NO_ERROR) {
            continue;
        }
        TopicRecord& record = records.emplace_back();
        record.partition = message->partition();
        record.offset = message->offset();
        record.value.assign(static_cast<const char*>(message->payload()), message->len());
        if (const RdKafka::Headers* headers = message->headers()) {
            for (const auto& header : headers->get_all()) {
                record.headers[header.key()] =
                    header.value() ? std::string(static_cast<const char*>(header.value()), header.value_size()) : "";
            }
        }
        next[record.partition] = record.offset + 1;
    }
    for (const auto& [partition, end] : ends) {
        consumer->stop(handle.get(), partition);
    }
    // Records past the end offsets taken at the start are not read consistently: left out.
    std::erase_if(records, [&](const TopicRecord& record) {
        const auto end = ends.find(record.partition);
        return end == ends.end() || record.offset >= end->second;
    });
    return records;
}

enum class EmailKind { verification, welcome, decline, other };

EmailKind kind_of(const Email& email, const std::string& number) {
    if (email.subject.rfind("Welcome, ", 0) == 0) {
        return EmailKind::welcome;
    }
    if (!number.empty() && email.subject == "Your partner request " + number) {
        return EmailKind::decline;
    }
    if (!number.empty() && email.subject.find(number) != std::string::npos &&
        (email.subject.find("please confirm your email") != std::string::npos ||
         email.subject.find("bitte best") != std::string::npos)) {
        return EmailKind::verification;
    }
    return EmailKind::other;
}

const char* name_of(EmailKind kind) {
    switch (kind) {
        case EmailKind::verification:
            return "confirmation";
        case EmailKind::welcome:
            return "welcome";
        case EmailKind::decline:
            return "decline";
        case EmailKind::other:
            break;
    }
    return "other";
}

std::string status_name(ob::RequestStatus status) {
    switch (status) {
        case ob::REQUEST_STATUS_AWAITING_VERIFICATION:
            return "AwaitingVerification";
        case ob::REQUEST_STATUS_PENDING:
            return "Pending";
        case ob::REQUEST_STATUS_APPROVED:
            return "Approved";
        case ob::REQUEST_STATUS_REJECTED:
            return "Rejected";
        case ob::REQUEST_STATUS_CLOSED:
            return "Closed";
        default:
            return "(none)";
    }
}

// A bounded list of examples for a violation message.
class Examples final {
  public:
    void add(const std::string& example) {
        ++count_;
        if (shown_.size() < 5) {
            shown_.push_back(example);
        }
    }
    [[nodiscard]] int count() const { return count_; }
    [[nodiscard]] std::string text() const {
        std::string text;
        for (const auto& example : shown_) {
            text += (text.empty() ? "" : "; ") + example;
        }
        return count_ > static_cast<int>(shown_.size()) ? text + "; ..." : text;
    }

  private:
    int count_ = 0;
    std::vector<std::string> shown_;
};

void violation_if(CheckReport& report, const Examples& examples, const std::string& what) {
    if (examples.count() > 0) {
        report.violations.push_back(std::to_string(examples.count()) + " " + what + ": " + examples.text());
    }
}

struct EmailTally final {
    int expected = 0;
    int delivered = 0;  // expected emails with exactly one Message-ID
    int resends = 0;    // the same Message-ID received again
    Examples missing;
    Examples doubled;     // two different Message-IDs for one expected email
    Examples unexpected;  // an email nobody expected
    std::map<std::string, int> per_kind;
};

EmailTally tally_emails(const CheckerInputs& inputs) {
    EmailTally tally;
    std::map<std::string, const Onboarding*> by_address;
    for (const auto& onboarding : *inputs.onboardings) {
        by_address[onboarding.email] = &onboarding;
    }
    // (address, kind) -> Message-ID -> receipts
    std::map<std::pair<std::string, EmailKind>, std::map<std::string, int>> received;
    for (const auto& email : read_mailbox(inputs.mailbox_dir)) {
        const auto owner = by_address.find(email.to);
        const std::string number = owner == by_address.end() ? "" : owner->second->number;
        const EmailKind kind = kind_of(email, number);
        ++received[{email.to, kind}][email.message_id];
    }
    for (const auto& [key, ids] : received) {
        for (const auto& [id, receipts] : ids) {
            tally.resends += receipts - 1;
        }
        const auto owner = by_address.find(key.first);
        const bool known = owner != by_address.end() && owner->second->submit_acknowledged;
        const auto expected = known ? owner->second->expected_status() : ob::REQUEST_STATUS_UNSPECIFIED;
        const bool wanted = known && (key.second == EmailKind::verification ||
                                      (key.second == EmailKind::welcome && expected == ob::REQUEST_STATUS_APPROVED) ||
                                      (key.second == EmailKind::decline && expected == ob::REQUEST_STATUS_REJECTED));
        if (!wanted) {
            if (owner == by_address.end() || owner->second->submit_acknowledged) {
                tally.unexpected.add(std::string(name_of(key.second)) + " to " + key.first);
            }
            continue;
        }
        if (ids.size() > 1) {
            tally.doubled.add(std::string(name_of(key.second)) + " to " + key.first + " with " +
                              std::to_string(ids.size()) + " Message-IDs");
        }
    }
    for (const auto& onboarding : *inputs.onboardings) {
        if (!onboarding.submit_acknowledged) {
            continue;
        }
        std::vector<EmailKind> kinds = {EmailKind::verification};
        if (onboarding.expected_status() == ob::REQUEST_STATUS_APPROVED) {
            kinds.push_back(EmailKind::welcome);
        } else if (onboarding.expected_status() == ob::REQUEST_STATUS_REJECTED) {
            kinds.push_back(EmailKind::decline);
        }
        for (const EmailKind kind : kinds) {
            ++tally.expected;
            ++tally.per_kind[name_of(kind)];
            const auto found = received.find({onboarding.email, kind});
            if (found == received.end() || found->second.empty()) {
                tally.missing.add(std::string(name_of(kind)) + " of " + onboarding.number + " to " + onboarding.email);
            } else if (found->second.size() == 1) {
                ++tally.delivered;
            }
        }
    }
    return tally;
}

}  // namespace

std::chrono::milliseconds wait_until_settled(const CheckerInputs& inputs, std::chrono::milliseconds timeout,
                                             const std::function<void()>& tick) {
    const auto started = Clock::now();
    auto next_look = started;
    // Every 100 ms the services are supervised (tick); every 5 s the platform is looked at.
    (void)gatehouse::testing::wait_until(
        [&] {
            tick();
            if (Clock::now() < next_look) {
                return false;
            }
            next_look = Clock::now() + 5s;
            try {
                const auto prospects = all_prospects(inputs.channels);
                bool settled = true;
                for (const auto& onboarding : *inputs.onboardings) {
                    if (!onboarding.submit_acknowledged) {
                        continue;
                    }
                    const auto found = prospects.find(onboarding.number);
                    settled =
                        settled && found != prospects.end() && found->second.status() == onboarding.expected_status();
                }
                const auto emails = tally_emails(inputs);
                settled = settled && emails.missing.count() == 0 &&
                          notifications_with(inputs.channels, nv::NOTIFICATION_STATUS_QUEUED) == 0;
                for (const auto& [service, records] : parked_records(inputs.channels)) {
                    settled = settled && records.empty();
                }
                return settled;
            } catch (const std::exception& error) {
                std::cerr << "chaos: still settling: " << error.what() << "\n";
                return false;
            }
        },
        timeout, 100ms);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
}

CheckReport check(const CheckerInputs& inputs) {
    CheckReport report;
    const auto& onboardings = *inputs.onboardings;

    // 1. Every acknowledged request is in the state the clients were told, exactly once.
    const auto prospects = all_prospects(inputs.channels);
    std::map<ob::RequestStatus, int> by_state;
    Examples wrong_state;
    Examples lost;
    Examples unfinished;
    int acknowledged = 0;
    int crm_mode = 0;
    std::set<std::string> acknowledged_numbers;
    for (const auto& onboarding : onboardings) {
        if (onboarding.stage == Stage::given_up) {
            unfinished.add("#" + std::to_string(onboarding.index) + " " + onboarding.last_answer);
        }
        if (!onboarding.submit_acknowledged) {
            continue;
        }
        ++acknowledged;
        crm_mode += onboarding.crm ? 1 : 0;
        acknowledged_numbers.insert(onboarding.number);
        const auto found = prospects.find(onboarding.number);
        if (found == prospects.end()) {
            lost.add(onboarding.number + " (" + onboarding.email + ")");
            continue;
        }
        ++by_state[found->second.status()];
        if (found->second.status() != onboarding.expected_status() ||
            found->second.contact_email() != onboarding.email) {
            wrong_state.add(onboarding.number + " is " + status_name(found->second.status()) + ", expected " +
                            status_name(onboarding.expected_status()));
        }
    }
    std::map<std::string, int> prospects_per_email;
    for (const auto& [number, prospect] : prospects) {
        ++prospects_per_email[prospect.contact_email()];
    }
    Examples doubled_prospects;
    for (const auto& [email, count] : prospects_per_email) {
        if (count > 1) {
            doubled_prospects.add(email + " has " + std::to_string(count) + " requests");
        }
    }
    violation_if(report, unfinished, "onboardings the clients could not finish");
    violation_if(report, lost, "acknowledged requests missing");
    violation_if(report, wrong_state, "requests not in the state the clients were told");
    violation_if(report, doubled_prospects, "requesters with more than one request (a retried submit made two)");
    std::ostringstream requests;
    requests << "requests: " << onboardings.size() << " onboardings, " << acknowledged << " acknowledged ("
             << acknowledged - crm_mode << " direct mode, " << crm_mode << " crm mode), " << prospects.size()
             << " prospects listed; final states:";
    for (const auto& [state, count] : by_state) {
        requests << " " << status_name(state) << " " << count;
    }
    report.lines.push_back(requests.str());

    // 2. Customers and leads: one organization and one person per approval or CRM qualification,
    //    one lead per verified CRM-mode request.
    int expected_customers = 0;
    int expected_leads = 0;
    for (const auto& onboarding : onboardings) {
        if (!onboarding.submit_acknowledged) {
            continue;
        }
        if (onboarding.crm) {
            expected_leads += onboarding.verify_acknowledged ? 1 : 0;
            expected_customers += onboarding.opportunity_id.empty() ? 0 : 1;
        } else {
            expected_customers += onboarding.expected_status() == ob::REQUEST_STATUS_APPROVED ? 1 : 0;
        }
    }
    const auto organizations = all_customers(inputs.channels, cu::CUSTOMER_TYPE_ORGANIZATION);
    const auto persons = all_customers(inputs.channels, cu::CUSTOMER_TYPE_PERSON);
    const auto leads = all_leads(inputs.channels);
    if (static_cast<int>(organizations.size()) != expected_customers ||
        static_cast<int>(persons.size()) != expected_customers) {
        report.violations.push_back("customers: " + std::to_string(organizations.size()) + " organizations and " +
                                    std::to_string(persons.size()) + " persons, expected " +
                                    std::to_string(expected_customers) + " of each");
    }
    std::map<std::string, int> leads_per_request;
    for (const auto& lead : leads) {
        ++leads_per_request[lead.prospect_request_number()];
    }
    Examples doubled_leads;
    for (const auto& [number, count] : leads_per_request) {
        if (count > 1) {
            doubled_leads.add(number + " has " + std::to_string(count) + " leads");
        }
    }
    violation_if(report, doubled_leads, "requests with more than one lead");
    if (static_cast<int>(leads.size()) != expected_leads) {
        report.violations.push_back("leads: " + std::to_string(leads.size()) + ", expected " +
                                    std::to_string(expected_leads));
    }
    report.lines.push_back("customers: " + std::to_string(organizations.size()) + " organizations, " +
                           std::to_string(persons.size()) + " persons (expected " + std::to_string(expected_customers) +
                           " each); leads: " + std::to_string(leads.size()) + " (expected " +
                           std::to_string(expected_leads) + ")");

    // 3. Emails: each expected one delivered once, by Message-ID.
    const auto emails = tally_emails(inputs);
    violation_if(report, emails.missing, "expected emails never delivered");
    violation_if(report, emails.doubled, "emails delivered under more than one Message-ID");
    violation_if(report, emails.unexpected, "emails nobody expected");
    const int window = inputs.notifier_kills * inputs.notifier_parallelism;
    if (emails.resends > window) {
        report.violations.push_back("the SMTP server received " + std::to_string(emails.resends) +
                                    " messages again (same Message-ID): more than the documented window allows (" +
                                    std::to_string(inputs.notifier_kills) + " notifier kills x " +
                                    std::to_string(inputs.notifier_parallelism) +
                                    " sends in flight = " + std::to_string(window) + ")");
    }
    std::ostringstream mail;
    mail << "emails: " << emails.expected << " expected (";
    for (const auto& [kind, count] : emails.per_kind) {
        mail << (kind == emails.per_kind.begin()->first ? "" : ", ") << count << " " << kind;
    }
    mail << "), " << emails.delivered << " delivered exactly once by Message-ID, " << emails.missing.count()
         << " missing, " << emails.doubled.count() << " under two Message-IDs, " << emails.unexpected.count()
         << " unexpected; " << emails.resends << " resent with the same Message-ID (window allows " << window << ")";
    report.lines.push_back(mail.str());

    // 4. Topics: no event id twice, versions of each aggregate 1, 2, 3, ... in partition order.
    for (const char* name : kEventTopics) {
        const auto records = read_topic(inputs, inputs.topic_prefix + name);
        std::set<std::string> ids;
        Examples duplicates;
        Examples gaps;
        Examples undecodable;
        // aggregate -> (partition, versions in the order read)
        std::map<std::string, std::pair<std::set<std::int32_t>, std::vector<std::uint64_t>>> aggregates;
        for (const auto& record : records) {
            kv::EventEnvelope envelope;
            if (!envelope.ParseFromString(record.value)) {
                undecodable.add(std::to_string(record.partition) + "@" + std::to_string(record.offset));
                continue;
            }
            if (!ids.insert(envelope.event_id()).second) {
                duplicates.add(envelope.event_id() + " (" + envelope.event_type() + ")");
            }
            auto& aggregate = aggregates[envelope.aggregate_type() + "/" + envelope.aggregate_id()];
            aggregate.first.insert(record.partition);
            aggregate.second.push_back(envelope.aggregate_version());
        }
        for (const auto& [aggregate, seen] : aggregates) {
            const auto& versions = seen.second;
            bool contiguous = seen.first.size() == 1;
            for (std::size_t i = 0; contiguous && i < versions.size(); ++i) {
                contiguous = versions[i] == i + 1;
            }
            if (!contiguous) {
                std::string list;
                for (std::size_t i = 0; i < versions.size() && i < 12; ++i) {
                    list += (i == 0 ? "" : ",") + std::to_string(versions[i]);
                }
                gaps.add(aggregate + " versions " + list + (versions.size() > 12 ? ",..." : "") + " in " +
                         std::to_string(seen.first.size()) + " partition(s)");
            }
        }
        const std::string topic = name;
        violation_if(report, undecodable, "undecodable records on " + topic);
        violation_if(report, duplicates, "event ids published twice on " + topic);
        violation_if(report, gaps, "aggregates on " + topic + " whose versions are not 1, 2, 3, ... in order");
        report.lines.push_back("topic " + topic + ": " + std::to_string(records.size()) + " events, " +
                               std::to_string(aggregates.size()) + " aggregates, " +
                               std::to_string(duplicates.count()) + " duplicate ids, " + std::to_string(gaps.count()) +
                               " aggregates out of sequence");
    }

    // 5. Nothing dead-lettered, nothing parked, nothing left queued or dead-lettered in the notifier.
    for (const char* service : kServices) {
        const std::string topic = inputs.topic_prefix + "gatehouse." + service + ".dead-letters.v1";
        const auto records = read_topic(inputs, topic);
        Examples dead;
        for (const auto& record : records) {
            const auto reason = record.headers.find("gatehouse.dlq.reason");
            dead.add(reason == record.headers.end() ? "(no reason)" : reason->second);
        }
        violation_if(report, dead, std::string("dead letters of ") + service);
        report.lines.push_back("dead letters of " + std::string(service) + ": " + std::to_string(records.size()));
    }
    std::string parked_line = "parked records:";
    for (const auto& [service, records] : parked_records(inputs.channels)) {
        Examples parked;
        for (const auto& record : records) {
            parked.add(record.event_type() + " of " + record.aggregate_id() + ": " + record.reason());
        }
        violation_if(report, parked, "records parked in " + service);
        parked_line += " " + service + " " + std::to_string(records.size());
    }
    report.lines.push_back(parked_line);
    const int queued = notifications_with(inputs.channels, nv::NOTIFICATION_STATUS_QUEUED);
    const int dead_lettered = notifications_with(inputs.channels, nv::NOTIFICATION_STATUS_DEAD_LETTERED);
    const int sent = notifications_with(inputs.channels, nv::NOTIFICATION_STATUS_SENT);
    if (queued != 0 || dead_lettered != 0) {
        report.violations.push_back("notifier: " + std::to_string(queued) + " notifications still queued, " +
                                    std::to_string(dead_lettered) + " dead-lettered");
    }
    report.lines.push_back("notifier: " + std::to_string(sent) + " notifications sent, " + std::to_string(queued) +
                           " queued, " + std::to_string(dead_lettered) + " dead-lettered");
    return report;
}

}  // namespace gatehouse::chaos
