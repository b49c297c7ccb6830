// The account and contact RPCs of SalesApi (api/sales_api.h): get and update, the same steps for
// both; only the mapping of each message's own fields differs.
#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <span>

#include "api/sales_api.h"

namespace gatehouse::sales {
namespace {

using rpc::answer;
using rpc::check_id;

v1::Account to_api(const v1::AccountCreated& record) {
    v1::Account account;
    account.set_account_id(record.account_id());
    account.set_prospect_request_number(record.prospect_request_number());
    account.set_name(record.name());
    *account.mutable_address() = record.address();
    account.set_phone(record.phone());
    account.set_website(record.website());
    account.set_tax_id(record.tax_id());
    account.set_primary_contact_id(record.primary_contact_id());
    account.set_opportunity_id(record.opportunity_id());
    account.set_customer_id(record.customer_id());
    return account;
}

v1::Contact to_api(const v1::ContactCreated& record) {
    v1::Contact contact;
    contact.set_contact_id(record.contact_id());
    contact.set_account_id(record.account_id());
    contact.set_prospect_request_number(record.prospect_request_number());
    contact.set_first_name(record.first_name());
    contact.set_last_name(record.last_name());
    contact.set_email(record.email());
    contact.set_phone(record.phone());
    contact.set_job_title(record.job_title());
    contact.set_customer_id(record.customer_id());
    return contact;
}

// The `changed_fields` of an update of `values` (a v1::Account / v1::Contact; `record` names it
// in messages, "account"): at least one, each one of the record's replicated `fields`, each value
// checked by the limits customers applies to the same field (docs/replication.md, "Field rules";
// an email is required: a CRM contact is someone to write to). Text fields are read by name;
// `check_other` checks the others (an account's address).
Problem check_changed_fields(const google::protobuf::Message& values, std::string_view record,
                             std::span<const std::string_view> fields,
                             const google::protobuf::RepeatedPtrField<std::string>& names,
                             const std::function<Problem(std::string_view name)>& check_other) {
    std::string listed;
    for (const std::string_view field : fields) {
        listed += (listed.empty() ? "" : ", ") + std::string(field);
    }
    if (names.empty()) {
        return "changed_fields: name at least one field (" + listed + ")";
    }
    const std::string article = std::string_view("aeiou").find(record.front()) == std::string_view::npos ? "a " : "an ";
    for (const std::string& name : names) {
        if (std::find(fields.begin(), fields.end(), name) == fields.end()) {
            return "changed_fields: " + name + " is not " + article + std::string(record) + " field (" + listed + ")";
        }
        const auto* field = values.GetDescriptor()->FindFieldByName(name);
        Problem found = field != nullptr && field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING
                            ? platform::check_replicated_field(std::string(record) + "." + name, name,
                                                               values.GetReflection()->GetString(values, field), true)
                            : check_other(name);
        if (found) {
            return found;
        }
    }
    return std::nullopt;
}

Problem check_address(const common::v1::PostalAddress& address) {
    for (const auto& [field, value] :
         {std::pair{"account.address.street", address.street()}, std::pair{"account.address.city", address.city()},
          std::pair{"account.address.postal_code", address.postal_code()},
          std::pair{"account.address.region", address.region()}}) {
        if (auto found = platform::check_text(field, value, 0, 200)) {
            return found;
        }
    }
    const auto& country = address.country_code();
    if (!country.empty() && (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
                             !std::isupper(static_cast<unsigned char>(country[1])))) {
        return "account.address.country_code: must be an ISO 3166-1 alpha-2 code such as DE";
    }
    return std::nullopt;
}

Problem check_fields(const v1::UpdateAccountRequest& request) {
    return check_changed_fields(request.account(), "account", kAccountFields, request.changed_fields(),
                                [&](std::string_view) { return check_address(request.account().address()); });
}

Problem check_fields(const v1::UpdateContactRequest& request) {
    return check_changed_fields(request.contact(), "contact", kContactFields, request.changed_fields(),
                                [](std::string_view) { return Problem(); });
}

v1::AccountUpdated change_of(const v1::UpdateAccountRequest& request) {
    v1::AccountUpdated change;
    const auto& values = request.account();
    change.set_name(values.name());
    *change.mutable_address() = values.address();
    change.set_phone(values.phone());
    change.set_website(values.website());
    change.set_tax_id(values.tax_id());
    *change.mutable_changed_fields() = request.changed_fields();
    return change;
}

v1::ContactUpdated change_of(const v1::UpdateContactRequest& request) {
    v1::ContactUpdated change;
    const auto& values = request.contact();
    change.set_first_name(values.first_name());
    change.set_last_name(values.last_name());
    change.set_email(values.email());
    change.set_phone(values.phone());
    change.set_job_title(values.job_title());
    *change.mutable_changed_fields() = request.changed_fields();
    return change;
}

// An update's answer: the fields that changed and the record as it now is.
template <class Record, class View>
void fill(const RecordUpdate<Record>& update, google::protobuf::RepeatedPtrField<std::string>& changed_fields,
          View& view) {
    changed_fields = {update.changed_fields.begin(), update.changed_fields.end()};
    view = to_api(update.record);
}

}  // namespace

grpc::Status SalesApi::GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                                  v1::GetAccountResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("account_id", request->account_id())}); !refused.ok()) {
        return refused;
    }
    return answer(app_.account(request->account_id()),
                  [&](const v1::AccountCreated& record) { *response->mutable_account() = to_api(record); });
}

grpc::Status SalesApi::UpdateAccount(grpc::ServerContext* context, const v1::UpdateAccountRequest* request,
                                     v1::UpdateAccountResponse* response) {
    kernel::Principal principal;
    if (auto refused =
            admit(context, principal, {check_id("account_id", request->account_id()), check_fields(*request)});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.update_account(principal, request->account_id(), change_of(*request)),
                  [&](const RecordUpdate<v1::AccountCreated>& update) {
                      fill(update, *response->mutable_changed_fields(), *response->mutable_account());
                  });
}

grpc::Status SalesApi::GetContact(grpc::ServerContext* context, const v1::GetContactRequest* request,
                                  v1::GetContactResponse* response) {
    kernel::Principal principal;
    if (auto refused = admit(context, principal, {check_id("contact_id", request->contact_id())}); !refused.ok()) {
        return refused;
    }
    return answer(app_.contact(request->contact_id()),
                  [&](const v1::ContactCreated& record) { *response->mutable_contact() = to_api(record); });
}

grpc::Status SalesApi::UpdateContact(grpc::ServerContext* context, const v1::UpdateContactRequest* request,
                                     v1::UpdateContactResponse* response) {
    kernel::Principal principal;
    if (auto refused =
            admit(context, principal, {check_id("contact_id", request->contact_id()), check_fields(*request)});
        !refused.ok()) {
        return refused;
    }
    return answer(app_.update_contact(principal, request->contact_id(), change_of(*request)),
                  [&](const RecordUpdate<v1::ContactCreated>& update) {
                      fill(update, *response->mutable_changed_fields(), *response->mutable_contact());
                  });
}

}  // namespace gatehouse::sales
