#include "api/customers_api.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "gatehouse/kernel/grpc_auth.h"
#include "gatehouse/kernel/grpc_status.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"
#include "gatehouse/kernel/proto_codec.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/platform/paging.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::customers {
namespace {

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }
grpc::Status denied(const std::string& message) { return {grpc::StatusCode::PERMISSION_DENIED, message}; }
grpc::Status no_such(const std::string& what) { return {grpc::StatusCode::NOT_FOUND, what}; }

bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= 40 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

// Told to every caller whose sign-in fails, whatever the reason (docs/api.md).
const char* const kSignInFailed = "the email or password is not correct";

grpc::Status hashing_busy() {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, "the service is busy checking passwords; try again in a few seconds"};
}

std::string utc_text(Clock::time_point at) {
    const std::time_t seconds = Clock::to_time_t(std::chrono::ceil<std::chrono::seconds>(at));
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    return {text.data(), std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc)};
}

std::optional<std::string> check_money(const std::string& field, const common::v1::Money& money) {
    if (money.minor_units() < 0) {
        return field + ": must not be negative";
    }
    if (money.minor_units() > 0 &&
        (money.currency_code().size() != 3 || !std::all_of(money.currency_code().begin(), money.currency_code().end(),
                                                           [](char c) { return c >= 'A' && c <= 'Z'; }))) {
        return field + ": currency_code must be an ISO 4217 code such as EUR";
    }
    return std::nullopt;
}

std::optional<std::string> check_details(v1::CustomerType type, const v1::CustomerDetails& details,
                                         const std::vector<std::string>& fields) {
    for (const std::string& field : fields) {
        if (!field_applies(type, field)) {
            return "fields: " + field + " is not a field of this customer type";
        }
        // The limits sales-bridge applies to the same field (docs/replication.md, "Field rules"); an
        // email is optional here (an Organization or an HQ-created Person may have none).
        if (auto problem =
                platform::check_replicated_field("details." + field, field, field_value(details, field), false)) {
            return problem;
        }
    }
    return std::nullopt;
}

v1::PartnerUserStatus to_api_status(UserStatus status) {
    switch (status) {
        case UserStatus::pending:
            return v1::PARTNER_USER_STATUS_PENDING;
        case UserStatus::active:
            return v1::PARTNER_USER_STATUS_ACTIVE;
        case UserStatus::removed:
            return v1::PARTNER_USER_STATUS_REMOVED;
    }
    return v1::PARTNER_USER_STATUS_UNSPECIFIED;
}

v1::Hierarchy hierarchy_of(const HierarchyRef& found) {
    v1::Hierarchy out;
    out.set_hierarchy_id(found.hierarchy_id);
    out.set_name(found.hierarchy.name);
    out.set_organization_customer_id(found.organization_id);
    for (const auto& member : found.hierarchy.members) {
        out.add_member_customer_ids(member);
    }
    return out;
}

}  // namespace

v1::PartnerUser to_api(const PartnerUserState& user, const std::string& organization_id) {
    v1::PartnerUser out;
    out.set_user_id(user.user.user_id());
    out.set_customer_id(user.user.customer_id());
    out.set_organization_customer_id(organization_id);
    out.set_email(user.user.email());
    out.set_first_name(user.user.first_name());
    out.set_last_name(user.user.last_name());
    out.set_job_title(user.user.job_title());
    *out.mutable_spending_limit() = user.user.spending_limit();
    *out.mutable_permissions() = user.user.permissions();
    out.set_administrator(user.user.administrator());
    out.set_status(to_api_status(user.status));
    out.set_password_set(!user.credential_id.empty());
    if (!user.invitation_id.empty()) {
        *out.mutable_invitation_expires_at() = kernel::to_timestamp(user.invitation_expires_at);
    }
    return out;
}

CustomersApi::CustomersApi(const CustomerLookups& lookups, MasterData& master_data, Hierarchies& hierarchies,
                           PartnerUsers& users, Credentials& credentials,
                           const kernel::BearerAuthenticator& authenticator, kernel::RateLimiter& anonymous_limiter,
                           const kernel::ClientAddressResolver& client_addresses)
    : lookups_(lookups),
      master_data_(master_data),
      hierarchies_(hierarchies),
      users_(users),
      credentials_(credentials),
      authenticator_(authenticator),
      anonymous_limiter_(anonymous_limiter),
      client_addresses_(client_addresses) {}

v1::Customer CustomersApi::to_api(const CustomerState& state) {
    v1::Customer out;
    const auto& created = state.created;
    out.set_customer_id(created.customer_id());
    out.set_type(created.type());
    *out.mutable_details() = state.details;
    out.set_source(created.source());
    switch (list_status_of(state)) {
        case ListStatus::closed:
            out.set_status(v1::CUSTOMER_STATUS_CLOSED);
            break;
        case ListStatus::blocked:
            out.set_status(v1::CUSTOMER_STATUS_BLOCKED);
            break;
        default:
            out.set_status(v1::CUSTOMER_STATUS_ACTIVE);
            break;
    }
    out.set_partner_status(state.partner_status);
    out.set_crm_account_id(created.crm_account_id());
    out.set_crm_contact_id(created.crm_contact_id());
    out.set_prospect_request_number(created.prospect_request_number());
    if (created.type() == v1::CUSTOMER_TYPE_ORGANIZATION) {
        *out.mutable_credit_limit() = state.credit_limit;
        out.set_payment_terms(state.payment_terms);
    } else {
        *out.mutable_spending_limit() = state.spending_limit;
        out.set_organization_customer_id(lookups_.organization_of_person(state));
        // The B2B administrator flag follows the organisation's administrator.
        if (const auto organization = lookups_.customer(out.organization_customer_id())) {
            const PartnerUserState* admin = organization->user(organization->admin_user_id);
            out.set_b2b_admin(admin != nullptr && admin->user.customer_id() == created.customer_id());
        }
    }
    return out;
}

grpc::Status CustomersApi::throttle(grpc::ServerContext* context, const std::string& what) {
    if (!anonymous_limiter_.allow(what + "@" + kernel::client_key(*context, client_addresses_))) {
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, "too many requests from this address; try again in a minute"};
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::identify(grpc::ServerContext* context, Caller& caller) {
    const auto& metadata = context->client_metadata();
    const auto header = metadata.find("authorization");
    if (header == metadata.end()) {
        return {grpc::StatusCode::UNAUTHENTICATED, "a credential is required (authorization: Bearer <token>)"};
    }
    const std::string_view value(header->second.data(), header->second.size());
    if (auto staff = kernel::authenticate_metadata(*context, authenticator_)) {
        caller.staff = *staff;
        return grpc::Status::OK;
    }
    if (value.rfind("Bearer ", 0) == 0) {
        if (auto session = credentials_.session(std::string(value.substr(7)))) {
            caller.partner = *session;
            return grpc::Status::OK;
        }
    }
    return {grpc::StatusCode::UNAUTHENTICATED, "the credential is not valid (or the session has ended)"};
}

grpc::Status CustomersApi::require_hq(grpc::ServerContext* context, Caller& caller) {
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    return caller.hq() ? grpc::Status::OK : denied("this call needs the hq role");
}

grpc::Status CustomersApi::user_manager(grpc::ServerContext* context, const std::string& requested_organization,
                                        Caller& caller, std::string& organization_id) {
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    if (caller.hq()) {
        if (!valid_id(requested_organization)) {
            return invalid("organization_customer_id: is required");
        }
        organization_id = requested_organization;
        const auto organization = lookups_.customer(organization_id);
        if (!organization || organization->created.type() != v1::CUSTOMER_TYPE_ORGANIZATION) {
            return no_such("organization_customer_id: no such organization");
        }
        return grpc::Status::OK;
    }
    if (!caller.partner_admin()) {
        return denied("only HQ and the partner's administrator manage partner users");
    }
    if (!requested_organization.empty() && requested_organization != caller.partner->organization_id) {
        return no_such("organization_customer_id: no such organization");  // no hint that it exists
    }
    organization_id = caller.partner->organization_id;
    return grpc::Status::OK;
}

grpc::Status CustomersApi::managed_user(grpc::ServerContext* context, const std::string& user_id, Caller& caller,
                                        UserRef& user) {
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    if (!caller.hq() && !caller.partner_admin()) {
        return denied("only HQ and the partner's administrator manage partner users");
    }
    if (!valid_id(user_id)) {
        return invalid("user_id: is required");
    }
    auto found = lookups_.user(user_id);
    if (!found || found->user.status == UserStatus::removed ||
        (!caller.hq() && found->organization_id != caller.partner->organization_id)) {
        return no_such("user_id: no such user");
    }
    user = *found;
    return grpc::Status::OK;
}

// --- HQ: customer master ---

grpc::Status CustomersApi::CreateCustomer(grpc::ServerContext* context, const v1::CreateCustomerRequest* request,
                                          v1::CreateCustomerResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    const auto type = request->type();
    if (type != v1::CUSTOMER_TYPE_ORGANIZATION && type != v1::CUSTOMER_TYPE_PERSON) {
        return invalid("type: must be CUSTOMER_TYPE_ORGANIZATION or CUSTOMER_TYPE_PERSON");
    }
    v1::CustomerDetails details = request->details();
    details.set_email(platform::to_lower(details.email()));
    std::vector<std::string> fields;
    for (const std::string& field : replicated_fields()) {
        if (field_applies(type, field)) {
            fields.push_back(field);
        }
    }
    if (auto problem = check_details(type, details, fields)) {
        return invalid(*problem);
    }
    if (type == v1::CUSTOMER_TYPE_PERSON) {
        if (auto problem = platform::check_email("details.email", details.email())) {
            return invalid(*problem);
        }
    } else if (!request->organization_customer_id().empty()) {
        return invalid("organization_customer_id: only a Person belongs to an organization");
    }
    if (request->b2b_admin() && (type != v1::CUSTOMER_TYPE_PERSON || request->organization_customer_id().empty())) {
        return invalid("b2b_admin: is for a Person with organization_customer_id");
    }
    const auto created = master_data_.create_by_hq(
        NewCustomer{type, details, request->organization_customer_id(), request->b2b_admin()}, caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&created)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_customer() = to_api(*lookups_.customer(std::get<std::string>(created)));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::UpdateCustomer(grpc::ServerContext* context, const v1::UpdateCustomerRequest* request,
                                          v1::UpdateCustomerResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    const auto found = valid_id(request->customer_id()) ? lookups_.customer(request->customer_id()) : std::nullopt;
    if (!found) {
        return no_such("customer_id: no such customer");
    }
    if (request->fields().empty() && !request->has_b2b_admin()) {
        return invalid("fields: name at least one field to change");
    }
    std::string organization_id;
    if (request->has_b2b_admin()) {
        organization_id =
            found->created.type() == v1::CUSTOMER_TYPE_PERSON ? lookups_.organization_of_person(*found) : "";
        if (organization_id.empty()) {
            return {grpc::StatusCode::FAILED_PRECONDITION,
                    "b2b_admin: customer " + request->customer_id() +
                        " is not a Person of an organization (ChangeAdministrator with new_admin_customer_id takes a "
                        "hierarchy member)"};
        }
    }
    customers::UpdateCustomer update;
    update.details = request->details();
    update.details.set_email(platform::to_lower(update.details.email()));
    update.fields.assign(request->fields().begin(), request->fields().end());
    if (auto problem = check_details(found->created.type(), update.details, update.fields)) {
        return invalid(*problem);
    }
    update.changed_at = Clock::now();
    update.side = Side::customers;
    update.changed_by = caller.actor();
    if (!update.fields.empty()) {
        // The person's web accounts follow (names, sign-in email).
        auto result = master_data_.update_customer(request->customer_id(), update,
                                                   {.correlation_id = kernel::new_uuid_v7(), .actor = caller.actor()});
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
    }
    if (request->has_b2b_admin()) {
        auto result =
            users_.set_administrator(organization_id, request->customer_id(), request->b2b_admin(), caller.actor());
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::to_grpc_status(*rejection);
        }
    }
    *response->mutable_customer() = to_api(*lookups_.customer(request->customer_id()));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::BlockCustomer(grpc::ServerContext* context, const v1::BlockCustomerRequest* request,
                                         v1::BlockCustomerResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    if (!valid_id(request->customer_id())) {
        return invalid("customer_id: is required");
    }
    if (auto problem = platform::check_text("reason", request->reason(), 0, 1000)) {
        return invalid(*problem);
    }
    auto result = master_data_.execute(request->customer_id(),
                                       customers::BlockCustomer{request->blocked(), request->reason(), caller.actor()},
                                       caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_customer() = to_api(*lookups_.customer(request->customer_id()));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::SetLimits(grpc::ServerContext* context, const v1::SetLimitsRequest* request,
                                     v1::SetLimitsResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    if (!valid_id(request->customer_id())) {
        return invalid("customer_id: is required");
    }
    customers::SetLimits limits;
    if (request->has_credit_limit()) {
        if (auto problem = check_money("credit_limit", request->credit_limit())) {
            return invalid(*problem);
        }
        limits.credit_limit = request->credit_limit();
    }
    if (!request->payment_terms().empty()) {
        if (auto problem = platform::check_text("payment_terms", request->payment_terms(), 0, 200)) {
            return invalid(*problem);
        }
        limits.payment_terms = request->payment_terms();
    }
    if (request->has_spending_limit()) {
        if (auto problem = check_money("spending_limit", request->spending_limit())) {
            return invalid(*problem);
        }
        limits.spending_limit = request->spending_limit();
    }
    limits.by = caller.actor();
    auto result = master_data_.execute(request->customer_id(), limits, caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_customer() = to_api(*lookups_.customer(request->customer_id()));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::GetCustomer(grpc::ServerContext* context, const v1::GetCustomerRequest* request,
                                       v1::GetCustomerResponse* response) {
    Caller caller;
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    if (!caller.reader() && !caller.partner) {
        return denied("this call needs the hq or operator role, or a partner session");
    }
    const auto found = valid_id(request->customer_id()) ? lookups_.customer(request->customer_id()) : std::nullopt;
    if (!found) {
        return no_such("customer_id: no such customer");
    }
    if (caller.partner) {
        // A partner user sees their organisation and themselves; the administrator also its people.
        const std::string& own = caller.partner->organization_id;
        const bool organization = found->created.customer_id() == own;
        const auto me = lookups_.customer(own);
        const PartnerUserState* user = me ? me->user(caller.partner->user_id) : nullptr;
        const bool self = user != nullptr && user->user.customer_id() == found->created.customer_id();
        const bool member = caller.partner_admin() && found->created.type() == v1::CUSTOMER_TYPE_PERSON &&
                            lookups_.organization_of_person(*found) == own;
        if (!organization && !self && !member) {
            return no_such("customer_id: no such customer");
        }
    }
    *response->mutable_customer() = to_api(*found);
    if (caller.partner && !caller.partner_admin()) {
        // "View Financials" is a permission: without it, no credit limit or payment terms.
        const auto me = lookups_.customer(caller.partner->organization_id);
        const PartnerUserState* user = me ? me->user(caller.partner->user_id) : nullptr;
        if (user == nullptr || !user->user.permissions().view_financials()) {
            response->mutable_customer()->clear_credit_limit();
            response->mutable_customer()->clear_payment_terms();
        }
    }
    if (caller.reader()) {
        for (const HistoryEntry& recorded : lookups_.history(request->customer_id())) {
            v1::HistoryEntry& entry = *response->add_history();
            *entry.mutable_at() = recorded.at;
            entry.set_event_type(recorded.event_type);
            entry.set_actor(recorded.actor);
        }
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::ListCustomers(grpc::ServerContext* context, const v1::ListCustomersRequest* request,
                                         v1::ListCustomersResponse* response) {
    Caller caller;
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    if (!caller.reader()) {
        return denied("this call needs the hq or operator role");
    }
    auto paging = platform::read_page_request(request->page_size(), request->page_token());
    if (const auto* problem = std::get_if<std::string>(&paging)) {
        return invalid(*problem);
    }
    if (auto problem = platform::check_text("text", request->text(), 0, 200)) {
        return invalid(*problem);
    }
    CustomerQuery query;
    query.type = request->type();
    switch (request->status()) {
        case v1::CUSTOMER_STATUS_UNSPECIFIED:
            query.status = ListStatus::any;
            break;
        case v1::CUSTOMER_STATUS_ACTIVE:
            query.status = ListStatus::active;
            break;
        case v1::CUSTOMER_STATUS_BLOCKED:
            query.status = ListStatus::blocked;
            break;
        case v1::CUSTOMER_STATUS_CLOSED:
            query.status = ListStatus::closed;
            break;
        default:
            response->set_total(0);  // no customer has another status
            return grpc::Status::OK;
    }
    query.text = platform::to_lower(request->text());
    auto& page_request = std::get<platform::PageRequest>(paging);
    query.after = std::move(page_request.after);
    query.page_size = page_request.size;
    const CustomerPage page = lookups_.list_customers(query);
    response->set_total(static_cast<int>(page.total));
    for (const CustomerState& state : page.customers) {
        *response->add_customers() = to_api(state);
    }
    if (!page.last_cursor.empty()) {
        response->set_next_page_token(platform::next_page_token(page.last_cursor));
    }
    return grpc::Status::OK;
}

// --- hierarchies ---

grpc::Status CustomersApi::CreateHierarchy(grpc::ServerContext* context, const v1::CreateHierarchyRequest* request,
                                           v1::CreateHierarchyResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    if (!valid_id(request->organization_customer_id())) {
        return invalid("organization_customer_id: is required");
    }
    if (auto problem = platform::check_text("name", request->name(), 1, 200)) {
        return invalid(*problem);
    }
    const auto created = hierarchies_.create(request->organization_customer_id(), request->name(), caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&created)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_hierarchy() = hierarchy_of(std::get<HierarchyRef>(created));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::ChangeHierarchyMember(grpc::ServerContext* context,
                                                 const v1::ChangeHierarchyMemberRequest* request,
                                                 v1::ChangeHierarchyMemberResponse* response) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    if (!valid_id(request->hierarchy_id()) || !valid_id(request->customer_id())) {
        return invalid("hierarchy_id, customer_id: are required");
    }
    const auto changed =
        hierarchies_.change_member(request->hierarchy_id(), request->customer_id(), request->add(), caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&changed)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_hierarchy() = hierarchy_of(std::get<HierarchyRef>(changed));
    return grpc::Status::OK;
}

grpc::Status CustomersApi::ListHierarchies(grpc::ServerContext* context, const v1::ListHierarchiesRequest* request,
                                           v1::ListHierarchiesResponse* response) {
    Caller caller;
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    std::string organization_id = request->organization_customer_id();
    if (caller.partner) {
        if (!caller.partner_admin()) {
            return denied("only HQ and the partner's administrator see hierarchies");
        }
        if (!organization_id.empty() && organization_id != caller.partner->organization_id) {
            return no_such("organization_customer_id: no such organization");
        }
        organization_id = caller.partner->organization_id;
    } else if (!caller.reader()) {
        return denied("this call needs the hq or operator role");
    }
    for (const HierarchyRef& found : hierarchies_.list(organization_id)) {
        *response->add_hierarchies() = hierarchy_of(found);
    }
    return grpc::Status::OK;
}

// --- partner users ---

grpc::Status CustomersApi::ListPartnerUsers(grpc::ServerContext* context, const v1::ListPartnerUsersRequest* request,
                                            v1::ListPartnerUsersResponse* response) {
    Caller caller;
    std::string organization_id;
    if (auto status = user_manager(context, request->organization_customer_id(), caller, organization_id);
        !status.ok()) {
        return status;
    }
    const auto organization = lookups_.customer(organization_id);
    if (!organization) {
        return no_such("organization_customer_id: no such organization");
    }
    for (const auto& [id, user] : organization->users) {
        if (user.status != UserStatus::removed) {
            *response->add_users() = customers::to_api(user, organization_id);
        }
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::AddPartnerUser(grpc::ServerContext* context, const v1::AddPartnerUserRequest* request,
                                          v1::AddPartnerUserResponse* response) {
    Caller caller;
    std::string organization_id;
    if (auto status = user_manager(context, request->organization_customer_id(), caller, organization_id);
        !status.ok()) {
        return status;
    }
    NewPartnerUser user{request->customer_id(), platform::to_lower(request->email()),
                        request->first_name(),  request->last_name(),
                        request->job_title(),   request->spending_limit(),
                        request->permissions()};
    if (!user.customer_id.empty()) {
        // An existing Person: its email and names are the account's.
        if (!valid_id(user.customer_id)) {
            return invalid("customer_id: is not a customer id");
        }
        for (const auto& problem : {platform::check_replicated_field("job_title", "job_title", user.job_title, false),
                                    check_money("spending_limit", user.spending_limit)}) {
            if (problem) {
                return invalid(*problem);
            }
        }
    } else {
        for (const auto& problem : {platform::check_email("email", user.email),
                                    platform::check_replicated_field("first_name", "first_name", user.first_name, true),
                                    platform::check_replicated_field("last_name", "last_name", user.last_name, true),
                                    platform::check_replicated_field("job_title", "job_title", user.job_title, true),
                                    check_money("spending_limit", user.spending_limit)}) {
            if (problem) {
                return invalid(*problem);
            }
        }
    }
    auto result = users_.add_partner_user(organization_id, user, caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    const auto organization = lookups_.customer(organization_id);
    const PartnerUserState* added = nullptr;
    if (const auto* accepted = std::get_if<kernel::Accepted<v1::CustomerEvent>>(&result)) {
        for (const auto& event : accepted->events) {
            if (event.has_user_activated()) {
                added = organization->user(event.user_activated().user_id());
            }
        }
    }
    if (added == nullptr) {
        added = user.customer_id.empty() ? organization->user_by_email(user.email)
                                         : organization->user_by_customer(user.customer_id);
    }
    if (added != nullptr) {
        *response->mutable_user() = customers::to_api(*added, organization_id);
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::UpdatePartnerUser(grpc::ServerContext* context, const v1::UpdatePartnerUserRequest* request,
                                             v1::UpdatePartnerUserResponse* response) {
    Caller caller;
    UserRef user;
    if (auto status = managed_user(context, request->user_id(), caller, user); !status.ok()) {
        return status;
    }
    for (const auto& problem :
         {platform::check_replicated_field("first_name", "first_name", request->first_name(), true),
          platform::check_replicated_field("last_name", "last_name", request->last_name(), true),
          platform::check_replicated_field("job_title", "job_title", request->job_title(), true),
          check_money("spending_limit", request->spending_limit())}) {
        if (problem) {
            return invalid(*problem);
        }
    }
    const PartnerUserChange change{request->first_name(), request->last_name(), request->job_title(),
                                   request->spending_limit(), request->permissions()};
    auto result = users_.update_partner_user(user, change, caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_user() =
        customers::to_api(*lookups_.customer(user.organization_id)->user(request->user_id()), user.organization_id);
    return grpc::Status::OK;
}

grpc::Status CustomersApi::RemovePartnerUser(grpc::ServerContext* context, const v1::RemovePartnerUserRequest* request,
                                             v1::RemovePartnerUserResponse* /*response*/) {
    Caller caller;
    UserRef user;
    if (auto status = managed_user(context, request->user_id(), caller, user); !status.ok()) {
        return status;
    }
    auto result = master_data_.execute(
        user.organization_id, customers::RemovePartnerUser{request->user_id(), caller.actor()}, caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::ChangeInvitation(grpc::ServerContext* context, const v1::ChangeInvitationRequest* request,
                                            v1::ChangeInvitationResponse* response) {
    Caller caller;
    UserRef user;
    if (auto status = managed_user(context, request->user_id(), caller, user); !status.ok()) {
        return status;
    }
    auto result =
        request->revoke()
            ? master_data_.execute(user.organization_id,
                                   customers::ChangeInvitation{request->user_id(), std::nullopt, caller.actor()},
                                   caller.actor())
            : users_.resend_invitation(user.organization_id, request->user_id(), caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    *response->mutable_user() =
        customers::to_api(*lookups_.customer(user.organization_id)->user(request->user_id()), user.organization_id);
    return grpc::Status::OK;
}

grpc::Status CustomersApi::ChangeAdministrator(grpc::ServerContext* context,
                                               const v1::ChangeAdministratorRequest* request,
                                               v1::ChangeAdministratorResponse* /*response*/) {
    Caller caller;
    if (auto status = require_hq(context, caller); !status.ok()) {
        return status;
    }
    const bool by_person = !request->new_admin_customer_id().empty();
    if (!valid_id(request->organization_customer_id()) ||
        (by_person ? !valid_id(request->new_admin_customer_id()) || !request->new_admin_user_id().empty()
                   : !valid_id(request->new_admin_user_id()))) {
        return invalid("organization_customer_id and one of new_admin_user_id, new_admin_customer_id: are required");
    }
    auto result =
        by_person ? users_.make_administrator(request->organization_customer_id(), request->new_admin_customer_id(),
                                              caller.actor())
                  : master_data_.execute(request->organization_customer_id(),
                                         customers::ChangeAdministrator{request->new_admin_user_id(), caller.actor()},
                                         caller.actor());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    return grpc::Status::OK;
}

// --- anonymous: set password, sign in, password reset ---

grpc::Status CustomersApi::SetPassword(grpc::ServerContext* context, const v1::SetPasswordRequest* request,
                                       v1::SetPasswordResponse* /*response*/) {
    if (auto limited = throttle(context, "set-password"); !limited.ok()) {
        return limited;
    }
    if (request->token().empty() || request->token().size() > 128) {
        return invalid("token: is required (the code from the invitation link)");
    }
    const auto result = credentials_.set_password(request->token(), request->password());
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        return kernel::to_grpc_status(*rejection);
    }
    if (std::holds_alternative<HashingBusy>(result)) {
        return hashing_busy();
    }
    return grpc::Status::OK;
}

grpc::Status CustomersApi::SignIn(grpc::ServerContext* context, const v1::SignInRequest* request,
                                  v1::SignInResponse* response) {
    if (auto limited = throttle(context, "sign-in"); !limited.ok()) {
        return limited;
    }
    // Input no account can match is a failure like any other (no hashing spent on it: its length is
    // the caller's own knowledge, it tells nothing about an account).
    const auto password_length = platform::utf8_length(request->password());
    if (request->email().empty() || request->email().size() > platform::field_limits::kEmailMaxChars ||
        !password_length || *password_length == 0 || *password_length > kMaxPasswordCharacters) {
        return {grpc::StatusCode::UNAUTHENTICATED, kSignInFailed};
    }
    const auto result =
        credentials_.sign_in(request->email(), request->password(), kernel::client_key(*context, client_addresses_));
    if (std::holds_alternative<HashingBusy>(result)) {
        return hashing_busy();
    }
    if (const auto* refused = std::get_if<SignInRefused>(&result)) {
        // A lockout says until when; it is the same for emails that exist and ones that do not.
        if (refused->locked_until) {
            return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "too many attempts, try again at " + utc_text(*refused->locked_until)};
        }
        return {grpc::StatusCode::UNAUTHENTICATED, kSignInFailed};
    }
    const auto* signed_in = &std::get<SignedIn>(result);
    response->set_session_token(signed_in->session_token);
    *response->mutable_expires_at() = kernel::to_timestamp(signed_in->expires_at);
    response->set_user_id(signed_in->user_id);
    response->set_organization_customer_id(signed_in->organization_id);
    return grpc::Status::OK;
}

grpc::Status CustomersApi::RequestPasswordReset(grpc::ServerContext* context,
                                                const v1::RequestPasswordResetRequest* request,
                                                v1::RequestPasswordResetResponse* /*response*/) {
    if (auto limited = throttle(context, "password-reset"); !limited.ok()) {
        return limited;
    }
    // Only the shape of the email is checked: the answer is the same for every well-formed one.
    if (auto problem = platform::check_email("email", platform::to_lower(request->email()))) {
        return invalid(*problem);
    }
    credentials_.request_password_reset(request->email());
    return grpc::Status::OK;
}

grpc::Status CustomersApi::SignOut(grpc::ServerContext* context, const v1::SignOutRequest* /*request*/,
                                   v1::SignOutResponse* /*response*/) {
    Caller caller;
    if (auto status = identify(context, caller); !status.ok()) {
        return status;
    }
    if (!caller.partner) {
        return invalid("only a partner session can be signed out");
    }
    credentials_.sign_out(*caller.partner);
    return grpc::Status::OK;
}

}  // namespace gatehouse::customers
