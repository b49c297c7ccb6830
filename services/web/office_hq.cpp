// The back office's HQ desk: All prospects (filter, pages, one prospect with its timeline and
// possible duplicates, approve behind a confirmation page, reject with a reason) and the customers
// (search, pages, one customer with its history, hierarchies and partner users, change the
// organisation's administrator) and their master data (a new organisation, a person of it, optionally
// its B2B administrator, edits of the details, credit limit and payment terms, hierarchies and
// their members). Every call carries the gateway token on behalf of the signed-in
// HQ member; the services decide what is allowed (self-approval, an already decided request).
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/customers/v1/customers_service.grpc.pb.h"
#include "gatehouse/onboarding/v1/onboarding_service.grpc.pb.h"
#include "page_values.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace onboarding_v1 = gatehouse::onboarding::v1;
namespace customers_v1 = gatehouse::customers::v1;

constexpr Text kTexts[] = {
    // All prospects
    {"hq_prospects_title", "All prospects", "Alle Interessenten"},
    {"hq_filter", "Show", "Anzeigen"},
    {"hq_any_status", "Any status", "Alle Status"},
    {"hq_prospect_text", "Company or email contains", "Firma oder E-Mail enthält"},
    {"hq_request_number", "Request", "Anfrage"},
    {"hq_company", "Company", "Unternehmen"},
    {"hq_contact", "Contact", "Ansprechperson"},
    {"hq_submitted_at", "Submitted", "Eingereicht"},
    {"hq_duplicate", "Possible duplicate", "Mögliches Duplikat"},
    {"hq_total", "Found", "Gefunden"},
    {"hq_none_found", "Nothing found.", "Nichts gefunden."},
    {"hq_next_page", "Next page", "Nächste Seite"},
    {"hq_first_page", "First page", "Erste Seite"},
    {"hq_status_1", "Awaiting email confirmation", "Wartet auf Bestätigung der E-Mail-Adresse"},
    {"hq_status_2", "Pending", "In Prüfung"},
    {"hq_status_3", "Approved", "Genehmigt"},
    {"hq_status_4", "Rejected", "Abgelehnt"},
    {"hq_status_5", "Closed", "Geschlossen"},
    // One prospect
    {"hq_prospect_title", "Prospect", "Interessent"},
    {"hq_comments", "Comments", "Anmerkungen"},
    {"hq_previous_request", "Earlier rejected request", "Frühere abgelehnte Anfrage"},
    {"hq_approval_mode", "Who decides", "Wer entscheidet"},
    {"hq_mode_1", "HQ", "Zentrale"},
    {"hq_mode_2", "The CRM (opportunity won or lost)", "Das CRM (Verkaufschance gewonnen oder verloren)"},
    {"hq_decided_by", "Decided by", "Entschieden von"},
    {"hq_decision_reason", "Reason", "Begründung"},
    {"hq_decision_path", "Decided through", "Entschieden über"},
    {"hq_path_1", "HQ", "Zentrale"},
    {"hq_path_2", "The CRM", "Das CRM"},
    {"hq_path_3", "HQ, instead of the CRM", "Zentrale, anstelle des CRM"},
    {"hq_path_4", "The email was not confirmed in time", "Die E-Mail-Adresse wurde nicht rechtzeitig bestätigt"},
    {"hq_duplicates_title", "Possible duplicates", "Mögliche Duplikate"},
    {"hq_rule_email", "same email address", "gleiche E-Mail-Adresse"},
    {"hq_rule_tax_id", "same VAT / tax id", "gleiche USt-IdNr. / Steuernummer"},
    {"hq_rule_company_name_and_email_domain", "same company name and email domain",
     "gleicher Firmenname und gleiche E-Mail-Domain"},
    {"hq_existing_partner", "an existing partner", "ein bestehender Partner"},
    {"hq_other_prospect", "another prospect", "ein anderer Interessent"},
    {"hq_timeline", "Timeline", "Verlauf"},
    {"hq_when", "When", "Wann"},
    {"hq_event", "Event", "Ereignis"},
    {"hq_actor", "By", "Von"},
    {"hq_detail", "Details", "Details"},
    {"hq_customer_record", "Customer record", "Kundendatensatz"},
    {"hq_back_prospects", "Back to all prospects", "Zurück zu allen Interessenten"},
    // Approve and reject
    {"hq_approve", "Approve", "Genehmigen"},
    {"hq_reject", "Reject", "Ablehnen"},
    {"hq_approve_title", "Approve this request?", "Diese Anfrage genehmigen?"},
    {"hq_approve_text",
     "The organisation becomes a partner: its customer record and the contact's web account are created, and the "
     "contact gets a welcome email with a link to set a password.",
     "Die Organisation wird Partner: Ihr Kundendatensatz und das Webkonto der Ansprechperson werden angelegt, und die "
     "Ansprechperson erhält eine Willkommens-E-Mail mit einem Link zum Festlegen des Passworts."},
    {"hq_approve_submit", "Yes, approve", "Ja, genehmigen"},
    {"hq_duplicate_warning", "Look at the possible duplicates before you approve.",
     "Sehen Sie sich die möglichen Duplikate an, bevor Sie genehmigen."},
    {"hq_crm_mode_text", "The CRM decides this request: HQ may approve it only with a reason, recorded as an override.",
     "Über diese Anfrage entscheidet das CRM: Die Zentrale darf sie nur mit einer Begründung genehmigen, die als "
     "Ausnahme festgehalten wird."},
    {"hq_override_reason", "Why HQ decides instead of the CRM", "Warum die Zentrale anstelle des CRM entscheidet"},
    {"hq_not_pending", "Only a pending request can be decided. The status of this one:",
     "Nur eine Anfrage in Prüfung kann entschieden werden. Der Status dieser Anfrage:"},
    {"hq_reject_title", "Reject this request?", "Diese Anfrage ablehnen?"},
    {"hq_reject_text", "The contact gets an email that the request was declined.",
     "Die Ansprechperson erhält eine E-Mail, dass die Anfrage abgelehnt wurde."},
    {"hq_reason", "Reason for the rejection", "Grund der Ablehnung"},
    {"hq_reject_submit", "Reject the request", "Anfrage ablehnen"},
    {"hq_approved_notice", "The request was approved. The customer record and the welcome email follow in a moment.",
     "Die Anfrage wurde genehmigt. Der Kundendatensatz und die Willkommens-E-Mail folgen in Kürze."},
    {"hq_rejected_notice", "The request was rejected.", "Die Anfrage wurde abgelehnt."},
    // Customers
    {"hq_customers_title", "Customers", "Kunden"},
    {"hq_customer_text", "Name, email, customer number or CRM id contains",
     "Name, E-Mail, Kundennummer oder CRM-ID enthält"},
    {"hq_any_type", "Any type", "Alle Arten"},
    {"hq_type", "Type", "Art"},
    {"hq_type_1", "Organization", "Organisation"},
    {"hq_type_2", "Person", "Person"},
    {"hq_customer_status_1", "Active", "Aktiv"},
    {"hq_customer_status_2", "Blocked", "Gesperrt"},
    {"hq_customer_status_3", "Closed", "Geschlossen"},
    {"hq_source", "Source", "Herkunft"},
    {"hq_source_1", "Self-serve onboarding", "Selbstregistrierung"},
    {"hq_source_2", "HQ", "Zentrale"},
    {"hq_source_3", "CRM", "CRM"},
    {"hq_partner_status", "Partner status", "Partnerstatus"},
    {"hq_partner_status_1", "Prospective: the opportunity is open", "Angehend: Die Verkaufschance ist offen"},
    {"hq_partner_status_2", "Partner", "Partner"},
    {"hq_partner_status_3", "Closed: the opportunity was lost", "Geschlossen: Die Verkaufschance ging verloren"},
    {"hq_crm_account", "CRM account", "CRM-Account"},
    {"hq_crm_contact", "CRM contact", "CRM-Kontakt"},
    {"hq_credit_limit", "Credit limit", "Kreditlimit"},
    {"hq_payment_terms", "Payment terms", "Zahlungsbedingungen"},
    {"hq_spending_limit", "Spending limit", "Ausgabenlimit"},
    {"hq_prospect_request", "Onboarding request", "Onboarding-Anfrage"},
    {"hq_customer_title", "Customer", "Kunde"},
    {"hq_history", "History", "Historie"},
    {"hq_hierarchies", "Hierarchies", "Hierarchien"},
    {"hq_members", "Members", "Mitglieder"},
    {"hq_no_hierarchies", "No hierarchies.", "Keine Hierarchien."},
    {"hq_partner_users", "Partner users", "Partnerbenutzer"},
    {"hq_no_users", "No partner users.", "Keine Partnerbenutzer."},
    {"hq_administrator", "Administrator", "Administrator"},
    {"hq_no_administrator", "none", "keiner"},
    {"hq_user", "User", "Benutzer"},
    {"hq_user_status_1", "Invited", "Eingeladen"},
    {"hq_user_status_2", "Active", "Aktiv"},
    {"hq_user_status_3", "Removed", "Entfernt"},
    {"hq_password_set", "Password set", "Passwort festgelegt"},
    {"hq_yes", "yes", "ja"},
    {"hq_no", "no", "nein"},
    {"hq_change_admin_title", "Change administrator", "Administrator wechseln"},
    {"hq_change_admin_text", "An organisation has one administrator, who manages its users.",
     "Eine Organisation hat einen Administrator, der ihre Benutzer verwaltet."},
    {"hq_new_admin_user_id", "New administrator (an active user of the organisation)",
     "Neuer Administrator (ein aktiver Benutzer der Organisation)"},
    {"hq_change_admin_submit", "Make administrator", "Zum Administrator machen"},
    {"hq_no_candidates", "No other active user of this organisation can become its administrator.",
     "Kein anderer aktiver Benutzer dieser Organisation kann ihr Administrator werden."},
    {"hq_admin_changed", "The administrator was changed.", "Der Administrator wurde gewechselt."},
    {"hq_back_customers", "Back to the customers", "Zurück zu den Kunden"},
    // Master data: a new organisation, a person of it, edits, limits, hierarchies
    {"hq_new_customer", "New organisation", "Neue Organisation"},
    {"hq_new_customer_title", "New organisation", "Neue Organisation"},
    {"hq_new_customer_text", "A customer created by HQ. Add its people on its page afterwards.",
     "Ein von der Zentrale angelegter Kunde. Die Personen fügen Sie danach auf seiner Seite hinzu."},
    {"hq_create_customer_submit", "Create the organisation", "Organisation anlegen"},
    {"hq_f_details_name", "Name", "Name"},
    {"hq_f_details_address_street", "Street and number", "Straße und Hausnummer"},
    {"hq_f_details_address_postal_code", "Postal code", "Postleitzahl"},
    {"hq_f_details_address_city", "City", "Ort"},
    {"hq_f_details_address_country_code", "Country code (e.g. DE)", "Ländercode (z. B. DE)"},
    {"hq_f_details_phone", "Phone", "Telefon"},
    {"hq_f_details_email", "Email", "E-Mail"},
    {"hq_f_details_website", "Website", "Website"},
    {"hq_f_details_tax_id", "VAT / tax id", "USt-IdNr. / Steuernummer"},
    {"hq_f_details_first_name", "First name", "Vorname"},
    {"hq_f_details_last_name", "Last name", "Nachname"},
    {"hq_f_details_job_title", "Job title", "Funktion"},
    {"hq_f_b2b_admin",
     "B2B administrator: gets a web account and an invitation email, and manages the "
     "organisation's users",
     "B2B-Administrator: erhält ein Webkonto und eine Einladungs-E-Mail und verwaltet die Benutzer der Organisation"},
    {"hq_not_country", "must be a two-letter country code such as DE",
     "muss ein zweibuchstabiger Ländercode wie DE sein"},
    {"hq_not_amount", "must be an amount such as 25000.00", "muss ein Betrag wie 25000.00 sein"},
    {"hq_people", "People", "Personen"},
    {"hq_no_people", "No people yet.", "Noch keine Personen."},
    {"hq_add_person_title", "Add a person", "Person hinzufügen"},
    {"hq_add_person_submit", "Add the person", "Person hinzufügen"},
    {"hq_edit", "Edit", "Bearbeiten"},
    {"hq_edit_title", "Edit", "Bearbeiten"},
    {"hq_edit_submit", "Save", "Speichern"},
    {"hq_limits_title", "Credit limit and payment terms", "Kreditlimit und Zahlungsbedingungen"},
    {"hq_f_credit_limit_minor_units", "Credit limit (e.g. 25000.00)", "Kreditlimit (z. B. 25000.00)"},
    {"hq_f_credit_limit_currency_code", "Currency (e.g. EUR)", "Währung (z. B. EUR)"},
    {"hq_f_payment_terms", "Payment terms (e.g. 30 days net)", "Zahlungsbedingungen (z. B. 30 Tage netto)"},
    {"hq_set_limits_submit", "Set the limits", "Limits festlegen"},
    {"hq_create_hierarchy_title", "Create a hierarchy", "Hierarchie anlegen"},
    {"hq_f_name", "Name of the hierarchy", "Name der Hierarchie"},
    {"hq_create_hierarchy_submit", "Create the hierarchy", "Hierarchie anlegen"},
    {"hq_add_member", "Add member", "Mitglied hinzufügen"},
    {"hq_member_person", "A person of the organisation", "Eine Person der Organisation"},
    {"hq_member_choose", "Choose …", "Auswählen …"},
    {"hq_member_typed", "or a customer id", "oder eine Kundennummer"},
    {"hq_remove_member", "Remove", "Entfernen"},
    {"hq_no_members", "No members.", "Keine Mitglieder."},
    {"hq_done_created", "The organisation was created.", "Die Organisation wurde angelegt."},
    {"hq_done_person", "The person was added.", "Die Person wurde hinzugefügt."},
    {"hq_done_person_admin",
     "The person was added as the organisation's administrator; the invitation email is on its way.",
     "Die Person wurde als Administrator der Organisation hinzugefügt; die Einladungs-E-Mail ist unterwegs."},
    {"hq_done_updated", "The changes were saved.", "Die Änderungen wurden gespeichert."},
    {"hq_done_unchanged", "Nothing was changed.", "Es wurde nichts geändert."},
    {"hq_done_limits", "The limits were set.", "Die Limits wurden festgelegt."},
    {"hq_done_hierarchy", "The hierarchy was created.", "Die Hierarchie wurde angelegt."},
    {"hq_done_added", "The member was added.", "Das Mitglied wurde hinzugefügt."},
    {"hq_done_removed", "The member was removed.", "Das Mitglied wurde entfernt."},
};

constexpr int kPageSize = 25;

// The input the customer's page's template writes out itself (a select of the organisation's users).
constexpr FormInput kNewAdminInput{"new_admin_user_id", "new-admin", "hq_new_admin_user_id"};

// A decision about a prospect: its page (template), title and the input the page writes out.
struct Decision final {
    const char* page;
    const char* title_key;
    FormInput input;
};
constexpr Decision kApprove{
    "hq_approve", "hq_approve_title", {"override_reason", "override-reason", "hq_override_reason"}};
constexpr Decision kReject{"hq_reject", "hq_reject_title", {"reason", "reject-reason", "hq_reason"}};

// An event type without its package: "gatehouse.onboarding.v1.EmailVerified" -> "EmailVerified".
std::string short_event_type(const std::string& event_type) {
    const auto dot = event_type.rfind('.');
    return dot == std::string::npos ? event_type : event_type.substr(dot + 1);
}

int number_param(const Visit& v, const std::string& name) {
    const std::string text = v.param(name);
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size() ? value : 0;
}

// The name a customer is known by: the organisation's name, or the person's first and last name.
std::string display_name(const customers_v1::CustomerDetails& details) {
    if (!details.name().empty()) {
        return details.name();
    }
    return details.first_name() + (details.first_name().empty() ? "" : " ") + details.last_name();
}

std::string prospect_href(const std::string& request_number) {
    return "/office/prospects/view?request=" + url_encode(request_number);
}

std::string customer_href(const std::string& customer_id) {
    return "/office/customers/view?customer=" + url_encode(customer_id);
}

// ---- Master data forms: the inputs are named like the API's fields ----

const std::vector<Field>& organization_fields() {
    static const std::vector<Field> fields = {
        {"details.name", "text", true, "organization"},
        {"details.address.street", "text", false, "street-address"},
        {"details.address.postal_code", "text", false, "postal-code"},
        {"details.address.city", "text", false, "address-level2"},
        {"details.address.country_code", "text", false, "country"},
        {"details.phone", "tel", false, "tel"},
        {"details.email", "email", false, "email"},
        {"details.website", "url", false, "url"},
        {"details.tax_id", "text", false, "off"},
    };
    return fields;
}

const std::vector<Field>& person_fields() {
    static const std::vector<Field> fields = {
        {"details.first_name", "text", true, "off"}, {"details.last_name", "text", true, "off"},
        {"details.email", "email", true, "off"},     {"details.phone", "tel", false, "off"},
        {"details.job_title", "text", false, "off"},
    };
    return fields;
}

const std::vector<Field>& limit_fields() {
    static const std::vector<Field> fields = {
        {"credit_limit.minor_units", "text", true, "off"},
        {"credit_limit.currency_code", "text", true, "off"},
        {"payment_terms", "text", false, "off"},
    };
    return fields;
}

const std::vector<Field>& hierarchy_fields() {
    static const std::vector<Field> fields = {{"name", "text", true, "off"}};
    return fields;
}

const std::vector<Field>& details_fields(customers_v1::CustomerType type) {
    return type == customers_v1::CUSTOMER_TYPE_ORGANIZATION ? organization_fields() : person_fields();
}

// The value of a details input ("details.address.city") in `details`.
std::string detail_value(const customers_v1::CustomerDetails& details, const std::string& name) {
    const auto& address = details.address();
    if (name == "details.name") return details.name();
    if (name == "details.phone") return details.phone();
    if (name == "details.email") return details.email();
    if (name == "details.website") return details.website();
    if (name == "details.tax_id") return details.tax_id();
    if (name == "details.first_name") return details.first_name();
    if (name == "details.last_name") return details.last_name();
    if (name == "details.job_title") return details.job_title();
    if (name == "details.address.street") return address.street();
    if (name == "details.address.postal_code") return address.postal_code();
    if (name == "details.address.city") return address.city();
    if (name == "details.address.country_code") return address.country_code();
    return {};
}

std::string trimmed(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The details of a customer of `type` as its form has them (the country code in capitals).
customers_v1::CustomerDetails details_of(const Visit& v, customers_v1::CustomerType type) {
    customers_v1::CustomerDetails details;
    auto& address = *details.mutable_address();
    const auto field = [&v](const char* name) { return trimmed(v.field(name)); };
    if (type == customers_v1::CUSTOMER_TYPE_ORGANIZATION) {
        details.set_name(field("details.name"));
        address.set_street(field("details.address.street"));
        address.set_postal_code(field("details.address.postal_code"));
        address.set_city(field("details.address.city"));
        std::string country = field("details.address.country_code");
        std::transform(country.begin(), country.end(), country.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        address.set_country_code(country);
        details.set_website(field("details.website"));
        details.set_tax_id(field("details.tax_id"));
    } else {
        details.set_first_name(field("details.first_name"));
        details.set_last_name(field("details.last_name"));
        details.set_job_title(field("details.job_title"));
        details.clear_address();
    }
    details.set_phone(field("details.phone"));
    details.set_email(field("details.email"));
    return details;
}

// The form's values of a customer's details.
std::map<std::string, std::string> values_of(const customers_v1::CustomerDetails& details,
                                             customers_v1::CustomerType type) {
    std::map<std::string, std::string> values;
    for (const auto& field : details_fields(type)) {
        values[field.name] = detail_value(details, field.name);
    }
    return values;
}

// A country code the page checks itself (the customers service keeps the address as given):
// empty or two letters.
bool country_ok(const customers_v1::CustomerDetails& details) {
    const auto& code = details.address().country_code();
    return code.empty() || (code.size() == 2 && std::isupper(static_cast<unsigned char>(code[0])) != 0 &&
                            std::isupper(static_cast<unsigned char>(code[1])) != 0);
}

// Which form of the customer's page a refused submission came from (its errors shown there).
enum class CustomerForm { admin, person, limits, hierarchy, member };

// The notices a customer's page shows after a change (?done=).
constexpr std::array<const char*, 9> kDoneNotices = {"created", "person",    "person_admin", "updated", "unchanged",
                                                     "limits",  "hierarchy", "added",        "removed"};

struct OfficeHq final {
    Site& site;
    std::unique_ptr<onboarding_v1::OnboardingService::Stub> onboarding;
    std::unique_ptr<customers_v1::CustomersService::Stub> customers;

    std::string status_text(const Visit& v, onboarding_v1::RequestStatus status) const {
        return site.text(v, "hq_status_" + std::to_string(static_cast<int>(status)));
    }

    // ---- All prospects ----

    void prospects(Visit& v) {
        onboarding_v1::ListProspectsRequest request;
        const int wanted = number_param(v, "status");
        if (onboarding_v1::RequestStatus_IsValid(wanted)) {
            request.set_status(static_cast<onboarding_v1::RequestStatus>(wanted));
        }
        request.set_text(v.param("text"));
        request.set_page_size(kPageSize);
        request.set_page_token(v.param("page_token"));
        onboarding_v1::ListProspectsResponse response;
        const auto status = onboarding->ListProspects(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok() && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
            site.failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "hq_prospects_title"));
        site.set_errors(v, data, status.ok() ? FormErrors{} : FormErrors{{}, {status.error_message()}}, {});
        mustache::data options = mustache::data::type::list;
        for (int value = onboarding_v1::REQUEST_STATUS_AWAITING_VERIFICATION;
             value <= onboarding_v1::REQUEST_STATUS_CLOSED; ++value) {
            mustache::data option = mustache::data::type::object;
            option.set("value", std::to_string(value));
            option.set("label", status_text(v, static_cast<onboarding_v1::RequestStatus>(value)));
            option.set("selected", value == static_cast<int>(request.status()));
            options.push_back(option);
        }
        data.set("statuses", options);
        data.set("text", request.text());
        mustache::data rows = mustache::data::type::list;
        for (const auto& prospect : response.prospects()) {
            mustache::data row = mustache::data::type::object;
            row.set("request_number", prospect.request_number());
            row.set("href", prospect_href(prospect.request_number()));
            row.set("company", prospect.company_name());
            set_if(row, "country_code", prospect.country_code());
            row.set("contact", prospect.contact_name());
            row.set("email", prospect.contact_email());
            row.set("status", status_text(v, prospect.status()));
            row.set("submitted_at", format_time(prospect.submitted_at()));
            row.set("duplicate", prospect.possible_duplicate());
            rows.push_back(row);
        }
        data.set("prospects", rows);
        data.set("empty", response.prospects().empty());
        data.set("total", std::to_string(response.total()));
        set_pager(data, "/office/prospects",
                  {{"status", std::to_string(static_cast<int>(request.status()))}, {"text", request.text()}},
                  "page_token", response.next_page_token(), request.page_token().empty());
        site.render(v, "hq_prospects", data, status.ok() ? 200 : 422);
    }

    // ---- One prospect ----

    // The prospect, or false after answering.
    bool get_prospect(Visit& v, const std::string& request_number, onboarding_v1::GetProspectResponse& response) {
        onboarding_v1::GetProspectRequest request;
        request.set_request_number(request_number);
        const auto status = onboarding->GetProspect(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return false;
        }
        return true;
    }

    // What every page about one prospect shows: its number, status, company, contact and duplicates.
    mustache::data prospect_data(const Visit& v, const onboarding_v1::GetProspectResponse& prospect) const {
        const auto& summary = prospect.summary();
        const auto& submitted = prospect.request();
        mustache::data data = mustache::data::type::object;
        data.set("request_number", summary.request_number());
        data.set("href", prospect_href(summary.request_number()));
        data.set("status", status_text(v, summary.status()));
        data.set("pending", summary.status() == onboarding_v1::REQUEST_STATUS_PENDING);
        data.set("company", submitted.company().name());
        data.set("street", submitted.company().address().street());
        data.set("postal_code", submitted.company().address().postal_code());
        set_if(data, "city", submitted.company().address().city());
        set_if(data, "region", submitted.company().address().region());
        set_if(data, "country_code", submitted.company().address().country_code());
        data.set("company_phone", submitted.company().phone());
        set_if(data, "website", submitted.company().website());
        set_if(data, "tax_id", submitted.company().tax_id());
        data.set("contact", submitted.contact().first_name() + " " + submitted.contact().last_name());
        set_if(data, "email", submitted.contact().email());
        data.set("contact_phone", submitted.contact().phone());
        set_if(data, "job_title", submitted.contact().job_title());
        set_if(data, "comments", submitted.comments());
        data.set("submitted_at", format_time(submitted.submitted_at()));
        data.set("crm_mode", submitted.approval_mode() == onboarding_v1::APPROVAL_MODE_CRM);
        if (submitted.approval_mode() != onboarding_v1::APPROVAL_MODE_UNSPECIFIED) {
            data.set("approval_mode", site.text(v, "hq_mode_" + std::to_string(submitted.approval_mode())));
        }
        if (!submitted.previous_request_number().empty()) {
            data.set("previous_request", submitted.previous_request_number());
            data.set("previous_href", prospect_href(submitted.previous_request_number()));
        }
        mustache::data duplicates = mustache::data::type::list;
        for (const auto& match : prospect.possible_duplicates()) {
            mustache::data item = mustache::data::type::object;
            item.set("request_number", match.request_number());
            item.set("href", prospect_href(match.request_number()));
            const std::string rule_key = "hq_rule_" + match.rule();
            const std::string rule = site.text(v, rule_key);
            item.set("rule", rule == rule_key ? match.rule() : rule);
            item.set("kind", site.text(v, match.existing_partner() ? "hq_existing_partner" : "hq_other_prospect"));
            duplicates.push_back(item);
        }
        data.set("has_duplicates", !prospect.possible_duplicates().empty());
        data.set("duplicates", duplicates);
        return data;
    }

    // The organisation made from an approved request, if it exists yet (the customers service
    // creates it from the approval event, a moment later): found by the company's name.
    std::string customer_of(const Visit& v, const onboarding_v1::GetProspectResponse& prospect) {
        customers_v1::ListCustomersRequest request;
        request.set_text(prospect.request().company().name());
        request.set_type(customers_v1::CUSTOMER_TYPE_ORGANIZATION);
        request.set_page_size(200);
        customers_v1::ListCustomersResponse response;
        if (!customers->ListCustomers(site.context(v, Caller::staff).get(), request, &response).ok()) {
            return {};
        }
        for (const auto& customer : response.customers()) {
            if (customer.prospect_request_number() == prospect.summary().request_number()) {
                return customer.customer_id();
            }
        }
        return {};
    }

    void prospect(Visit& v) {
        onboarding_v1::GetProspectResponse response;
        if (!get_prospect(v, v.param("request"), response)) {
            return;
        }
        mustache::data data = prospect_data(v, response);
        data.set("title", site.text(v, "hq_prospect_title") + " " + response.summary().request_number());
        if (!response.decided_by().empty()) {
            data.set("decided_by", response.decided_by());
        }
        if (!response.decision_reason().empty()) {
            data.set("decision_reason", response.decision_reason());
        }
        if (response.decision_path() != onboarding_v1::DECISION_PATH_UNSPECIFIED) {
            data.set("decision_path", site.text(v, "hq_path_" + std::to_string(response.decision_path())));
        }
        mustache::data timeline = mustache::data::type::list;
        for (const auto& entry : response.timeline()) {
            mustache::data item = mustache::data::type::object;
            item.set("at", format_time(entry.at()));
            item.set("event_type", short_event_type(entry.event_type()));
            item.set("actor", entry.actor());
            item.set("detail", entry.detail());
            timeline.push_back(item);
        }
        data.set("timeline", timeline);
        const std::string done = v.param("done");
        data.set("approved_notice", done == "approved");
        data.set("rejected_notice", done == "rejected");
        data.set("approve_href",
                 "/office/prospects/approve?request=" + url_encode(response.summary().request_number()));
        data.set("reject_href", "/office/prospects/reject?request=" + url_encode(response.summary().request_number()));
        if (response.summary().status() == onboarding_v1::REQUEST_STATUS_APPROVED) {
            if (const auto customer_id = customer_of(v, response); !customer_id.empty()) {
                data.set("customer_id", customer_id);
                data.set("customer_href", customer_href(customer_id));
            }
        }
        site.render(v, "hq_prospect", data);
    }

    // ---- Approve (a confirmation page, then the call) and reject (a form with the reason) ----

    // The page of a decision about a prospect: the prospect, the decision's input (the override's
    // reason, the rejection's) and its errors.
    void decision_page(Visit& v, const Decision& decision, const std::string& request_number, const FormErrors& errors,
                       int http_status) {
        onboarding_v1::GetProspectResponse response;
        if (!get_prospect(v, request_number, response)) {
            return;
        }
        mustache::data data = prospect_data(v, response);
        data.set("title", site.text(v, decision.title_key));
        site.set_errors(v, data, errors, {decision.input});
        data.set(decision.input.name, v.field(decision.input.name));
        site.render(v, decision.page, data, http_status);
    }

    // A refused decision: its page again with the service's reason.
    Site::ShowForm decision_refused(Visit& v, const Decision& decision, const std::string& request_number) {
        return [this, &v, &decision, request_number](const FormErrors& errors, int http_status) {
            decision_page(v, decision, request_number, errors, http_status);
        };
    }

    void approve_confirm(Visit& v) { decision_page(v, kApprove, v.param("request"), {}, 200); }

    void approve(Visit& v) {
        onboarding_v1::ApproveProspectRequest request;
        request.set_request_number(v.field("request_number"));
        // The confirmation step is the page this form is on.
        request.set_confirmed(true);
        request.set_override_reason(v.field("override_reason"));
        onboarding_v1::ApproveProspectResponse response;
        const auto status = onboarding->ApproveProspect(site.context(v, Caller::staff).get(), request, &response);
        // Approving one's own request: the service's reason on the confirmation page.
        if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
            decision_page(v, kApprove, request.request_number(), FormErrors{{}, {status.error_message()}}, 403);
            return;
        }
        if (!status.ok()) {
            site.form_failed(v, status, {kApprove.input}, decision_refused(v, kApprove, request.request_number()),
                             Refusals::input_and_state);
            return;
        }
        Site::redirect(v, prospect_href(request.request_number()) + "&done=approved");
    }

    void reject_form(Visit& v) { decision_page(v, kReject, v.param("request"), {}, 200); }

    void reject(Visit& v) {
        onboarding_v1::RejectProspectRequest request;
        request.set_request_number(v.field("request_number"));
        request.set_reason(v.field("reason"));
        onboarding_v1::RejectProspectResponse response;
        const auto status = onboarding->RejectProspect(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, {kReject.input}, decision_refused(v, kReject, request.request_number()),
                             Refusals::input_and_state);
            return;
        }
        Site::redirect(v, prospect_href(request.request_number()) + "&done=rejected");
    }

    // ---- Customers ----

    void customer_list(Visit& v) {
        customers_v1::ListCustomersRequest request;
        request.set_text(v.param("text"));
        if (const int type = number_param(v, "type"); customers_v1::CustomerType_IsValid(type)) {
            request.set_type(static_cast<customers_v1::CustomerType>(type));
        }
        if (const int wanted = number_param(v, "status"); customers_v1::CustomerStatus_IsValid(wanted)) {
            request.set_status(static_cast<customers_v1::CustomerStatus>(wanted));
        }
        request.set_page_size(kPageSize);
        request.set_page_token(v.param("page_token"));
        customers_v1::ListCustomersResponse response;
        const auto status = customers->ListCustomers(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok() && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
            site.failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "hq_customers_title"));
        site.set_errors(v, data, status.ok() ? FormErrors{} : FormErrors{{}, {status.error_message()}}, {});
        data.set("text", request.text());
        mustache::data types = mustache::data::type::list;
        for (const int value : {1, 2}) {
            mustache::data option = mustache::data::type::object;
            option.set("value", std::to_string(value));
            option.set("label", site.text(v, "hq_type_" + std::to_string(value)));
            option.set("selected", value == static_cast<int>(request.type()));
            types.push_back(option);
        }
        data.set("types", types);
        mustache::data statuses = mustache::data::type::list;
        for (const int value : {1, 2, 3}) {
            mustache::data option = mustache::data::type::object;
            option.set("value", std::to_string(value));
            option.set("label", site.text(v, "hq_customer_status_" + std::to_string(value)));
            option.set("selected", value == static_cast<int>(request.status()));
            statuses.push_back(option);
        }
        data.set("statuses", statuses);
        mustache::data rows = mustache::data::type::list;
        for (const auto& customer : response.customers()) {
            const auto& details = customer.details();
            mustache::data row = mustache::data::type::object;
            row.set("customer_id", customer.customer_id());
            row.set("href", customer_href(customer.customer_id()));
            row.set("name", display_name(details));
            row.set("type", site.text(v, "hq_type_" + std::to_string(customer.type())));
            row.set("email", details.email());
            row.set("place",
                    details.address().city() +
                        (details.address().country_code().empty() ? "" : ", " + details.address().country_code()));
            row.set("status", site.text(v, "hq_customer_status_" + std::to_string(customer.status())));
            rows.push_back(row);
        }
        data.set("customers", rows);
        data.set("empty", response.customers().empty());
        data.set("total", std::to_string(response.total()));
        set_pager(data, "/office/customers",
                  {{"text", request.text()},
                   {"type", std::to_string(static_cast<int>(request.type()))},
                   {"status", std::to_string(static_cast<int>(request.status()))}},
                  "page_token", response.next_page_token(), request.page_token().empty());
        site.render(v, "hq_customers", data, status.ok() ? 200 : 422);
    }

    // The Person customers of an organisation (its own link), by paging through the persons.
    std::vector<customers_v1::Customer> persons_of(const Visit& v, const std::string& organization_id) {
        std::vector<customers_v1::Customer> persons;
        customers_v1::ListCustomersRequest request;
        request.set_type(customers_v1::CUSTOMER_TYPE_PERSON);
        request.set_page_size(200);
        for (int page = 0; page < 20; ++page) {
            customers_v1::ListCustomersResponse response;
            if (!customers->ListCustomers(site.context(v, Caller::staff).get(), request, &response).ok()) {
                break;
            }
            for (const auto& customer : response.customers()) {
                if (customer.organization_customer_id() == organization_id) {
                    persons.push_back(customer);
                }
            }
            if (response.next_page_token().empty()) {
                break;
            }
            request.set_page_token(response.next_page_token());
        }
        return persons;
    }

    // The organisation's master-data forms: add a person, limits, a new hierarchy, and per
    // hierarchy its members (names, remove, add). A refused form shows its values and errors.
    void set_master_data_forms(const Visit& v, mustache::data& data, const customers_v1::Customer& customer,
                               const customers_v1::ListHierarchiesResponse& hierarchies, const FormErrors& errors,
                               CustomerForm form) {
        static const std::map<std::string, std::string> kNoValues;
        const auto errors_for = [&](CustomerForm which) { return which == form ? errors : FormErrors{}; };
        const auto values_for = [&](CustomerForm which) -> const std::map<std::string, std::string>& {
            return which == form ? v.form : kNoValues;
        };
        data.set("person_form", site.form_data(v, person_fields(), errors_for(CustomerForm::person),
                                               values_for(CustomerForm::person), FormLayout{"add-person", "hq_f_"}));
        data.set("b2b_admin_checked", form == CustomerForm::person && v.field("b2b_admin") == "yes");
        std::map<std::string, std::string> limits = {
            {"credit_limit.minor_units",
             customer.credit_limit().currency_code().empty() ? "" : format_amount(customer.credit_limit())},
            {"credit_limit.currency_code",
             customer.credit_limit().currency_code().empty() ? "EUR" : customer.credit_limit().currency_code()},
            {"payment_terms", customer.payment_terms()},
        };
        data.set("limits_form",
                 site.form_data(v, limit_fields(), errors_for(CustomerForm::limits),
                                form == CustomerForm::limits ? v.form : limits, FormLayout{"set-limits", "hq_f_"}));
        data.set("hierarchy_form",
                 site.form_data(v, hierarchy_fields(), errors_for(CustomerForm::hierarchy),
                                values_for(CustomerForm::hierarchy), FormLayout{"create-hierarchy", "hq_f_"}));

        data.set("org_id", customer.customer_id());
        const auto persons = persons_of(v, customer.customer_id());
        std::map<std::string, std::string> names = {{customer.customer_id(), display_name(customer.details())}};
        mustache::data people = mustache::data::type::list;
        for (const auto& person : persons) {
            names[person.customer_id()] = display_name(person.details());
            mustache::data row = mustache::data::type::object;
            row.set("customer_id", person.customer_id());
            row.set("href", customer_href(person.customer_id()));
            row.set("name", display_name(person.details()));
            row.set("email", person.details().email());
            row.set("job_title", person.details().job_title());
            row.set("administrator", person.b2b_admin());
            people.push_back(row);
        }
        data.set("no_people", people.is_empty_list());
        data.set("people", people);

        mustache::data rows = mustache::data::type::list;
        for (const auto& hierarchy : hierarchies.hierarchies()) {
            const auto& members = hierarchy.member_customer_ids();
            mustache::data row = mustache::data::type::object;
            row.set("name", hierarchy.name());
            row.set("hierarchy_id", hierarchy.hierarchy_id());
            mustache::data member_list = mustache::data::type::list;
            for (const auto& member : members) {
                mustache::data item = mustache::data::type::object;
                item.set("customer_id", member);
                item.set("href", customer_href(member));
                const auto name = names.find(member);
                item.set("name", name == names.end() ? member : name->second);
                member_list.push_back(item);
            }
            row.set("no_members", members.empty());
            row.set("members", member_list);
            mustache::data options = mustache::data::type::list;
            for (const auto& person : persons) {
                if (std::find(members.begin(), members.end(), person.customer_id()) != members.end()) {
                    continue;
                }
                mustache::data option = mustache::data::type::object;
                option.set("value", person.customer_id());
                option.set("label", display_name(person.details()) + " (" + person.customer_id() + ")");
                options.push_back(option);
            }
            row.set("options", options);
            // A refused Add member: its reason on this hierarchy's form.
            const bool refused = form == CustomerForm::member && v.field("hierarchy_id") == hierarchy.hierarchy_id();
            mustache::data lines = mustache::data::type::list;
            if (refused) {
                for (const auto& line : errors.general) {
                    mustache::data item = mustache::data::type::object;
                    item.set("text", line);
                    lines.push_back(item);
                }
                for (const auto& [field, rule] : errors.fields) {
                    mustache::data item = mustache::data::type::object;
                    item.set("text", field + ": " + rule);
                    lines.push_back(item);
                }
            }
            row.set("member_refused", refused && !errors.empty());
            row.set("member_errors", lines);
            row.set("typed_customer_id", refused ? v.field("typed_customer_id") : std::string{});
            rows.push_back(row);
        }
        data.set("no_hierarchies", rows.is_empty_list());
        data.set("hierarchies", rows);
    }

    // The customer, or false after answering.
    bool get_customer(Visit& v, const std::string& customer_id, customers_v1::GetCustomerResponse& response) {
        customers_v1::GetCustomerRequest request;
        request.set_customer_id(customer_id);
        const auto status = customers->GetCustomer(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return false;
        }
        return true;
    }

    void customer_page(Visit& v, const std::string& customer_id, const FormErrors& errors, int http_status,
                       CustomerForm form = CustomerForm::admin) {
        customers_v1::GetCustomerResponse response;
        if (!get_customer(v, customer_id, response)) {
            return;
        }
        const auto& customer = response.customer();
        const auto& details = customer.details();
        const bool organization = customer.type() == customers_v1::CUSTOMER_TYPE_ORGANIZATION;
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "hq_customer_title") + " " + display_name(details));
        data.set("customer_id", customer.customer_id());
        data.set("name", display_name(details));
        data.set("type", site.text(v, "hq_type_" + std::to_string(customer.type())));
        data.set("status", site.text(v, "hq_customer_status_" + std::to_string(customer.status())));
        set_if(data, "email", details.email());
        set_if(data, "phone", details.phone());
        set_if(data, "website", details.website());
        set_if(data, "tax_id", details.tax_id());
        set_if(data, "job_title", details.job_title());
        data.set("street", details.address().street());
        data.set("postal_code", details.address().postal_code());
        set_if(data, "city", details.address().city());
        set_if(data, "region", details.address().region());
        set_if(data, "country_code", details.address().country_code());
        if (customer.source() != customers_v1::CUSTOMER_SOURCE_UNSPECIFIED) {
            data.set("source", site.text(v, "hq_source_" + std::to_string(customer.source())));
        }
        if (customer.partner_status() != customers_v1::PARTNER_STATUS_UNSPECIFIED) {
            data.set("partner_status", site.text(v, "hq_partner_status_" + std::to_string(customer.partner_status())));
        }
        set_if(data, "crm_account_id", customer.crm_account_id());
        set_if(data, "crm_contact_id", customer.crm_contact_id());
        if (!customer.organization_customer_id().empty()) {
            data.set("organization_id", customer.organization_customer_id());
            data.set("organization_href", customer_href(customer.organization_customer_id()));
        }
        if (!customer.prospect_request_number().empty()) {
            data.set("prospect_request", customer.prospect_request_number());
            data.set("prospect_href", prospect_href(customer.prospect_request_number()));
        }
        set_if(data, "credit_limit", format_money(customer.credit_limit()));
        set_if(data, "payment_terms", customer.payment_terms());
        set_if(data, "spending_limit", format_money(customer.spending_limit()));
        mustache::data history = mustache::data::type::list;
        for (const auto& entry : response.history()) {
            mustache::data item = mustache::data::type::object;
            item.set("at", format_time(entry.at()));
            item.set("event_type", short_event_type(entry.event_type()));
            item.set("actor", entry.actor());
            history.push_back(item);
        }
        data.set("history", history);

        // Hierarchies: the organisation's, or for a person those of its organisation it is in.
        const std::string organization_id = organization ? customer.customer_id() : customer.organization_customer_id();
        data.set("with_hierarchies", !organization_id.empty());
        if (!organization_id.empty()) {
            customers_v1::ListHierarchiesRequest hierarchies_request;
            hierarchies_request.set_organization_customer_id(organization_id);
            customers_v1::ListHierarchiesResponse hierarchies;
            if (const auto listed =
                    customers->ListHierarchies(site.context(v, Caller::staff).get(), hierarchies_request, &hierarchies);
                !listed.ok()) {
                site.failed(v, listed);
                return;
            }
            if (organization) {
                set_master_data_forms(v, data, customer, hierarchies, errors, form);
            } else {
                mustache::data rows = mustache::data::type::list;
                for (const auto& hierarchy : hierarchies.hierarchies()) {
                    const auto& members = hierarchy.member_customer_ids();
                    if (std::find(members.begin(), members.end(), customer.customer_id()) == members.end()) {
                        continue;
                    }
                    mustache::data row = mustache::data::type::object;
                    row.set("name", hierarchy.name());
                    row.set("hierarchy_id", hierarchy.hierarchy_id());
                    mustache::data member_list = mustache::data::type::list;
                    for (const auto& member : members) {
                        mustache::data item = mustache::data::type::object;
                        item.set("customer_id", member);
                        item.set("name", member);
                        item.set("href", customer_href(member));
                        member_list.push_back(item);
                    }
                    row.set("no_members", members.empty());
                    row.set("members", member_list);
                    rows.push_back(row);
                }
                data.set("no_hierarchies", rows.is_empty_list());
                data.set("hierarchies", rows);
            }
        }

        // Partner users and the administrator: an organisation's.
        data.set("organization", organization);
        if (organization) {
            customers_v1::ListPartnerUsersRequest users_request;
            users_request.set_organization_customer_id(customer.customer_id());
            customers_v1::ListPartnerUsersResponse users;
            if (const auto listed =
                    customers->ListPartnerUsers(site.context(v, Caller::staff).get(), users_request, &users);
                !listed.ok()) {
                site.failed(v, listed);
                return;
            }
            mustache::data rows = mustache::data::type::list;
            mustache::data candidates = mustache::data::type::list;
            for (const auto& user : users.users()) {
                const std::string name = user.first_name() + " " + user.last_name();
                mustache::data row = mustache::data::type::object;
                row.set("user_id", user.user_id());
                row.set("name", name);
                row.set("email", user.email());
                row.set("job_title", user.job_title());
                row.set("customer_href", customer_href(user.customer_id()));
                row.set("status", site.text(v, "hq_user_status_" + std::to_string(user.status())));
                row.set("administrator", user.administrator());
                row.set("password_set", user.password_set());
                rows.push_back(row);
                if (user.administrator()) {
                    data.set("administrator_name", name);
                    data.set("administrator_email", user.email());
                } else if (user.status() == customers_v1::PARTNER_USER_STATUS_ACTIVE) {
                    mustache::data option = mustache::data::type::object;
                    option.set("user_id", user.user_id());
                    option.set("label", name + " (" + user.email() + ")");
                    option.set("selected", v.field("new_admin_user_id") == user.user_id());
                    candidates.push_back(option);
                }
            }
            data.set("no_users", rows.is_empty_list());
            data.set("users", rows);
            data.set("has_candidates", !candidates.is_empty_list());
            data.set("candidates", candidates);
            data.set("admin_changed", v.param("done") == "admin");
        }
        const std::string done = v.param("done");
        if (std::find(kDoneNotices.begin(), kDoneNotices.end(), done) != kDoneNotices.end()) {
            data.set("notice", site.text(v, "hq_done_" + done));
        }
        data.set("edit_href", "/office/customers/edit?customer=" + url_encode(customer.customer_id()));
        site.set_errors(v, data, form == CustomerForm::admin ? errors : FormErrors{}, {kNewAdminInput});
        site.render(v, "hq_customer", data, http_status);
    }

    void customer(Visit& v) { customer_page(v, v.param("customer"), {}, 200); }

    // A refused form of the customer's page: the page again, with the form's errors and values.
    Site::ShowForm customer_form(Visit& v, const std::string& customer_id, CustomerForm form) {
        return [this, &v, customer_id, form](const FormErrors& errors, int http_status) {
            customer_page(v, customer_id, errors, http_status, form);
        };
    }

    void change_administrator(Visit& v) {
        customers_v1::ChangeAdministratorRequest request;
        request.set_organization_customer_id(v.field("organization_customer_id"));
        request.set_new_admin_user_id(v.field("new_admin_user_id"));
        customers_v1::ChangeAdministratorResponse response;
        const auto status = customers->ChangeAdministrator(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, {kNewAdminInput},
                             customer_form(v, request.organization_customer_id(), CustomerForm::admin),
                             Refusals::input_and_state);
            return;
        }
        Site::redirect(v, customer_href(request.organization_customer_id()) + "&done=admin");
    }
    // ---- Master data: a new organisation ----

    void new_customer_page(Visit& v, const FormErrors& errors, int http_status) {
        mustache::data data =
            site.form_data(v, organization_fields(), errors, v.form, FormLayout{"new-customer", "hq_f_"});
        data.set("title", site.text(v, "hq_new_customer_title"));
        site.render(v, "hq_new_customer", data, http_status);
    }

    void new_customer(Visit& v) { new_customer_page(v, {}, 200); }

    void create_customer(Visit& v) {
        customers_v1::CreateCustomerRequest request;
        request.set_type(customers_v1::CUSTOMER_TYPE_ORGANIZATION);
        *request.mutable_details() = details_of(v, request.type());
        if (!country_ok(request.details())) {
            new_customer_page(v, FormErrors{{{"details.address.country_code", site.text(v, "hq_not_country")}}, {}},
                              422);
            return;
        }
        customers_v1::CreateCustomerResponse response;
        const auto status = customers->CreateCustomer(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, organization_fields(), [&](const FormErrors& errors, int http_status) {
                new_customer_page(v, errors, http_status);
            });
            return;
        }
        Site::redirect(v, customer_href(response.customer().customer_id()) + "&done=created");
    }

    // ---- Master data: a person of an organisation ----

    void add_person(Visit& v) {
        customers_v1::CreateCustomerRequest request;
        request.set_type(customers_v1::CUSTOMER_TYPE_PERSON);
        *request.mutable_details() = details_of(v, request.type());
        request.set_organization_customer_id(v.field("organization_customer_id"));
        request.set_b2b_admin(v.field("b2b_admin") == "yes");
        customers_v1::CreateCustomerResponse response;
        const auto status = customers->CreateCustomer(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, person_fields(),
                             customer_form(v, request.organization_customer_id(), CustomerForm::person),
                             Refusals::input_and_state);
            return;
        }
        Site::redirect(v, customer_href(request.organization_customer_id()) +
                              (request.b2b_admin() ? "&done=person_admin" : "&done=person"));
    }

    // ---- Master data: edit a customer's details ----

    void edit_page(Visit& v, const customers_v1::Customer& customer, const std::map<std::string, std::string>& values,
                   const FormErrors& errors, int http_status) {
        mustache::data data =
            site.form_data(v, details_fields(customer.type()), errors, values, FormLayout{"edit-customer", "hq_f_"});
        data.set("title", site.text(v, "hq_edit_title") + " " + display_name(customer.details()));
        data.set("customer_id", customer.customer_id());
        data.set("href", customer_href(customer.customer_id()));
        site.render(v, "hq_edit_customer", data, http_status);
    }

    void edit_customer(Visit& v) {
        customers_v1::GetCustomerResponse found;
        if (!get_customer(v, v.param("customer"), found)) {
            return;
        }
        const auto& customer = found.customer();
        edit_page(v, customer, values_of(customer.details(), customer.type()), {}, 200);
    }

    void update_customer(Visit& v) {
        customers_v1::GetCustomerResponse found;
        if (!get_customer(v, v.field("customer_id"), found)) {
            return;
        }
        const auto& customer = found.customer();
        customers_v1::UpdateCustomerRequest request;
        request.set_customer_id(customer.customer_id());
        *request.mutable_details() = details_of(v, customer.type());
        if (!country_ok(request.details())) {
            edit_page(v, customer, v.form,
                      FormErrors{{{"details.address.country_code", site.text(v, "hq_not_country")}}, {}}, 422);
            return;
        }
        // Only the fields whose value changed (an address as a whole).
        for (const auto& field : details_fields(customer.type())) {
            if (detail_value(request.details(), field.name) == detail_value(customer.details(), field.name)) {
                continue;
            }
            std::string api_field = field.name.substr(std::string("details.").size());
            if (api_field.rfind("address.", 0) == 0) {
                api_field = "address";
            }
            if (std::find(request.fields().begin(), request.fields().end(), api_field) == request.fields().end()) {
                request.add_fields(api_field);
            }
        }
        if (request.fields().empty()) {
            Site::redirect(v, customer_href(customer.customer_id()) + "&done=unchanged");
            return;
        }
        customers_v1::UpdateCustomerResponse response;
        const auto status = customers->UpdateCustomer(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(
                v, status, details_fields(customer.type()),
                [&](const FormErrors& errors, int http_status) { edit_page(v, customer, v.form, errors, http_status); },
                Refusals::input_and_state);
            return;
        }
        Site::redirect(v, customer_href(customer.customer_id()) + "&done=updated");
    }

    // ---- Master data: credit limit and payment terms ----

    void set_limits(Visit& v) {
        customers_v1::SetLimitsRequest request;
        request.set_customer_id(v.field("organization_customer_id"));
        const auto amount = parse_amount(v.field("credit_limit.minor_units"));
        if (!amount) {
            customer_page(v, request.customer_id(),
                          FormErrors{{{"credit_limit.minor_units", site.text(v, "hq_not_amount")}}, {}}, 422,
                          CustomerForm::limits);
            return;
        }
        std::string currency = trimmed(v.field("credit_limit.currency_code"));
        std::transform(currency.begin(), currency.end(), currency.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        request.mutable_credit_limit()->set_minor_units(*amount);
        request.mutable_credit_limit()->set_currency_code(currency);
        request.set_payment_terms(trimmed(v.field("payment_terms")));
        customers_v1::SetLimitsResponse response;
        const auto status = customers->SetLimits(site.context(v, Caller::staff).get(), request, &response);
        if (const auto http_status = Site::shown_on_form(status, Refusals::input_and_state)) {
            FormErrors errors = Site::errors_of(status, limit_fields());
            // "credit_limit: currency_code must be ..." names the money, not one of its inputs.
            const std::string money_prefix = "credit_limit: ";
            if (status.error_message().rfind(money_prefix, 0) == 0) {
                const std::string rule = status.error_message().substr(money_prefix.size());
                errors = FormErrors{{{rule.find("currency") != std::string::npos ? "credit_limit.currency_code"
                                                                                 : "credit_limit.minor_units",
                                      rule}},
                                    {}};
            }
            customer_page(v, request.customer_id(), errors, *http_status, CustomerForm::limits);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, customer_href(request.customer_id()) + "&done=limits");
    }

    // ---- Master data: hierarchies ----

    void create_hierarchy(Visit& v) {
        customers_v1::CreateHierarchyRequest request;
        request.set_organization_customer_id(v.field("organization_customer_id"));
        request.set_name(trimmed(v.field("name")));
        customers_v1::CreateHierarchyResponse response;
        const auto status = customers->CreateHierarchy(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.form_failed(v, status, hierarchy_fields(),
                             customer_form(v, request.organization_customer_id(), CustomerForm::hierarchy),
                             Refusals::input_and_state);
            return;
        }
        Site::redirect(v, customer_href(request.organization_customer_id()) + "&done=hierarchy");
    }

    void change_member(Visit& v) {
        const std::string organization_id = v.field("organization_customer_id");
        customers_v1::ChangeHierarchyMemberRequest request;
        request.set_hierarchy_id(v.field("hierarchy_id"));
        request.set_add(v.field("add") == "yes");
        request.set_customer_id(v.field("customer_id"));
        if (request.customer_id().empty()) {
            request.set_customer_id(trimmed(v.field("typed_customer_id")));
        }
        customers_v1::ChangeHierarchyMemberResponse response;
        const auto status = customers->ChangeHierarchyMember(site.context(v, Caller::staff).get(), request, &response);
        auto http_status = Site::shown_on_form(status, Refusals::input_and_state);
        // A customer id that names no customer is the form's mistake too.
        if (status.error_code() == grpc::StatusCode::NOT_FOUND &&
            status.error_message().rfind("customer_id:", 0) == 0) {
            http_status = 422;
        }
        if (http_status) {
            customer_page(v, organization_id, FormErrors{{}, {status.error_message()}}, *http_status,
                          CustomerForm::member);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, customer_href(organization_id) + (request.add() ? "&done=added" : "&done=removed"));
    }
};

}  // namespace

void add_office_hq(Site& site) {
    // Every page of this desk is for HQ only (Site checks it before the handler runs).
    const Site::Roles desk_roles = {"hq"};
    site.add_texts(kTexts);
    site.add_partials({"hq_fields", "hq_form_summary"});
    site.add_templates({"hq_prospects", "hq_prospect", "hq_approve", "hq_reject", "hq_customers", "hq_customer",
                        "hq_new_customer", "hq_edit_customer"});
    auto pages =
        std::make_shared<OfficeHq>(OfficeHq{site, onboarding_v1::OnboardingService::NewStub(site.channels().onboarding),
                                            customers_v1::CustomersService::NewStub(site.channels().customers)});
    site.get("/office/prospects", pages, &OfficeHq::prospects, desk_roles);
    site.get("/office/prospects/view", pages, &OfficeHq::prospect, desk_roles);
    site.get("/office/prospects/approve", pages, &OfficeHq::approve_confirm, desk_roles);
    site.post("/office/prospects/approve", pages, &OfficeHq::approve, desk_roles);
    site.get("/office/prospects/reject", pages, &OfficeHq::reject_form, desk_roles);
    site.post("/office/prospects/reject", pages, &OfficeHq::reject, desk_roles);
    site.get("/office/customers", pages, &OfficeHq::customer_list, desk_roles);
    site.get("/office/customers/view", pages, &OfficeHq::customer, desk_roles);
    site.post("/office/customers/administrator", pages, &OfficeHq::change_administrator, desk_roles);
    site.get("/office/customers/new", pages, &OfficeHq::new_customer, desk_roles);
    site.post("/office/customers/new", pages, &OfficeHq::create_customer, desk_roles);
    site.post("/office/customers/person", pages, &OfficeHq::add_person, desk_roles);
    site.get("/office/customers/edit", pages, &OfficeHq::edit_customer, desk_roles);
    site.post("/office/customers/edit", pages, &OfficeHq::update_customer, desk_roles);
    site.post("/office/customers/limits", pages, &OfficeHq::set_limits, desk_roles);
    site.post("/office/customers/hierarchies", pages, &OfficeHq::create_hierarchy, desk_roles);
    site.post("/office/customers/hierarchies/members", pages, &OfficeHq::change_member, desk_roles);
}

}  // namespace gatehouse::web
