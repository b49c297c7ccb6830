#include "app/customers_app.h"

#include <google/protobuf/util/time_util.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <set>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/platform/validation.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::customers {
namespace {

using google::protobuf::util::TimeUtil;

std::string hex(std::string_view bytes) {
    std::string text(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    text.pop_back();
    return text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto end = text.find('\n', start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string::npos) {
            return parts;
        }
        start = end + 1;
    }
}

std::string invitation_key(const std::string& token_hash) { return "invitation/" + hex(token_hash); }
std::string session_key(const std::string& token_hash) { return "session/" + hex(token_hash); }
std::string credential_key(const std::string& user_id, const std::string& credential_id) {
    return "credential/" + user_id + "/" + credential_id;
}
// The outcome ("won" / "lost") of a request's CRM opportunity, for its customers replicated later.
std::string deal_key(const std::string& request_number) { return "deal/" + request_number; }

// Common passwords of 12 characters or more (a small bundled list; compared in lower case).
constexpr std::array kCommonPasswords = {
    "password1234",   "password12345", "password123456", "passwordpassword", "123456789012", "1234567890123",
    "12345678901234", "111111111111",  "000000000000",   "qwertyuiop12",     "qwerty123456", "qwertyuiopasdf",
    "1q2w3e4r5t6y",   "1qaz2wsx3edc",  "iloveyou1234",   "abc123456789",     "abcdefghijkl", "welcome12345",
    "welcome123456",  "letmein12345",  "changeme1234",   "administrator",    "admin1234567", "password123!",
    "p@ssword1234",   "p@ssw0rd1234",  "monkey123456",   "sunshine1234",     "football1234", "baseball1234",
    "princess1234",   "dragon123456",  "trustno11234",   "starwars1234",     "superman1234", "asdfghjkl123",
    "zaq12wsxcde3",   "passw0rd1234",  "summer202412",   "winter202412",     "gatehouse123", "gatehouse1234"};

v1::CustomerDetails organization_details(const onboarding::v1::CompanyDetails& company) {
    v1::CustomerDetails details;
    details.set_name(company.name());
    details.set_phone(company.phone());
    details.set_website(company.website());
    details.set_tax_id(company.tax_id());
    *details.mutable_address() = company.address();
    return details;
}

v1::CustomerDetails person_details(const common::v1::ContactPerson& contact) {
    v1::CustomerDetails details;
    details.set_first_name(contact.first_name());
    details.set_last_name(contact.last_name());
    details.set_name(contact.first_name() + " " + contact.last_name());
    details.set_email(platform::to_lower(contact.email()));
    details.set_phone(contact.phone());
    details.set_job_title(contact.job_title());
    return details;
}

template <class Message>
bool parse(const kernel::InboundEvent& event, Message& message) {
    return message.ParseFromString(event.envelope.payload());
}

}  // namespace

CustomersApp::CustomersApp(CustomerRuntime& customers, kernel::EventStore& store, NumberSequences numbers,
                           CustomersSettings settings)
    : customers_(customers),
      store_(store),
      numbers_(numbers),
      settings_(std::move(settings)),
      sealer_(settings_.notifier_public_key, "notifier.public_key"),
      hashing_(settings_.password_hash_concurrency, settings_.password_hash_queue),
      throttle_(settings_.sign_in_throttle),
      resets_per_email_(settings_.password_reset_per_email_per_hour / 3600.0,
                        settings_.password_reset_per_email_per_hour) {
    // Made once at start-up (one hash, ~80 ms), not on the first unknown email under load.
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str(hash.data(), "not-a-password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        throw std::runtime_error("out of memory hashing the dummy password");
    }
    dummy_hash_ = hash.c_str();
}

// --- lookups ---

std::optional<CustomerState> CustomersApp::customer(const std::string& customer_id) {
    if (customer_id.empty()) {
        return std::nullopt;  // e.g. the organization of a Person that belongs to none
    }
    if (auto found = customers_.find(customer_id)) {
        return found->state;
    }
    return std::nullopt;
}

std::optional<CustomerState> CustomersApp::first_customer(std::string_view index, const kernel::IndexKey& key) {
    const auto hits = customers_.lookup(index, key, 1);
    return hits.empty() ? std::nullopt : customer(hits.front().aggregate_id);
}

std::optional<CustomerState> CustomersApp::organization_by_crm_account(const std::string& crm_account_id) {
    return first_customer(customer_index::kCrmAccount, kernel::IndexKey().text(crm_account_id));
}

std::optional<CustomerState> CustomersApp::customer_by_crm_contact(const std::string& crm_contact_id) {
    return first_customer(customer_index::kCrmContact, kernel::IndexKey().text(crm_contact_id));
}

std::optional<CustomerState> CustomersApp::customer_of_request(const std::string& request_number, v1::CustomerType type,
                                                               bool crm_linked) {
    return first_customer(customer_index::kRequest, request_key(request_number, type, crm_linked));
}

bool CustomersApp::request_onboarded(const std::string& request_number) {
    return !customers_.lookup(customer_index::kOnboarded, kernel::IndexKey().text(request_number), 1).empty();
}

std::optional<CustomerState> CustomersApp::organization_of_hierarchy(const std::string& hierarchy_id) {
    return first_customer(customer_index::kHierarchy, kernel::IndexKey().text(hierarchy_id));
}

std::optional<UserRef> CustomersApp::user(const std::string& user_id) {
    for (const kernel::IndexHit& hit : customers_.lookup(customer_index::kUser, kernel::IndexKey().text(user_id), 1)) {
        if (const auto organization = customer(hit.aggregate_id)) {
            if (const PartnerUserState* found = organization->user(user_id)) {
                return UserRef{hit.aggregate_id, *found};
            }
        }
    }
    return std::nullopt;
}

std::optional<UserRef> CustomersApp::active_user_by_email(const std::string& email) {
    for (const kernel::IndexHit& hit :
         customers_.lookup(customer_index::kUserEmail, kernel::IndexKey().text(platform::to_lower(email)), 1)) {
        if (const auto organization = customer(hit.aggregate_id)) {
            if (const PartnerUserState* found = organization->user(hit.value)) {
                return UserRef{hit.aggregate_id, *found};
            }
        }
    }
    return std::nullopt;
}

std::string CustomersApp::organization_of(const CustomerState& person) {
    if (!person.created.organization_customer_id().empty() || person.created.type() == v1::CUSTOMER_TYPE_ORGANIZATION ||
        person.created.crm_account_id().empty()) {
        return person.created.organization_customer_id();
    }
    const auto hits =
        customers_.lookup(customer_index::kCrmAccount, kernel::IndexKey().text(person.created.crm_account_id()), 1);
    return hits.empty() ? std::string() : hits.front().aggregate_id;
}

std::string CustomersApp::organization_of_person(const CustomerState& person) {
    if (std::string linked = organization_of(person); !linked.empty()) {
        return linked;
    }
    // A Person HQ put into a hierarchy without a link: the organisation where it has a web account.
    const auto hits =
        customers_.lookup(customer_index::kUserCustomer, kernel::IndexKey().text(person.created.customer_id()), 1);
    return hits.empty() ? std::string() : hits.front().aggregate_id;
}

bool CustomersApp::person_email_taken(const std::string& email) {
    return !customers_.lookup(customer_index::kPersonEmail, kernel::IndexKey().text(platform::to_lower(email)), 1)
                .empty();
}

bool CustomersApp::person_email_taken_in(const std::string& email, const std::string& organization_id) {
    // Few Persons share an email (one per organisation at most, through AddPartnerUser): a short scan.
    const auto organization = customer(organization_id);
    return organization && person_in(email, *organization).has_value();
}

bool CustomersApp::belongs_to(const CustomerState& person, const CustomerState& organization) {
    if (!person.exists || person.created.type() != v1::CUSTOMER_TYPE_PERSON) {
        return false;
    }
    return organization_of(person) == organization.created.customer_id() ||
           organization.has_member(person.created.customer_id());
}

std::optional<CustomerState> CustomersApp::person_in(const std::string& email, const CustomerState& organization) {
    constexpr std::size_t kPersonsPerEmail = 64;  // one per organisation at most, in practice
    for (const kernel::IndexHit& hit : customers_.lookup(
             customer_index::kPersonEmail, kernel::IndexKey().text(platform::to_lower(email)), kPersonsPerEmail)) {
        if (auto person = customer(hit.aggregate_id); person && belongs_to(*person, organization)) {
            return person;
        }
    }
    return std::nullopt;
}

CustomerPage CustomersApp::list_customers(const CustomerQuery& query) {
    const std::string segment = list_segment(query.type, query.status);
    const kernel::IndexKey prefix = list_prefix(segment);
    CustomerPage page;
    std::vector<std::string> ids;
    bool more = false;
    if (query.text.empty()) {
        const std::string after =
            query.after_customer_id.empty() ? std::string() : list_cursor_after(segment, query.after_customer_id);
        const kernel::IndexPage found = customers_.page(customer_index::kList, prefix, after, query.page_size);
        for (const kernel::IndexHit& hit : found.hits) {
            ids.push_back(hit.aggregate_id);
        }
        more = !found.next_cursor.empty();
        page.total = customers_.count(segment);
    } else {
        // The one linear path: every entry of the segment is compared (its summary, never the
        // customer), to count the matches; only the page's customers are loaded.
        customers_.visit_index(customer_index::kList, prefix, {}, [&](const kernel::IndexHit& hit) {
            if (hit.value.find(query.text) == std::string::npos) {
                return true;
            }
            ++page.total;
            if (!query.after_customer_id.empty() && hit.aggregate_id <= query.after_customer_id) {
                return true;
            }
            if (ids.size() < query.page_size) {
                ids.push_back(hit.aggregate_id);
            } else {
                more = true;
            }
            return true;
        });
    }
    for (const std::string& id : ids) {
        if (auto state = customer(id)) {
            page.customers.push_back(std::move(*state));
        }
    }
    if (more && !ids.empty()) {
        page.last_customer_id = ids.back();
    }
    return page;
}

std::vector<HierarchyRef> CustomersApp::hierarchies(const std::string& organization_id) {
    std::vector<HierarchyRef> found;
    if (!organization_id.empty()) {
        if (const auto organization = customer(organization_id)) {
            for (const auto& [id, hierarchy] : organization->hierarchies) {
                found.push_back(HierarchyRef{id, organization_id, hierarchy});
            }
        }
        return found;
    }
    // Every hierarchy, in id order: the answer itself is that long (the API has no pages here).
    std::optional<CustomerState> organization;
    customers_.visit_index(customer_index::kHierarchy, {}, {}, [&](const kernel::IndexHit& hit) {
        if (!organization || organization->created.customer_id() != hit.aggregate_id) {
            organization = customer(hit.aggregate_id);
        }
        if (organization) {
            if (const auto it = organization->hierarchies.find(hit.value); it != organization->hierarchies.end()) {
                found.push_back(HierarchyRef{it->first, hit.aggregate_id, it->second});
            }
        }
        return true;
    });
    return found;
}

Result CustomersApp::execute(const std::string& customer_id, const Customer::Command& command,
                             const std::string& actor) {
    return customers_.execute(customer_id, command, {.correlation_id = kernel::new_uuid_v7(), .actor = actor});
}

Result CustomersApp::create_customer(const CreateCustomer& create, const std::string& actor) {
    std::unique_lock lock(person_emails_, std::defer_lock);
    if (create.created.type() == v1::CUSTOMER_TYPE_PERSON) {
        lock.lock();
        if (person_email_taken(create.created.details().email())) {
            return kernel::Rejection{kernel::RejectionCode::already_exists,
                                     "details.email: is the email of an active person customer"};
        }
    }
    return execute(create.created.customer_id(), create, actor);
}

// --- reactions ---

kernel::HandlerVerdict CustomersApp::verdict(const Result& result, const kernel::InboundEvent& event) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        if (rejection->code == kernel::RejectionCode::conflict ||
            rejection->code == kernel::RejectionCode::unavailable) {
            throw kernel::TransientError(rejection->message);
        }
        // Nothing later can make it valid: recorded as processed and logged, not retried.
        kernel::logger("customers")
            ->warn("{} {} ignored: {}", event.envelope.event_type(), event.envelope.event_id(), rejection->message);
        return kernel::HandlerVerdict::ignored();
    }
    return kernel::HandlerVerdict::applied();
}

kernel::HandlerVerdict CustomersApp::on_onboarding_event(const kernel::InboundEvent& event) {
    if (event.envelope.event_type() != onboarding::v1::ProspectApproved::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();
    }
    return onboard(event, event.envelope.payload());
}

kernel::HandlerVerdict CustomersApp::onboard(const kernel::InboundEvent& event, const std::string& payload) {
    onboarding::v1::ProspectApproved approved;
    if (!approved.ParseFromString(payload) || approved.prospect().request_number().empty()) {
        return kernel::HandlerVerdict::poison("undecodable ProspectApproved or no request number");
    }
    const auto& prospect = approved.prospect();
    const std::string& request = prospect.request_number();
    // Consistency with the request, before anything is created (defence in depth: the envelope's
    // producer is checked by the kernel inbox, these are what only customers knows to check).
    const std::string what = "ProspectApproved of " + request + ": ";
    if (event.envelope.aggregate_type() != "prospect" || event.envelope.aggregate_id() != request) {
        return kernel::HandlerVerdict::poison(what + "it is on the stream of " + event.envelope.aggregate_type() + " " +
                                              event.envelope.aggregate_id() + ", not of the request it approves");
    }
    if (prospect.approval_mode() != onboarding::v1::APPROVAL_MODE_CRM &&
        approved.path() == onboarding::v1::DECISION_PATH_CRM) {
        return kernel::HandlerVerdict::poison(what + "a CRM-path decision for a direct-mode request");
    }
    // The address the requester verified in onboarding: the administrator's, in both modes.
    const std::string verified_email = platform::to_lower(prospect.contact().email());
    if (!platform::valid_email(verified_email)) {
        return kernel::HandlerVerdict::poison(what + "the requester's email is not an email address");
    }
    // The approval and the CRM's account / contact of one request (both on their way when HQ decides
    // in crm mode) must not both create its customers: their find-or-create steps take turns.
    const std::lock_guard turn(request_customers_);
    if (request_onboarded(request)) {
        return kernel::HandlerVerdict::ignored();  // this request made a partner already
    }
    const auto now = Clock::now();
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "onboarding",
                                         .inbox_key = event.inbox_key};

    // The customers replicated from the CRM for this request (CRM mode), if any.
    auto crm_organization = customer_of_request(request, v1::CUSTOMER_TYPE_ORGANIZATION, true);
    auto crm_person = customer_of_request(request, v1::CUSTOMER_TYPE_PERSON, true);
    const bool crm_decided = prospect.approval_mode() == onboarding::v1::APPROVAL_MODE_CRM &&
                             approved.path() == onboarding::v1::DECISION_PATH_CRM;
    // Half replicated (HQ decided in crm mode while sales-bridge was qualifying the lead): the other
    // half is on its way; waiting for it keeps one Organization and one Person per request.
    const bool crm_half = prospect.approval_mode() == onboarding::v1::APPROVAL_MODE_CRM &&
                          static_cast<bool>(crm_organization) != static_cast<bool>(crm_person);
    if ((crm_decided || crm_half) && (!crm_organization || !crm_person)) {
        // The CRM account / contact come on the sales topic, in no order with this one: retry later.
        throw kernel::TransientError("the CRM account and contact of " + request + " have not been replicated yet");
    }

    OnboardPartner command;
    command.request_number = request;
    std::string organization_id;
    std::string person_id;
    if (crm_organization && crm_person) {
        organization_id = crm_organization->created.customer_id();
        person_id = crm_person->created.customer_id();
    } else {
        // The admin's Person customer first, under a key of the request: a redelivery after a crash
        // between the two commits finds it and reuses it (and the organization id it names).
        const std::string person_key = "approval-person:" + request;
        if (auto first = customers_.previous_answer(person_key)) {
            person_id = first->aggregate_id;
            organization_id = customer(person_id)->created.organization_customer_id();
        } else {
            organization_id = numbers_.customers.next();
            person_id = numbers_.customers.next();
            CreateCustomer create;
            auto& person = create.created;
            person.set_customer_id(person_id);
            person.set_type(v1::CUSTOMER_TYPE_PERSON);
            *person.mutable_details() = person_details(prospect.contact());
            person.set_source(v1::CUSTOMER_SOURCE_SELF_SERVE);
            person.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
            *person.mutable_changed_at() = kernel::to_timestamp(now);
            person.set_organization_customer_id(organization_id);
            person.set_b2b_admin(true);
            person.set_prospect_request_number(request);
            auto created = customers_.execute(person_id, create,
                                              {.idempotency_key = person_key,
                                               .correlation_id = context.correlation_id,
                                               .causation_id = context.causation_id,
                                               .actor = context.actor});
            if (std::holds_alternative<kernel::Rejection>(created)) {
                return verdict(created, event);
            }
        }
        v1::CustomerCreated organization;
        organization.set_customer_id(organization_id);
        organization.set_type(v1::CUSTOMER_TYPE_ORGANIZATION);
        *organization.mutable_details() = organization_details(prospect.company());
        organization.mutable_details()->set_email(platform::to_lower(prospect.contact().email()));
        organization.set_source(v1::CUSTOMER_SOURCE_SELF_SERVE);
        organization.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
        *organization.mutable_changed_at() = kernel::to_timestamp(now);
        organization.set_prospect_request_number(request);
        command.organization = organization;
    }
    const auto person = customer(person_id);
    if (!person) {
        throw kernel::TransientError("customer " + person_id + " not readable yet");
    }
    command.hierarchy_id = numbers_.hierarchies.next();
    auto& admin = command.admin;
    admin.set_user_id(numbers_.users.next());
    admin.set_customer_id(person_id);
    // The verified address, not the Person's: in CRM mode the Person is the replicated CRM contact,
    // whose email a sales user can edit before winning the opportunity. A different contact email
    // stays on the Person customer (the CRM's record) and gets no account (README, "CRM mode").
    admin.set_email(verified_email);
    admin.set_first_name(person->details.first_name());
    admin.set_last_name(person->details.last_name());
    admin.set_job_title(person->details.job_title());
    admin.set_added_by("onboarding");
    command.invitation = new_invitation(organization_id, admin.user_id(), now + settings_.invitation_ttl);
    return verdict(customers_.execute(organization_id, command, context), event);
}

kernel::HandlerVerdict CustomersApp::on_sales_event(const kernel::InboundEvent& event) {
    const std::string& type = event.envelope.event_type();
    if (type == sales::v1::OpportunityWon::descriptor()->full_name() ||
        type == sales::v1::OpportunityLost::descriptor()->full_name()) {
        return record_deal(event);
    }
    if (type != sales::v1::AccountCreated::descriptor()->full_name() &&
        type != sales::v1::AccountUpdated::descriptor()->full_name() &&
        type != sales::v1::ContactCreated::descriptor()->full_name() &&
        type != sales::v1::ContactUpdated::descriptor()->full_name()) {
        return kernel::HandlerVerdict::ignored();  // leads, opportunities, notes: not ours
    }
    return replicate(event);
}

// One CRM account / contact change, in the shape the customers side keeps it.
namespace {
struct CrmChange {
    bool account = true;
    bool created = false;
    std::string crm_id;
    std::string account_id;
    std::string request_number;
    std::string customer_id;  // a CRM record made from one of our customers (created events only)
    v1::CustomerDetails details;
    std::vector<std::string> fields;
    google::protobuf::Timestamp changed_at;
    common::v1::ChangeOrigin origin = common::v1::CHANGE_ORIGIN_UNSPECIFIED;
};

template <class Account>
CrmChange account_change(const Account& account, bool created) {
    CrmChange change;
    change.account = true;
    change.created = created;
    change.crm_id = account.account_id();
    change.account_id = account.account_id();
    change.request_number = account.prospect_request_number();
    change.details.set_name(account.name());
    *change.details.mutable_address() = account.address();
    change.details.set_phone(account.phone());
    change.details.set_website(account.website());
    change.details.set_tax_id(account.tax_id());
    change.fields.assign(account.changed_fields().begin(), account.changed_fields().end());
    change.changed_at = account.changed_at();
    change.origin = account.origin();
    return change;
}

template <class Contact>
CrmChange contact_change(const Contact& contact, bool created) {
    CrmChange change;
    change.account = false;
    change.created = created;
    change.crm_id = contact.contact_id();
    change.account_id = contact.account_id();
    change.request_number = contact.prospect_request_number();
    change.details.set_first_name(contact.first_name());
    change.details.set_last_name(contact.last_name());
    change.details.set_name(contact.first_name() + " " + contact.last_name());
    change.details.set_email(platform::to_lower(contact.email()));
    change.details.set_phone(contact.phone());
    change.details.set_job_title(contact.job_title());
    change.fields.assign(contact.changed_fields().begin(), contact.changed_fields().end());
    change.changed_at = contact.changed_at();
    change.origin = contact.origin();
    return change;
}
}  // namespace

kernel::HandlerVerdict CustomersApp::replicate(const kernel::InboundEvent& event) {
    const std::string& type = event.envelope.event_type();
    CrmChange change;
    bool ok = false;
    if (type == sales::v1::AccountCreated::descriptor()->full_name()) {
        sales::v1::AccountCreated message;
        ok = parse(event, message);
        change = account_change(message, true);
        change.customer_id = message.customer_id();
    } else if (type == sales::v1::AccountUpdated::descriptor()->full_name()) {
        sales::v1::AccountUpdated message;
        ok = parse(event, message);
        change = account_change(message, false);
    } else if (type == sales::v1::ContactCreated::descriptor()->full_name()) {
        sales::v1::ContactCreated message;
        ok = parse(event, message);
        change = contact_change(message, true);
        change.customer_id = message.customer_id();
    } else {
        sales::v1::ContactUpdated message;
        ok = parse(event, message);
        change = contact_change(message, false);
    }
    if (!ok || change.crm_id.empty()) {
        return kernel::HandlerVerdict::poison("undecodable " + type + " or no account / contact id");
    }
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge",
                                         .inbox_key = event.inbox_key};
    if (change.created && change.origin == common::v1::CHANGE_ORIGIN_REPLICATED && !change.customer_id.empty()) {
        // The CRM record sales-bridge made from one of our customers: its values are ours (no
        // echo), only the link is new.
        return verdict(customers_.execute(change.customer_id,
                                          LinkToCrm{change.account_id, change.account ? "" : change.crm_id}, context),
                       event);
    }
    if (change.origin != common::v1::CHANGE_ORIGIN_LOCAL) {
        return kernel::HandlerVerdict::ignored();  // rule 1: no echo
    }
    const auto wanted_type = change.account ? v1::CUSTOMER_TYPE_ORGANIZATION : v1::CUSTOMER_TYPE_PERSON;
    const std::lock_guard turn(request_customers_);  // see onboard()
    auto linked = change.account ? organization_by_crm_account(change.crm_id) : customer_by_crm_contact(change.crm_id);
    if (!linked && change.created && !change.request_number.empty()) {
        // The CRM record of a partner approved here first (e.g. an HQ override in CRM mode): link
        // the customers that request created instead of creating a second one.
        auto unlinked = customer_of_request(change.request_number, wanted_type, false);
        if (unlinked) {
            auto result = customers_.execute(unlinked->created.customer_id(),
                                             LinkToCrm{change.account_id, change.account ? "" : change.crm_id},
                                             {.correlation_id = context.correlation_id,
                                              .causation_id = context.causation_id,
                                              .actor = context.actor});
            if (std::holds_alternative<kernel::Rejection>(result)) {
                return verdict(result, event);
            }
            linked = customer(unlinked->created.customer_id());
        }
    }
    if (linked) {
        // An update, or a "created" delivered again / for a record we know: apply as an update.
        UpdateCustomer update;
        update.details = change.details;
        update.fields = change.fields;
        if (change.created && update.fields.empty()) {
            for (const std::string& field : replicated_fields()) {
                update.fields.push_back(field);
            }
        }
        update.changed_at = kernel::to_time_point(change.changed_at);
        update.side = Side::sales;
        update.changed_by = "sales-bridge";
        // A contact's names and email reach its web accounts too (seed 003).
        return verdict(update_customer(linked->created.customer_id(), update, context), event);
    }
    if (!change.created) {
        // Account / contact events share their CRM record's partition, so "created" came first; an
        // update of a record we never linked (e.g. one created before replication started) is skipped.
        kernel::logger("customers")->warn("{} for unknown CRM record {} ignored", type, change.crm_id);
        return kernel::HandlerVerdict::ignored();
    }
    // A new CRM record: one customer per CRM id (the key makes a redelivery find the first one).
    const std::string key = std::string(change.account ? "crm-account:" : "crm-contact:") + change.crm_id;
    if (customers_.previous_answer(key)) {
        return kernel::HandlerVerdict::ignored();
    }
    CreateCustomer create;
    auto& created = create.created;
    created.set_customer_id(numbers_.customers.next());
    created.set_type(change.account ? v1::CUSTOMER_TYPE_ORGANIZATION : v1::CUSTOMER_TYPE_PERSON);
    for (const std::string& field : replicated_fields()) {
        if (field_applies(created.type(), field)) {
            copy_field(change.details, *created.mutable_details(), field);
        }
    }
    if (!change.account) {
        created.mutable_details()->set_name(change.details.name());
    }
    created.set_source(v1::CUSTOMER_SOURCE_CRM);
    created.set_origin(common::v1::CHANGE_ORIGIN_REPLICATED);
    *created.mutable_changed_at() = change.changed_at;
    created.set_crm_account_id(change.account_id);
    if (!change.account) {
        created.set_crm_contact_id(change.crm_id);
        if (const auto organization = organization_by_crm_account(change.account_id)) {
            created.set_organization_customer_id(organization->created.customer_id());
        }
    }
    created.set_prospect_request_number(change.request_number);
    if (!change.request_number.empty()) {
        // Made at the lead's qualification (seed 000): not yet a partner's until its opportunity is
        // won (record_deal) — or decided already, when that outcome arrived first.
        const auto deal = store_.read_metadata(deal_key(change.request_number));
        created.set_partner_status(!deal            ? v1::PARTNER_STATUS_PROSPECTIVE
                                   : *deal == "won" ? v1::PARTNER_STATUS_PARTNER
                                                    : v1::PARTNER_STATUS_CLOSED);
    }
    kernel::CommandContext keyed = context;
    keyed.idempotency_key = key;
    return verdict(customers_.execute(created.customer_id(), create, keyed), event);
}

kernel::HandlerVerdict CustomersApp::record_deal(const kernel::InboundEvent& event) {
    const std::string& type = event.envelope.event_type();
    RecordDealOutcome outcome;
    bool ok = false;
    if (type == sales::v1::OpportunityWon::descriptor()->full_name()) {
        sales::v1::OpportunityWon won;
        ok = parse(event, won);
        outcome.won = true;
        outcome.request_number = won.prospect_request_number();
        outcome.opportunity_id = won.opportunity_id();
        outcome.decided_by = won.won_by();
        outcome.decided_at = kernel::to_time_point(won.won_at());
    } else {
        sales::v1::OpportunityLost lost;
        ok = parse(event, lost);
        outcome.request_number = lost.prospect_request_number();
        outcome.opportunity_id = lost.opportunity_id();
        outcome.reason = lost.reason();
        outcome.decided_by = lost.lost_by();
        outcome.decided_at = kernel::to_time_point(lost.lost_at());
    }
    if (!ok) {
        return kernel::HandlerVerdict::poison("undecodable " + type);
    }
    if (outcome.request_number.empty()) {
        return kernel::HandlerVerdict::ignored();  // an opportunity not made from an onboarding request
    }
    // The account and contact were created with the opportunity (qualification) but travel on their
    // own keys, in no order with this event, on this same consumer (waiting here would hold them up):
    // the outcome is kept for the request, and a customer replicated after it is created decided
    // (replicate(), under the same lock).
    const std::lock_guard turn(request_customers_);
    kernel::Commit commit;
    commit.metadata.emplace_back(deal_key(outcome.request_number), outcome.won ? "won" : "lost");
    (void)store_.commit(std::move(commit));
    const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                         .causation_id = event.envelope.event_id(),
                                         .actor = "sales-bridge"};
    // Idempotent (a recorded outcome changes nothing), so a redelivery completes what a crash left;
    // the inbox records the event as processed after the last of them.
    for (const auto customer_type : {v1::CUSTOMER_TYPE_ORGANIZATION, v1::CUSTOMER_TYPE_PERSON}) {
        if (const auto customer = customer_of_request(outcome.request_number, customer_type, true)) {
            const auto result = customers_.execute(customer->created.customer_id(), outcome, context);
            if (std::holds_alternative<kernel::Rejection>(result)) {
                return verdict(result, event);
            }
        }
    }
    return kernel::HandlerVerdict::applied();
}

// --- partner users ---

v1::InvitationIssued CustomersApp::new_invitation(const std::string& organization_id, const std::string& user_id,
                                                  Clock::time_point expires_at) {
    const kernel::IssuedToken token = sealer_.issue();
    v1::InvitationIssued invitation;
    invitation.set_invitation_id(kernel::new_uuid_v7());
    invitation.set_token_sealed_for_notifier(token.sealed_for_notifier);
    *invitation.mutable_expires_at() = kernel::to_timestamp(expires_at);
    // The token's hash stays in this store: it names the link, durably, before the link exists.
    kernel::Commit commit;
    commit.metadata.emplace_back(invitation_key(token.hash),
                                 organization_id + "\n" + user_id + "\n" + invitation.invitation_id());
    (void)store_.commit(std::move(commit));
    return invitation;
}

Result CustomersApp::add_partner_user(const std::string& organization_id, const NewPartnerUser& user,
                                      const std::string& by) {
    std::unique_lock lock(person_emails_);  // until the user's Person customer exists
    const auto organization = customer(organization_id);
    if (!organization) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "organization_customer_id: no such organization"};
    }
    // An existing Person of this organisation gets the web account (seed 001: HQ creates the
    // people; seed 003: existing customers get web accounts), named by id or found by its email;
    // a removed user's Person is found so, and gets a new account (a new user id). A person of
    // another organisation is never used nor refused (that would tell this admin it exists): the
    // email simply becomes a new Person here, with a second account; sign-in tells the accounts
    // apart by their passwords.
    std::optional<CustomerState> person;
    if (!user.customer_id.empty()) {
        person = customer(user.customer_id);
        if (!person || !belongs_to(*person, *organization)) {
            return kernel::Rejection{kernel::RejectionCode::not_found,
                                     "customer_id: no such person in this organization"};
        }
        if (person->blocked || !platform::valid_email(person->details.email())) {
            return kernel::Rejection{kernel::RejectionCode::failed_precondition,
                                     "customer " + user.customer_id + " is blocked or has no valid email"};
        }
    } else {
        person = person_in(user.email, *organization);
    }
    AddPartnerUser add;
    auto& added = add.user;
    added.set_user_id(numbers_.users.next());
    added.set_organization_customer_id(organization_id);
    if (person) {
        // The master data is the Person's: its names and email are the account's (they follow it).
        added.set_customer_id(person->created.customer_id());
        added.set_email(platform::to_lower(person->details.email()));
        added.set_first_name(person->details.first_name());
        added.set_last_name(person->details.last_name());
        added.set_job_title(user.job_title.empty() ? person->details.job_title() : user.job_title);
    } else {
        added.set_customer_id(numbers_.customers.next());
        added.set_email(platform::to_lower(user.email));
        added.set_first_name(user.first_name);
        added.set_last_name(user.last_name);
        added.set_job_title(user.job_title);
    }
    *added.mutable_spending_limit() = user.spending_limit;
    *added.mutable_permissions() = user.permissions;
    added.set_added_by(by);
    const std::string correlation = kernel::new_uuid_v7();
    auto pending = customers_.execute(organization_id, add, {.correlation_id = correlation, .actor = by});
    if (std::holds_alternative<kernel::Rejection>(pending)) {
        return pending;
    }
    if (!person) {
        // Provisioned as a Person customer of the organisation.
        CreateCustomer create;
        auto& created_person = create.created;
        created_person.set_customer_id(added.customer_id());
        created_person.set_type(v1::CUSTOMER_TYPE_PERSON);
        created_person.mutable_details()->set_first_name(user.first_name);
        created_person.mutable_details()->set_last_name(user.last_name);
        created_person.mutable_details()->set_name(user.first_name + " " + user.last_name);
        created_person.mutable_details()->set_email(platform::to_lower(user.email));
        created_person.mutable_details()->set_job_title(user.job_title);
        created_person.set_source(v1::CUSTOMER_SOURCE_HQ);
        created_person.set_origin(common::v1::CHANGE_ORIGIN_LOCAL);
        *created_person.mutable_changed_at() = kernel::to_timestamp(Clock::now());
        created_person.set_organization_customer_id(organization_id);
        // A Person's crm_account_id is its organisation's account: where the CRM puts its contact.
        created_person.set_crm_account_id(organization->created.crm_account_id());
        created_person.set_user_id(added.user_id());
        auto created = customers_.execute(added.customer_id(), create, {.correlation_id = correlation, .actor = by});
        if (std::holds_alternative<kernel::Rejection>(created)) {
            return created;
        }
    }
    lock.unlock();
    if (user.spending_limit.minor_units() > 0) {
        SetLimits limits;
        limits.spending_limit = user.spending_limit;
        limits.by = by;
        (void)customers_.execute(added.customer_id(), limits, {.correlation_id = correlation, .actor = by});
    }
    return customers_.execute(
        organization_id,
        ActivatePartnerUser{added.user_id(),
                            new_invitation(organization_id, added.user_id(), Clock::now() + settings_.invitation_ttl)},
        {.correlation_id = correlation, .actor = by});
}

Result CustomersApp::make_administrator(const std::string& organization_id, const std::string& person_id,
                                        const std::string& by) {
    const auto organization = customer(organization_id);
    if (!organization || organization->created.type() != v1::CUSTOMER_TYPE_ORGANIZATION) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "organization_customer_id: no such organization"};
    }
    const auto person = customer(person_id);
    if (!person || !belongs_to(*person, *organization)) {
        return kernel::Rejection{kernel::RejectionCode::not_found, "customer_id: no such person in this organization"};
    }
    const PartnerUserState* user = organization->user_by_customer(person_id);
    std::string user_id = user != nullptr ? user->user.user_id() : std::string();
    if (user == nullptr) {
        NewPartnerUser account;
        account.customer_id = person_id;
        auto added = add_partner_user(organization_id, account, by);
        if (std::holds_alternative<kernel::Rejection>(added)) {
            return added;
        }
        const auto now_organization = customer(organization_id);
        const PartnerUserState* now_user = now_organization ? now_organization->user_by_customer(person_id) : nullptr;
        if (now_user == nullptr) {
            return kernel::Rejection{kernel::RejectionCode::unavailable, "the web account is not readable yet; retry"};
        }
        user_id = now_user->user.user_id();
    } else if (user->status == UserStatus::pending) {
        // An earlier add stopped before activation (a crash between its commits): finish it.
        auto activated = customers_.execute(
            organization_id,
            ActivatePartnerUser{user_id,
                                new_invitation(organization_id, user_id, Clock::now() + settings_.invitation_ttl)},
            {.correlation_id = kernel::new_uuid_v7(), .actor = by});
        if (std::holds_alternative<kernel::Rejection>(activated)) {
            return activated;
        }
    }
    return customers_.execute(organization_id, ChangeAdministrator{user_id, by},
                              {.correlation_id = kernel::new_uuid_v7(), .actor = by});
}

Result CustomersApp::sync_users(const CustomerState& next, const kernel::CommandContext& context) {
    std::set<std::string> organizations;
    constexpr std::size_t kAccountsPerPerson = 16;  // one per organisation: a Person belongs to one
    for (const kernel::IndexHit& hit : customers_.lookup(
             customer_index::kUserCustomer, kernel::IndexKey().text(next.created.customer_id()), kAccountsPerPerson)) {
        organizations.insert(hit.aggregate_id);
    }
    Result last = kernel::Accepted<v1::CustomerEvent>{};
    for (const std::string& organization_id : organizations) {
        SyncUsersWithPerson sync{next.created.customer_id(), next.details, context.actor};
        kernel::CommandContext sync_context = context;
        sync_context.inbox_key.clear();  // the inbox record goes with the Person's change
        sync_context.idempotency_key.clear();
        last = customers_.execute(organization_id, sync, sync_context);
        if (std::holds_alternative<kernel::Rejection>(last)) {
            return last;
        }
    }
    return last;
}

Result CustomersApp::update_customer(const std::string& customer_id, const UpdateCustomer& update,
                                     const kernel::CommandContext& context) {
    const auto current = customer(customer_id);
    if (current && current->created.type() == v1::CUSTOMER_TYPE_PERSON) {
        // What the change will make of the Person (the decider is pure): its accounts follow first.
        auto decision = Customer::decide(update, *current);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&decision)) {
            return *rejection;
        }
        CustomerState next = *current;
        bool email_changed = false;
        for (const auto& event : std::get<std::vector<v1::CustomerEvent>>(decision)) {
            const auto& fields = event.customer_updated().changed_fields();
            email_changed = email_changed || std::find(fields.begin(), fields.end(), "email") != fields.end();
            next = Customer::evolve(std::move(next), event);
        }
        if (!email_changed || update.side == Side::sales) {
            // Only HQ moves a sign-in email, and only by changing the Person's email. A CRM edit
            // never does: the address that signs in, and that a password reset goes to, is one the
            // person verified or HQ set — a sales user who edits a contact's email must not be able
            // to take the account over with a reset (docs/security.md). Names follow from both sides.
            next.details.set_email(std::string());
        }
        auto synced = sync_users(next, context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&synced)) {
            if (update.side == Side::customers || rejection->code != kernel::RejectionCode::already_exists) {
                return synced;  // HQ is told (e.g. the email is another account's); a conflict is retried
            }
            // A CRM change cannot be refused: the accounts keep their email, the rest follows.
            kernel::logger("customers")
                ->warn("customer {}: {}; its web account keeps its sign-in email", customer_id, rejection->message);
            next.details.set_email(std::string());
            if (auto retried = sync_users(next, context); std::holds_alternative<kernel::Rejection>(retried)) {
                return retried;
            }
        }
    }
    return customers_.execute(customer_id, update, context);
}

void CustomersApp::request_password_reset(const std::string& email) {
    const std::string wanted = platform::to_lower(email);
    // Counted for every email, known or not, so that the limit says nothing either.
    if (!resets_per_email_.allow("reset:" + wanted)) {
        return;
    }
    const std::lock_guard lock(resets_mutex_);
    if (resets_.size() >= kPasswordResetQueue) {
        kernel::logger("customers")->warn("password-reset queue full: a request is dropped");
        return;
    }
    resets_.push_back(wanted);
}

std::size_t CustomersApp::issue_password_resets() {
    std::deque<std::string> due;
    {
        const std::lock_guard lock(resets_mutex_);
        due.swap(resets_);
    }
    constexpr std::size_t kAccountsPerEmail = 4;
    std::size_t issued = 0;
    for (const std::string& email : due) {
        const auto now = Clock::now();
        for (const kernel::IndexHit& hit :
             customers_.lookup(customer_index::kUserEmail, kernel::IndexKey().text(email), kAccountsPerEmail)) {
            const auto organization = customer(hit.aggregate_id);
            const PartnerUserState* user = organization ? organization->user(hit.value) : nullptr;
            if (user == nullptr || user->status != UserStatus::active || organization->blocked) {
                continue;
            }
            auto result = customers_.execute(
                hit.aggregate_id,
                ResetPassword{hit.value,
                              new_invitation(hit.aggregate_id, hit.value, now + settings_.password_reset_ttl)},
                {.correlation_id = kernel::new_uuid_v7(), .actor = "self-service"});
            if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
                kernel::logger("customers")
                    ->warn("password reset of user {} not issued: {}", hit.value, rejection->message);
            } else {
                ++issued;
            }
        }
    }
    return issued;
}

Result CustomersApp::resend_invitation(const std::string& organization_id, const std::string& user_id,
                                       const std::string& by) {
    // A user whose stored hash is gone (a log rebuilt from the topic keeps no credentials) cannot
    // sign in: a new link is what they need, though PasswordSet names a credential.
    bool credential_lost = false;
    if (const auto organization = customer(organization_id)) {
        if (const PartnerUserState* user = organization->user(user_id);
            user != nullptr && !user->credential_id.empty()) {
            credential_lost = !store_.read_metadata(credential_key(user_id, user->credential_id)).has_value();
        }
    }
    return customers_.execute(
        organization_id,
        ChangeInvitation{user_id, new_invitation(organization_id, user_id, Clock::now() + settings_.invitation_ttl), by,
                         credential_lost},
        {.correlation_id = kernel::new_uuid_v7(), .actor = by});
}

std::size_t CustomersApp::expire_invitations(Clock::time_point now) {
    // The organisations with an open invitation whose link expired before `now`, from the
    // time-ordered index: O(log n + due), however many invitations are open. In batches, so that
    // a backlog (e.g. after a long outage) is not held in memory at once.
    constexpr std::size_t kOrganizationsPerBatch = 1'000;
    const kernel::IndexKey until = expiry_key(now);
    std::size_t expired = 0;
    while (true) {
        std::set<std::string> due;
        customers_.visit_index(
            customer_index::kInvitationExpiry, {}, {},
            [&](const kernel::IndexHit& hit) {
                due.insert(hit.aggregate_id);
                return due.size() < kOrganizationsPerBatch;
            },
            &until);
        std::size_t in_batch = 0;
        for (const std::string& id : due) {
            auto result = customers_.execute(id, ExpireInvitations{now}, {.actor = "system"});
            if (const auto* accepted = std::get_if<kernel::Accepted<v1::CustomerEvent>>(&result)) {
                in_batch += accepted->events.size();
            }
        }
        expired += in_batch;
        // A full batch that closed something: there may be more. Otherwise done (what is left
        // failed this time, and is tried again on the next sweep).
        if (due.size() < kOrganizationsPerBatch || in_batch == 0) {
            return expired;
        }
    }
}

// --- passwords and sessions ---

std::optional<std::string> CustomersApp::check_password_policy(const std::string& password, const std::string& email) {
    const auto characters = platform::utf8_length(password);
    if (!characters) {
        return "password: must be valid UTF-8 text";
    }
    if (*characters < kMinPasswordCharacters) {
        return "password: must have at least 12 characters";
    }
    if (*characters > kMaxPasswordCharacters) {
        return "password: must have at most 256 characters";
    }
    const std::string lower = platform::to_lower(password);
    if (lower == platform::to_lower(email) || lower == platform::to_lower(email.substr(0, email.find('@')))) {
        return "password: must not be the email address";
    }
    if (std::find(kCommonPasswords.begin(), kCommonPasswords.end(), lower) != kCommonPasswords.end()) {
        return "password: is one of the most common passwords";
    }
    return std::nullopt;
}

SetPasswordResult CustomersApp::set_password(const std::string& token, const std::string& password) {
    const kernel::Rejection invalid{kernel::RejectionCode::invalid_argument,
                                    "token: the link is invalid or has expired"};
    const auto link = store_.read_metadata(invitation_key(kernel::blake2b_256(token)));
    if (!link) {
        return invalid;
    }
    const auto parts = split_lines(*link);
    if (parts.size() != 3) {
        return invalid;
    }
    const auto organization = customer(parts[0]);
    const PartnerUserState* user = organization ? organization->user(parts[1]) : nullptr;
    if (user == nullptr || user->invitation_id != parts[2]) {
        return invalid;
    }
    if (auto problem = check_password_policy(password, user->user.email())) {
        return kernel::Rejection{kernel::RejectionCode::invalid_argument, *problem};
    }
    std::string hash(crypto_pwhash_STRBYTES, '\0');
    {
        const auto turn = hashing_.enter();
        if (!turn) {
            return HashingBusy{};
        }
        if (crypto_pwhash_str(hash.data(), password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
            return kernel::Rejection{kernel::RejectionCode::unavailable,
                                     "out of memory hashing the password; try again"};
        }
    }
    hash.resize(std::strlen(hash.c_str()));
    // The hash is stored first under a fresh id; only the PasswordSet event that names the id makes it
    // the user's password (a concurrent second use of the link loses in the decider).
    const std::string credential_id = kernel::new_uuid_v7();
    kernel::Commit commit;
    commit.metadata.emplace_back(credential_key(parts[1], credential_id), hash);
    (void)store_.commit(std::move(commit));
    auto result = customers_.execute(parts[0], SetPassword{parts[1], parts[2], credential_id, Clock::now()},
                                     {.correlation_id = kernel::new_uuid_v7(), .actor = parts[1]});
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return *rejection;
    }
    return std::monostate{};
}

SignInResult CustomersApp::sign_in(const std::string& email, const std::string& password, const std::string& client) {
    const std::string wanted = platform::to_lower(email);
    const std::string key = wanted + "\n" + client;
    const auto now = Clock::now();
    // Checked before any hashing: a locked pair costs nothing. Unknown emails lock alike.
    if (auto until = throttle_.locked_until(key, now)) {
        return SignInRefused{until};
    }
    // The Active accounts with this email that have a password: usually one; one per organisation
    // when people of other organisations were added as users (add_partner_user), at most a few.
    constexpr std::size_t kAccountsPerEmail = 4;
    std::vector<std::pair<UserRef, std::string>> accounts;
    for (const kernel::IndexHit& hit :
         customers_.lookup(customer_index::kUserEmail, kernel::IndexKey().text(wanted), kAccountsPerEmail)) {
        const auto organization = customer(hit.aggregate_id);
        const PartnerUserState* user = organization ? organization->user(hit.value) : nullptr;
        if (user == nullptr || user->credential_id.empty()) {
            continue;
        }
        if (auto stored = store_.read_metadata(credential_key(user->user.user_id(), user->credential_id))) {
            accounts.emplace_back(UserRef{hit.aggregate_id, *user}, std::move(*stored));
        }
    }
    std::optional<UserRef> found;
    {
        const auto turn = hashing_.enter();
        if (!turn) {
            return HashingBusy{};
        }
        if (accounts.empty()) {
            // Spend the same time as a real check, so that timing does not tell existing emails apart.
            if (crypto_pwhash_str_verify(dummy_hash_.c_str(), password.data(), password.size()) == 0) {
                kernel::logger("customers")->error("the dummy password hash matched: should never happen");
            }
        }
        for (const auto& [account, hash] : accounts) {
            if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0) {
                found = account;
                break;
            }
        }
    }
    const auto organization = found ? customer(found->organization_id) : std::nullopt;
    if (!organization || organization->blocked) {
        (void)throttle_.failed(key, now);  // the lock shows on the next attempt
        return SignInRefused{};
    }
    throttle_.succeeded(key);
    SignedIn signed_in;
    signed_in.session_token = kernel::random_token(32);
    signed_in.expires_at = Clock::now() + settings_.session_ttl;
    signed_in.user_id = found->user.user.user_id();
    signed_in.organization_id = found->organization_id;
    store_.write_metadata_lazily(
        session_key(kernel::blake2b_256(signed_in.session_token)),
        signed_in.user_id + "\n" + signed_in.organization_id + "\n" +
            std::to_string(TimeUtil::TimestampToNanoseconds(kernel::to_timestamp(signed_in.expires_at))));
    return signed_in;
}

std::optional<PartnerSession> CustomersApp::session(const std::string& token) {
    const std::string token_hash = kernel::blake2b_256(token);
    const auto stored = store_.read_metadata(session_key(token_hash));
    if (!stored) {
        return std::nullopt;
    }
    const auto parts = split_lines(*stored);
    if (parts.size() != 3) {
        return std::nullopt;  // ended
    }
    if (TimeUtil::TimestampToNanoseconds(kernel::to_timestamp(Clock::now())) > std::stoll(parts[2])) {
        return std::nullopt;
    }
    // Revocation is immediate: a removed user, or a blocked organisation, has no session.
    const auto organization = customer(parts[1]);
    const PartnerUserState* user = organization ? organization->user(parts[0]) : nullptr;
    if (user == nullptr || user->status != UserStatus::active || organization->blocked) {
        return std::nullopt;
    }
    return PartnerSession{parts[0], parts[1], user->user.email(), organization->admin_user_id == parts[0], token_hash};
}

void CustomersApp::sign_out(const PartnerSession& session) {
    // Durable before the answer (a commit shares the group's fsync): after a power loss a signed-out
    // session must not come back. (A session's start is written lazily: losing one only means
    // signing in again.)
    kernel::Commit commit;
    commit.metadata.emplace_back(session_key(session.token_hash), "ended");
    (void)store_.commit(std::move(commit));
}

}  // namespace gatehouse::customers
