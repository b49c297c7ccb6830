// The back office's sales desk: the lead views ("All commerce B2B leads", "My open leads"), one lead
// with its timeline and what can be done with it (assign, qualify, disqualify, notes,
// appointments), the opportunities and one opportunity (stage and estimated value, win with a
// confirmation, lose with a reason), and the account and contact a qualified lead made, whose
// replicated fields (name, address, phone...) are edited here and reach commerce's customers
// (docs/replication.md). Every call goes to the sales-bridge on the signed-in member's
// behalf: the service decides who may change what, and its answers become the pages' answers.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "gatehouse/sales/v1/sales_service.grpc.pb.h"
#include "page_values.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace sv = gatehouse::sales::v1;
using google::protobuf::util::TimeUtil;

constexpr Text kTexts[] = {
    // The lists.
    {"sales_opportunities_all", "All opportunities", "Alle Verkaufschancen"},
    {"sales_opportunities_mine", "My open opportunities", "Meine offenen Verkaufschancen"},
    {"sales_lead", "Lead", "Lead"},
    {"sales_opportunity", "Opportunity", "Verkaufschance"},
    {"sales_company", "Company", "Firma"},
    {"sales_contact", "Contact", "Kontakt"},
    {"sales_owner", "Owner", "Zuständig"},
    {"sales_created", "Created", "Erstellt"},
    {"sales_unassigned", "Unassigned", "Nicht zugewiesen"},
    {"sales_no_leads", "No leads here.", "Hier sind keine Leads."},
    {"sales_no_opportunities", "No opportunities here.", "Hier sind keine Verkaufschancen."},
    {"sales_total", "In all:", "Insgesamt:"},
    {"sales_next_page", "Next page", "Nächste Seite"},
    {"sales_first_page", "First page", "Erste Seite"},
    {"sales_search", "Company or email contains", "Firma oder E-Mail enthält"},
    {"sales_any_status", "Any status", "Jeder Status"},
    {"sales_filter", "Show", "Anzeigen"},
    {"sales_lead_status_0", "-", "-"},
    {"sales_lead_status_1", "Open", "Offen"},
    {"sales_lead_status_2", "Qualified", "Qualifiziert"},
    {"sales_lead_status_3", "Disqualified", "Disqualifiziert"},
    {"sales_opportunity_status_0", "-", "-"},
    {"sales_opportunity_status_1", "Open", "Offen"},
    {"sales_opportunity_status_2", "Won", "Gewonnen"},
    {"sales_opportunity_status_3", "Lost", "Verloren"},
    {"sales_stage_0", "Qualify", "Qualifizieren"},
    {"sales_stage_1", "Qualify", "Qualifizieren"},
    {"sales_stage_2", "Develop", "Entwickeln"},
    {"sales_stage_3", "Propose", "Angebot"},
    {"sales_stage_4", "Close", "Abschluss"},
    // One lead.
    {"sales_topic", "Topic", "Thema"},
    {"sales_origin", "Origin", "Herkunft"},
    {"sales_request", "Onboarding request", "Onboarding-Anfrage"},
    {"sales_comments", "Comments", "Anmerkungen"},
    {"sales_account", "Account", "Firmenkonto"},
    {"sales_decided_by", "Decided by", "Entschieden von"},
    {"sales_reason", "Reason", "Grund"},
    {"sales_decided_by_hq", "HQ decided this onboarding request: the CRM can no longer change it.",
     "Die Zentrale hat über diese Onboarding-Anfrage entschieden: Im CRM lässt sie sich nicht mehr ändern."},
    {"sales_timeline", "Timeline", "Verlauf"},
    {"sales_when", "When", "Wann"},
    {"sales_who", "Who", "Wer"},
    {"sales_what", "What", "Was"},
    // The lead's actions.
    {"sales_assign_title", "Assign", "Zuweisen"},
    {"sales_assign_text", "Give the lead an owner.", "Dem Lead eine zuständige Person geben."},
    {"sales_assign_to_me", "Assign to me", "Mir zuweisen"},
    {"sales_assign_submit", "Assign", "Zuweisen"},
    {"sales_qualify_title", "Qualify", "Qualifizieren"},
    {"sales_qualify_text", "Creates the opportunity, the account (the company) and the contact (the requester).",
     "Legt die Verkaufschance, das Firmenkonto (die Firma) und den Kontakt (die anfragende Person) an."},
    {"sales_qualify_submit", "Qualify", "Qualifizieren"},
    {"sales_disqualify_title", "Disqualify", "Disqualifizieren"},
    {"sales_disqualify_text", "The onboarding request is rejected; the prospect's decline quotes the reason.",
     "Die Onboarding-Anfrage wird abgelehnt; die Absage an den Interessenten nennt den Grund."},
    {"sales_disqualify_submit", "Disqualify", "Disqualifizieren"},
    {"sales_note_title", "Add a note", "Notiz hinzufügen"},
    {"sales_note_submit", "Add note", "Notiz hinzufügen"},
    {"sales_schedule_title", "Schedule an appointment", "Termin vereinbaren"},
    {"sales_schedule_text", "The attendees get an invitation. Times are UTC.",
     "Die Teilnehmenden erhalten eine Einladung. Zeiten in UTC."},
    {"sales_schedule_submit", "Schedule", "Termin vereinbaren"},
    {"sales_change_title", "Reschedule or cancel an appointment", "Termin verschieben oder absagen"},
    {"sales_change_text", "The appointment id is shown when the appointment is scheduled. Times are UTC.",
     "Die Termin-ID wird beim Vereinbaren des Termins angezeigt. Zeiten in UTC."},
    {"sales_reschedule_submit", "Reschedule", "Verschieben"},
    {"sales_cancel_appointment_submit", "Cancel the appointment", "Termin absagen"},
    // The opportunity.
    {"sales_stage", "Sales stage", "Verkaufsphase"},
    {"sales_estimated_value", "Estimated value", "Geschätzter Wert"},
    {"sales_estimated_close_date", "Estimated close date", "Voraussichtlicher Abschluss"},
    {"sales_closed_by", "Closed by", "Abgeschlossen von"},
    {"sales_update_title", "Stage and estimated value", "Phase und geschätzter Wert"},
    {"sales_update_submit", "Save", "Speichern"},
    {"sales_win", "Win", "Gewinnen"},
    {"sales_win_title", "Close this opportunity as won?", "Diese Verkaufschance als gewonnen abschließen?"},
    {"sales_win_text",
     "The onboarding request is approved: the partner's customers are created and the requester gets an email to "
     "set a password. This cannot be undone.",
     "Die Onboarding-Anfrage wird genehmigt: Die Kunden des Partners werden angelegt und die anfragende Person "
     "erhält eine E-Mail zum Festlegen des Passworts. Das lässt sich nicht rückgängig machen."},
    {"sales_win_submit", "Yes, close as won", "Ja, als gewonnen abschließen"},
    {"sales_lose_title", "Lose", "Verlieren"},
    {"sales_lose_text", "The onboarding request is rejected; the prospect's decline quotes the reason.",
     "Die Onboarding-Anfrage wird abgelehnt; die Absage an den Interessenten nennt den Grund."},
    {"sales_lose_submit", "Close as lost", "Als verloren abschließen"},
    // The inputs' labels: sales_f_ and the API field's name.
    {"sales_f_owner_user_id", "Sales user id", "Benutzer-ID im Vertrieb"},
    {"sales_f_estimated_value_minor_units", "Estimated value (e.g. 25000.00)", "Geschätzter Wert (z. B. 25000.00)"},
    {"sales_f_estimated_value_currency_code", "Currency (ISO 4217, e.g. EUR)", "Währung (ISO 4217, z. B. EUR)"},
    {"sales_f_estimated_close_date", "Estimated close date", "Voraussichtlicher Abschluss"},
    {"sales_f_reason", "Reason", "Grund"},
    {"sales_f_text", "Note", "Notiz"},
    {"sales_f_subject", "Subject", "Betreff"},
    {"sales_f_starts_at", "Starts (UTC)", "Beginn (UTC)"},
    {"sales_f_ends_at", "Ends (UTC)", "Ende (UTC)"},
    {"sales_f_attendees", "Attendees (email addresses, separated by commas)",
     "Teilnehmende (E-Mail-Adressen, durch Kommas getrennt)"},
    {"sales_f_online_meeting_url", "Online meeting link (https://)", "Link zum Online-Meeting (https://)"},
    {"sales_f_appointment_id", "Appointment id", "Termin-ID"},
    {"sales_f_stage", "Sales stage", "Verkaufsphase"},
    // What a POST did (the page after the 303).
    {"sales_notice_assigned", "The lead is assigned.", "Der Lead ist zugewiesen."},
    {"sales_notice_qualified", "The lead is qualified: its opportunity is open.",
     "Der Lead ist qualifiziert: Seine Verkaufschance ist offen."},
    {"sales_notice_disqualified", "The lead is disqualified: the onboarding request is rejected.",
     "Der Lead ist disqualifiziert: Die Onboarding-Anfrage wird abgelehnt."},
    {"sales_notice_note", "The note was added.", "Die Notiz wurde hinzugefügt."},
    {"sales_notice_scheduled", "The appointment was scheduled; the attendees get an invitation. Appointment id:",
     "Der Termin wurde vereinbart; die Teilnehmenden erhalten eine Einladung. Termin-ID:"},
    {"sales_notice_rescheduled", "The appointment was moved; the attendees get an updated invitation.",
     "Der Termin wurde verschoben; die Teilnehmenden erhalten eine aktualisierte Einladung."},
    {"sales_notice_unmoved", "Nothing changed: the appointment already has these times.",
     "Nichts geändert: Der Termin hat bereits diese Zeiten."},
    {"sales_notice_cancelled", "The appointment was cancelled; the attendees are told.",
     "Der Termin wurde abgesagt; die Teilnehmenden werden benachrichtigt."},
    {"sales_notice_uncancelled", "Nothing changed: the appointment was already cancelled.",
     "Nichts geändert: Der Termin war bereits abgesagt."},
    {"sales_notice_updated", "The opportunity was updated.", "Die Verkaufschance wurde aktualisiert."},
    {"sales_notice_unchanged", "Nothing changed: the opportunity already had these values.",
     "Nichts geändert: Die Verkaufschance hatte bereits diese Werte."},
    {"sales_notice_won", "The opportunity is won: the onboarding request is approved.",
     "Die Verkaufschance ist gewonnen: Die Onboarding-Anfrage wird genehmigt."},
    {"sales_notice_lost", "The opportunity is lost: the onboarding request is rejected.",
     "Die Verkaufschance ist verloren: Die Onboarding-Anfrage wird abgelehnt."},
    // Accounts and contacts (replicated with commerce's customers).
    {"sales_contact_title", "Contact", "Kontakt"},
    {"sales_account_details", "Company data", "Firmendaten"},
    {"sales_contact_details", "Contact data", "Kontaktdaten"},
    {"sales_replicated_hint", "Changes here reach commerce's customer master (and changes there reach the CRM).",
     "Änderungen hier erreichen die Kundenstammdaten im Commerce (und Änderungen dort das CRM)."},
    {"sales_customer_id", "Customer in commerce", "Kunde im Commerce"},
    {"sales_primary_contact", "Primary contact", "Hauptkontakt"},
    {"sales_region", "Region", "Region"},
    {"sales_edit_account", "Edit the account", "Firmenkonto bearbeiten"},
    {"sales_edit_account_title", "Edit account", "Firmenkonto bearbeiten"},
    {"sales_edit_contact", "Edit the contact", "Kontakt bearbeiten"},
    {"sales_edit_contact_title", "Edit contact", "Kontakt bearbeiten"},
    {"sales_save", "Save", "Speichern"},
    {"sales_back", "Back", "Zurück"},
    {"sales_f_account_name", "Company name", "Firmenname"},
    {"sales_f_account_phone", "Phone", "Telefon"},
    {"sales_f_account_website", "Website", "Website"},
    {"sales_f_account_tax_id", "Tax id (VAT)", "Steuernummer (USt-IdNr.)"},
    {"sales_f_account_address_street", "Street and number", "Straße und Hausnummer"},
    {"sales_f_account_address_postal_code", "Postal code", "Postleitzahl"},
    {"sales_f_account_address_city", "City", "Ort"},
    {"sales_f_account_address_region", "Region", "Region"},
    {"sales_f_account_address_country_code", "Country (ISO code, e.g. DE)", "Land (ISO-Code, z. B. DE)"},
    {"sales_f_contact_first_name", "First name", "Vorname"},
    {"sales_f_contact_last_name", "Last name", "Nachname"},
    {"sales_f_contact_email", "Email", "E-Mail"},
    {"sales_f_contact_phone", "Phone", "Telefon"},
    {"sales_f_contact_job_title", "Job title", "Position"},
    {"sales_notice_account_updated", "The account was saved; commerce gets the change.",
     "Das Firmenkonto wurde gespeichert; der Commerce erhält die Änderung."},
    {"sales_notice_contact_updated", "The contact was saved; commerce gets the change.",
     "Der Kontakt wurde gespeichert; der Commerce erhält die Änderung."},
    {"sales_notice_record_unchanged", "Nothing changed: the values were already these.",
     "Nichts geändert: Die Werte waren bereits so."},
    {"sales_not_amount", "must be an amount such as 25000 or 25000.50", "muss ein Betrag wie 25000 oder 25000.50 sein"},
    {"sales_not_time", "must be a date and time", "muss ein Datum mit Uhrzeit sein"},
};

// The notices a page shows after a POST (?done=...), each sales_notice_<name>.
const std::set<std::string>& notices() {
    static const std::set<std::string> names = {
        "assigned",    "qualified",       "disqualified",    "note",
        "scheduled",   "rescheduled",     "unmoved",         "cancelled",
        "uncancelled", "updated",         "unchanged",       "won",
        "lost",        "account_updated", "contact_updated", "record_unchanged"};
    return names;
}

// ---- the forms, their inputs named as the API's fields ----
const std::vector<Field>& assign_fields() {
    static const std::vector<Field> fields = {{"owner_user_id", "text", true, "off"}};
    return fields;
}
const std::vector<Field>& qualify_fields() {
    static const std::vector<Field> fields = {{"estimated_value.minor_units", "text", true, "off"},
                                              {"estimated_value.currency_code", "text", true, "off"},
                                              {"estimated_close_date", "date", true, "off"}};
    return fields;
}
const std::vector<Field>& reason_fields() {
    static const std::vector<Field> fields = {{"reason", "textarea", true, "off"}};
    return fields;
}
const std::vector<Field>& note_fields() {
    static const std::vector<Field> fields = {{"text", "textarea", true, "off"}};
    return fields;
}
const std::vector<Field>& schedule_fields() {
    static const std::vector<Field> fields = {{"subject", "text", true, "off"},
                                              {"starts_at", "datetime-local", true, "off"},
                                              {"ends_at", "datetime-local", true, "off"},
                                              {"attendees", "text", false, "off"},
                                              {"online_meeting_url", "url", false, "off"}};
    return fields;
}
const std::vector<Field>& reschedule_fields() {
    static const std::vector<Field> fields = {{"appointment_id", "text", true, "off"},
                                              {"starts_at", "datetime-local", true, "off"},
                                              {"ends_at", "datetime-local", true, "off"}};
    return fields;
}
const std::vector<Field>& cancel_fields() {
    static const std::vector<Field> fields = {{"appointment_id", "text", true, "off"},
                                              {"reason", "text", false, "off"}};
    return fields;
}
const std::vector<Field>& update_fields() {
    static const std::vector<Field> fields = {{"stage", "select", true, "off"},
                                              {"estimated_value.minor_units", "text", false, "off"},
                                              {"estimated_value.currency_code", "text", false, "off"}};
    return fields;
}

// The replicated fields of an account and a contact, named as the API's (its errors name them so).
const std::vector<Field>& account_fields() {
    static const std::vector<Field> fields = {{"account.name", "text", true, "organization"},
                                              {"account.phone", "tel", false, "tel"},
                                              {"account.website", "url", false, "url"},
                                              {"account.tax_id", "text", false, "off"},
                                              {"account.address.street", "text", false, "street-address"},
                                              {"account.address.postal_code", "text", false, "postal-code"},
                                              {"account.address.city", "text", false, "address-level2"},
                                              {"account.address.region", "text", false, "address-level1"},
                                              {"account.address.country_code", "text", false, "country"}};
    return fields;
}
const std::vector<Field>& contact_fields() {
    static const std::vector<Field> fields = {{"contact.first_name", "text", true, "given-name"},
                                              {"contact.last_name", "text", true, "family-name"},
                                              {"contact.email", "email", true, "email"},
                                              {"contact.phone", "tel", false, "tel"},
                                              {"contact.job_title", "text", false, "organization-title"}};
    return fields;
}

std::map<std::string, std::string> account_values(const sv::Account& a) {
    return {{"account.name", a.name()},
            {"account.phone", a.phone()},
            {"account.website", a.website()},
            {"account.tax_id", a.tax_id()},
            {"account.address.street", a.address().street()},
            {"account.address.postal_code", a.address().postal_code()},
            {"account.address.city", a.address().city()},
            {"account.address.region", a.address().region()},
            {"account.address.country_code", a.address().country_code()}};
}

std::map<std::string, std::string> contact_values(const sv::Contact& c) {
    return {{"contact.first_name", c.first_name()},
            {"contact.last_name", c.last_name()},
            {"contact.email", c.email()},
            {"contact.phone", c.phone()},
            {"contact.job_title", c.job_title()}};
}

std::string account_href(const std::string& account_id) {
    return "/office/accounts/view?account=" + url_encode(account_id);
}

std::string contact_href(const std::string& contact_id) {
    return "/office/contacts/view?contact=" + url_encode(contact_id);
}

// An account or a contact as its pages show it: its id, the name its titles carry, what its page
// shows and its replicated fields' values as the edit form names them ("account.address.city").
struct Record final {
    std::string id;
    std::string name;
    mustache::data view = mustache::data::type::object;
    std::map<std::string, std::string> values;
};

grpc::Status load_account(sv::SalesService::Stub& sales, grpc::ClientContext& context, const std::string& id,
                          Record& record) {
    sv::GetAccountRequest request;
    request.set_account_id(id);
    sv::GetAccountResponse response;
    auto status = sales.GetAccount(&context, request, &response);
    if (!status.ok()) {
        return status;
    }
    const auto& a = response.account();
    record.id = a.account_id();
    record.name = a.name();
    record.values = account_values(a);
    auto& data = record.view;
    data.set("account_id", a.account_id());
    data.set("name", a.name());
    data.set("street", a.address().street());
    data.set("postal_code", a.address().postal_code());
    data.set("city", a.address().city());
    set_if(data, "region", a.address().region());
    data.set("country_code", a.address().country_code());
    set_if(data, "phone", a.phone());
    set_if(data, "website", a.website());
    set_if(data, "tax_id", a.tax_id());
    set_if(data, "request_number", a.prospect_request_number());
    set_if(data, "customer_id", a.customer_id());
    if (!a.opportunity_id().empty()) {
        data.set("opportunity_id", a.opportunity_id());
        data.set("opportunity_href", "/office/opportunities/view?opportunity=" + url_encode(a.opportunity_id()));
    }
    if (!a.primary_contact_id().empty()) {
        data.set("contact_id", a.primary_contact_id());
        data.set("contact_href", contact_href(a.primary_contact_id()));
    }
    return status;
}

grpc::Status load_contact(sv::SalesService::Stub& sales, grpc::ClientContext& context, const std::string& id,
                          Record& record) {
    sv::GetContactRequest request;
    request.set_contact_id(id);
    sv::GetContactResponse response;
    auto status = sales.GetContact(&context, request, &response);
    if (!status.ok()) {
        return status;
    }
    const auto& c = response.contact();
    record.id = c.contact_id();
    record.name = c.first_name() + " " + c.last_name();
    record.values = contact_values(c);
    auto& data = record.view;
    data.set("contact_id", c.contact_id());
    data.set("name", record.name);
    data.set("email", c.email());
    set_if(data, "phone", c.phone());
    set_if(data, "job_title", c.job_title());
    set_if(data, "request_number", c.prospect_request_number());
    set_if(data, "customer_id", c.customer_id());
    if (!c.account_id().empty()) {
        data.set("account_id", c.account_id());
        data.set("account_href", account_href(c.account_id()));
    }
    return status;
}

// Sends the form's values with the API names of those that changed; `saved` tells whether the
// service changed anything.
grpc::Status save_account(sv::SalesService::Stub& sales, grpc::ClientContext& context, const Visit& v,
                          const std::string& id, const std::vector<std::string>& changed, bool& saved) {
    sv::UpdateAccountRequest request;
    request.set_account_id(id);
    auto* values = request.mutable_account();
    values->set_name(v.field("account.name"));
    values->set_phone(v.field("account.phone"));
    values->set_website(v.field("account.website"));
    values->set_tax_id(v.field("account.tax_id"));
    auto* address = values->mutable_address();
    address->set_street(v.field("account.address.street"));
    address->set_postal_code(v.field("account.address.postal_code"));
    address->set_city(v.field("account.address.city"));
    address->set_region(v.field("account.address.region"));
    address->set_country_code(v.field("account.address.country_code"));
    for (const auto& field : changed) {
        request.add_changed_fields(field);
    }
    sv::UpdateAccountResponse response;
    auto status = sales.UpdateAccount(&context, request, &response);
    saved = !response.changed_fields().empty();
    return status;
}

grpc::Status save_contact(sv::SalesService::Stub& sales, grpc::ClientContext& context, const Visit& v,
                          const std::string& id, const std::vector<std::string>& changed, bool& saved) {
    sv::UpdateContactRequest request;
    request.set_contact_id(id);
    auto* values = request.mutable_contact();
    values->set_first_name(v.field("contact.first_name"));
    values->set_last_name(v.field("contact.last_name"));
    values->set_email(v.field("contact.email"));
    values->set_phone(v.field("contact.phone"));
    values->set_job_title(v.field("contact.job_title"));
    for (const auto& field : changed) {
        request.add_changed_fields(field);
    }
    sv::UpdateContactResponse response;
    auto status = sales.UpdateContact(&context, request, &response);
    saved = !response.changed_fields().empty();
    return status;
}

// What differs between the account's pages and the contact's (view, edit form, save): the names,
// the replicated fields and the calls, whose messages are of different types.
struct RecordKind final {
    const char* name;       // "account": the edit form's name and its inputs' prefix, the ?account= parameter
    const char* title_key;  // the view's title
    const char* edit_path;
    std::string (*href)(const std::string& id);  // the view
    const std::vector<Field>& (*fields)();
    grpc::Status (*load)(sv::SalesService::Stub& sales, grpc::ClientContext& context, const std::string& id,
                         Record& record);
    grpc::Status (*save)(sv::SalesService::Stub& sales, grpc::ClientContext& context, const Visit& v,
                         const std::string& id, const std::vector<std::string>& changed, bool& saved);
};
constexpr RecordKind kAccount{"account",    "sales_account", "/office/accounts/edit", account_href, account_fields,
                              load_account, save_account};
constexpr RecordKind kContact{"contact",    "sales_contact_title", "/office/contacts/edit",
                              contact_href, contact_fields,        load_contact,
                              save_contact};

// The API names of the replicated fields the form changed; an address is sent whole ("address").
std::vector<std::string> changed_fields(const Visit& v, const RecordKind& kind,
                                        const std::map<std::string, std::string>& before) {
    const std::string prefix = std::string(kind.name) + ".";
    std::vector<std::string> changed;
    bool address_changed = false;
    for (const auto& [name, old_value] : before) {
        if (v.field(name) == old_value) {
            continue;
        }
        const std::string field = name.substr(prefix.size());
        if (field.starts_with("address.")) {
            address_changed = true;
        } else {
            changed.push_back(field);
        }
    }
    if (address_changed) {
        changed.emplace_back("address");
    }
    return changed;
}

// A form that failed on its input: which one, and its errors (the page shows it again, 422).
struct Failed final {
    std::string form;
    FormErrors errors;
};

// The value of a datetime-local input ("YYYY-MM-DDTHH:MM") for a time, in UTC.
std::string local_input(std::chrono::system_clock::time_point at, const char* format = "%Y-%m-%dT%H:%M") {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    const auto size = std::strftime(text.data(), text.size(), format, &utc);
    return {text.data(), size};
}

// A datetime-local input's value (UTC; "T" or a space, seconds optional, "Z" optional) as a
// timestamp; nullopt when it is not one.
std::optional<google::protobuf::Timestamp> parse_time(std::string text) {
    if (text.size() >= 11 && text[10] == ' ') {
        text[10] = 'T';
    }
    if (!text.empty() && text.back() == 'Z') {
        text.pop_back();
    }
    if (text.size() == 16) {
        text += ":00";
    }
    google::protobuf::Timestamp stamp;
    if (text.size() != 19 || !TimeUtil::FromString(text + "Z", &stamp)) {
        return std::nullopt;
    }
    return stamp;
}

std::vector<std::string> attendees_of(const std::string& text) {
    std::vector<std::string> attendees;
    std::string current;
    for (const char c : text + ",") {
        if (c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            if (!current.empty()) {
                attendees.push_back(current);
            }
            current.clear();
        } else {
            current += c;
        }
    }
    return attendees;
}

mustache::data timeline_of(const google::protobuf::RepeatedPtrField<sv::TimelineEntry>& timeline) {
    mustache::data rows = mustache::data::type::list;
    for (const auto& entry : timeline) {
        mustache::data row = mustache::data::type::object;
        row.set("when", format_time(entry.at()));
        row.set("datetime", TimeUtil::ToString(entry.at()));
        row.set("actor", entry.actor());
        row.set("detail", entry.detail());
        rows.push_back(row);
    }
    return rows;
}

struct SalesDesk final {
    Site& site;
    std::unique_ptr<sv::SalesService::Stub> sales;

    // ---- forms ----

    // A form's inputs (ids prefixed with the form's, as one page has several forms), their
    // values, errors and the summary; the form failed when `failed` names it.
    mustache::data form(const Visit& v, const std::string& name, const std::vector<Field>& fields,
                        const std::optional<Failed>& failed, const std::map<std::string, std::string>& defaults) const {
        const bool this_one = failed && failed->form == name;
        mustache::data data = site.form_data(v, fields, this_one ? failed->errors : FormErrors{},
                                             this_one ? v.form : defaults, FormLayout{name, "sales_f_"});
        data.set("idempotency_key", new_csrf_token());
        return data;
    }

    void render(Visit& v, const std::string& page, mustache::data data, int status = 200) {
        data.set("manager", v.staff->role == "sales-manager");
        if (const auto done = v.param("done"); notices().contains(done)) {
            data.set("notice", site.text(v, "sales_notice_" + done));
            if (done == "scheduled") {
                set_if(data, "notice_appointment", v.param("appointment"));
            }
        }
        site.render(v, page, data, status);
    }

    // The answer to a form's POST that the service refused (Site::form_failed): the page again
    // with the form's errors (show(v, failed) renders it), as one page holds several forms.
    template <class Show>
    void refused(Visit& v, const grpc::Status& status, const std::string& form_name, const std::vector<Field>& fields,
                 Show show) {
        site.form_failed(v, status, fields, [&](const FormErrors& errors, int) { show(v, Failed{form_name, errors}); });
    }

    // ---- the lead views ----

    void leads(Visit& v) {
        const bool mine = v.param("mine") == "1";
        sv::ListLeadsRequest request;
        request.set_view(mine ? sv::LEAD_VIEW_MY_OPEN : sv::LEAD_VIEW_ALL_COMMERCE_B2B);
        request.set_page_size(25);
        request.set_page_token(v.param("page"));
        const std::string status_filter = v.param("status");
        const std::string text_filter = v.param("text");
        if (!mine) {
            request.set_text(text_filter);
            if (sv::LeadStatus wanted{}; !status_filter.empty() && sv::LeadStatus_Parse(status_filter, &wanted)) {
                request.set_status(wanted);
            }
        }
        sv::ListLeadsResponse response;
        const auto status = sales->ListLeads(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, mine ? "nav_my_leads" : "nav_leads"));
        data.set("mine", mine);
        data.set("text", text_filter);
        mustache::data statuses = mustache::data::type::list;
        for (const auto value : {sv::LEAD_STATUS_OPEN, sv::LEAD_STATUS_QUALIFIED, sv::LEAD_STATUS_DISQUALIFIED}) {
            mustache::data option = mustache::data::type::object;
            option.set("value", sv::LeadStatus_Name(value));
            option.set("label", site.text(v, "sales_lead_status_" + std::to_string(static_cast<int>(value))));
            option.set("selected", status_filter == sv::LeadStatus_Name(value));
            statuses.push_back(option);
        }
        data.set("statuses", statuses);
        mustache::data rows = mustache::data::type::list;
        for (const auto& lead : response.leads()) {
            mustache::data row = mustache::data::type::object;
            row.set("lead_id", lead.lead_id());
            row.set("href", "/office/leads/view?lead=" + url_encode(lead.lead_id()));
            row.set("company", lead.company_name());
            row.set("contact_name", lead.contact_name());
            row.set("contact_email", lead.contact_email());
            row.set("status", site.text(v, "sales_lead_status_" + std::to_string(static_cast<int>(lead.status()))));
            row.set("owner", lead.owner_user_id());
            row.set("assigned", !lead.owner_user_id().empty());
            row.set("created",
                    format_time(lead.created_at()).substr(0, 10));  // the date: the page's width is a phone's
            rows.push_back(row);
        }
        data.set("leads", rows);
        data.set("empty", response.leads().empty());
        data.set("total", std::to_string(response.total()));
        QueryParams filter;
        if (mine) {
            filter.emplace_back("mine", "1");
        }
        if (!mine && !text_filter.empty()) {
            filter.emplace_back("text", text_filter);
        }
        if (!mine && !status_filter.empty()) {
            filter.emplace_back("status", status_filter);
        }
        set_pager(data, "/office/leads", filter, "page", response.next_page_token(), v.param("page").empty());
        render(v, "sales_leads", data);
    }

    // ---- one lead ----

    void lead(Visit& v) { show_lead(v, v.param("lead"), std::nullopt); }

    void show_lead(Visit& v, const std::string& lead_id, const std::optional<Failed>& failed) {
        sv::GetLeadRequest request;
        request.set_lead_id(lead_id);
        sv::GetLeadResponse response;
        const auto status = sales->GetLead(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const auto& summary = response.summary();
        const auto& lead = response.lead();
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "sales_lead") + " " + summary.lead_id());
        data.set("lead_id", summary.lead_id());
        data.set("topic", summary.topic());
        data.set("status", site.text(v, "sales_lead_status_" + std::to_string(static_cast<int>(summary.status()))));
        data.set("origin", summary.origin());
        data.set("request_number", summary.prospect_request_number());
        data.set("created", format_time(summary.created_at()));
        data.set("owner", summary.owner_user_id());
        data.set("assigned", !summary.owner_user_id().empty());
        set_if(data, "owner_email", response.owner_email());
        data.set("company", lead.company_name());
        data.set("street", lead.company_address().street());
        data.set("postal_code", lead.company_address().postal_code());
        data.set("city", lead.company_address().city());
        data.set("country_code", lead.company_address().country_code());
        set_if(data, "company_phone", lead.company_phone());
        set_if(data, "website", lead.company_website());
        set_if(data, "tax_id", lead.company_tax_id());
        data.set("contact_name", lead.contact().first_name() + " " + lead.contact().last_name());
        data.set("contact_email", lead.contact().email());
        set_if(data, "contact_phone", lead.contact().phone());
        set_if(data, "job_title", lead.contact().job_title());
        set_if(data, "comments", lead.comments());
        if (!summary.opportunity_id().empty()) {
            data.set("opportunity_id", summary.opportunity_id());
            data.set("opportunity_href",
                     "/office/opportunities/view?opportunity=" + url_encode(summary.opportunity_id()));
            data.set("account_id", response.account_id());
            if (!response.account_id().empty()) {
                data.set("account_href", account_href(response.account_id()));
            }
            if (!response.contact_id().empty()) {
                data.set("contact_id", response.contact_id());
                data.set("contact_href", contact_href(response.contact_id()));
            }
        }
        set_if(data, "decided_by", response.decided_by());
        set_if(data, "decision_reason", response.decision_reason());
        data.set("decided_by_hq", response.decided_by_hq());
        data.set("timeline", timeline_of(response.timeline()));
        const bool open = summary.status() == sv::LEAD_STATUS_OPEN && !response.decided_by_hq();
        data.set("open", open);
        data.set("regarding", "lead_id");
        data.set("record_id", summary.lead_id());
        data.set("staff_user_id", v.staff->user_id);
        // A sales user may take a lead that is not theirs (the service refuses one another user
        // owns); a manager assigns any lead to anyone.
        data.set("show_assign", v.staff->role == "sales-manager" || summary.owner_user_id() != v.staff->user_id);
        const auto now = std::chrono::system_clock::now();
        const auto tomorrow = std::chrono::floor<std::chrono::days>(now) + std::chrono::days(1);
        const std::string appointment = v.param("appointment");
        set_if(data, "appointment_id", appointment);
        data.set("assign", form(v, "assign", assign_fields(), failed, {{"owner_user_id", v.staff->user_id}}));
        data.set("qualify", form(v, "qualify", qualify_fields(), failed,
                                 {{"estimated_value.currency_code", "EUR"},
                                  {"estimated_close_date", local_input(now + std::chrono::days(30), "%Y-%m-%d")}}));
        data.set("disqualify", form(v, "disqualify", reason_fields(), failed, {}));
        add_timeline_forms(v, data, failed, appointment, tomorrow);
        render(v, "sales_lead", data, failed ? 422 : 200);
    }

    // The note and appointment forms a lead and an opportunity share.
    void add_timeline_forms(const Visit& v, mustache::data& data, const std::optional<Failed>& failed,
                            const std::string& appointment, std::chrono::system_clock::time_point tomorrow) const {
        const auto start = tomorrow + std::chrono::hours(10);
        data.set("note", form(v, "note", note_fields(), failed, {}));
        data.set("schedule",
                 form(v, "schedule", schedule_fields(), failed,
                      {{"starts_at", local_input(start)}, {"ends_at", local_input(start + std::chrono::minutes(30))}}));
        data.set("reschedule",
                 form(v, "reschedule", reschedule_fields(), failed,
                      {{"appointment_id", appointment},
                       {"starts_at", local_input(start + std::chrono::days(1))},
                       {"ends_at", local_input(start + std::chrono::days(1) + std::chrono::minutes(30))}}));
        data.set("cancel", form(v, "cancel-appointment", cancel_fields(), failed, {{"appointment_id", appointment}}));
    }

    static std::string lead_page(const std::string& lead_id, const std::string& done) {
        return "/office/leads/view?lead=" + url_encode(lead_id) + "&done=" + done;
    }

    void assign(Visit& v) {
        sv::AssignLeadRequest request;
        request.set_lead_id(v.field("lead_id"));
        // "Assign to me" unless another user is named (a manager's choice; the service decides who
        // may hand a lead to whom).
        const std::string owner = v.field("owner_user_id");
        request.set_owner_user_id(owner.empty() ? v.staff->user_id : owner);
        sv::AssignLeadResponse response;
        const auto status = sales->AssignLead(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "assign", assign_fields(),
                    [this](Visit& visit, const Failed& failed) { show_lead(visit, visit.field("lead_id"), failed); });
            return;
        }
        Site::redirect(v, lead_page(request.lead_id(), "assigned"));
    }

    void qualify(Visit& v) {
        const auto show = [this](Visit& visit, const Failed& failed) {
            show_lead(visit, visit.field("lead_id"), failed);
        };
        sv::QualifyLeadRequest request;
        request.set_lead_id(v.field("lead_id"));
        const auto amount = parse_amount(v.field("estimated_value.minor_units"));
        if (!amount) {
            show(v, Failed{"qualify",
                           FormErrors{{{"estimated_value.minor_units", site.text(v, "sales_not_amount")}}, {}}});
            return;
        }
        request.mutable_estimated_value()->set_minor_units(*amount);
        request.mutable_estimated_value()->set_currency_code(v.field("estimated_value.currency_code"));
        request.set_estimated_close_date(v.field("estimated_close_date"));
        sv::QualifyLeadResponse response;
        const auto status = sales->QualifyLead(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "qualify", qualify_fields(), show);
            return;
        }
        Site::redirect(v, lead_page(request.lead_id(), "qualified"));
    }

    void disqualify(Visit& v) {
        sv::DisqualifyLeadRequest request;
        request.set_lead_id(v.field("lead_id"));
        request.set_reason(v.field("reason"));
        sv::DisqualifyLeadResponse response;
        const auto status = sales->DisqualifyLead(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "disqualify", reason_fields(),
                    [this](Visit& visit, const Failed& failed) { show_lead(visit, visit.field("lead_id"), failed); });
            return;
        }
        Site::redirect(v, lead_page(request.lead_id(), "disqualified"));
    }

    // ---- notes and appointments, on a lead (lead_id) or an opportunity (opportunity_id) ----

    // The page of the record the form was on, shown again with the failed form.
    void show_record(Visit& v, const Failed& failed) {
        if (!v.field("opportunity_id").empty()) {
            show_opportunity(v, v.field("opportunity_id"), failed);
        } else {
            show_lead(v, v.field("lead_id"), failed);
        }
    }

    static std::string record_page(const Visit& v, const std::string& done) {
        if (!v.field("opportunity_id").empty()) {
            return "/office/opportunities/view?opportunity=" + url_encode(v.field("opportunity_id")) + "&done=" + done;
        }
        return lead_page(v.field("lead_id"), done);
    }

    template <class Request>
    static void regarding(const Visit& v, Request& request) {
        request.set_lead_id(v.field("lead_id"));
        request.set_opportunity_id(v.field("opportunity_id"));
    }

    void add_note(Visit& v) {
        sv::AddNoteRequest request;
        regarding(v, request);
        request.set_text(v.field("text"));
        request.set_idempotency_key(v.field("idempotency_key"));
        sv::AddNoteResponse response;
        const auto status = sales->AddNote(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "note", note_fields(),
                    [this](Visit& visit, const Failed& failed) { show_record(visit, failed); });
            return;
        }
        Site::redirect(v, record_page(v, "note"));
    }

    // Both times of an appointment form, or the form's errors.
    std::optional<FormErrors> times(const Visit& v, google::protobuf::Timestamp& starts,
                                    google::protobuf::Timestamp& ends) const {
        FormErrors errors;
        for (const auto& [name, stamp] : {std::pair{"starts_at", &starts}, std::pair{"ends_at", &ends}}) {
            const std::string text = v.field(name);
            if (text.empty()) {
                continue;  // the service says it is required
            }
            if (const auto parsed = parse_time(text)) {
                *stamp = *parsed;
            } else {
                errors.fields[name] = site.text(v, "sales_not_time");
            }
        }
        if (errors.empty()) {
            return std::nullopt;
        }
        return errors;
    }

    void schedule(Visit& v) {
        sv::ScheduleAppointmentRequest request;
        regarding(v, request);
        if (auto errors = times(v, *request.mutable_starts_at(), *request.mutable_ends_at())) {
            show_record(v, Failed{"schedule", *errors});
            return;
        }
        request.set_subject(v.field("subject"));
        for (const auto& attendee : attendees_of(v.field("attendees"))) {
            request.add_attendees(attendee);
        }
        request.set_online_meeting_url(v.field("online_meeting_url"));
        request.set_idempotency_key(v.field("idempotency_key"));
        sv::ScheduleAppointmentResponse response;
        const auto status = sales->ScheduleAppointment(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "schedule", schedule_fields(),
                    [this](Visit& visit, const Failed& failed) { show_record(visit, failed); });
            return;
        }
        Site::redirect(v, record_page(v, "scheduled") + "&appointment=" + url_encode(response.appointment_id()));
    }

    void reschedule(Visit& v) {
        sv::RescheduleAppointmentRequest request;
        regarding(v, request);
        request.set_appointment_id(v.field("appointment_id"));
        if (auto errors = times(v, *request.mutable_starts_at(), *request.mutable_ends_at())) {
            show_record(v, Failed{"reschedule", *errors});
            return;
        }
        sv::RescheduleAppointmentResponse response;
        const auto status = sales->RescheduleAppointment(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "reschedule", reschedule_fields(),
                    [this](Visit& visit, const Failed& failed) { show_record(visit, failed); });
            return;
        }
        Site::redirect(v, record_page(v, response.changed() ? "rescheduled" : "unmoved") +
                              "&appointment=" + url_encode(request.appointment_id()));
    }

    void cancel_appointment(Visit& v) {
        sv::CancelAppointmentRequest request;
        regarding(v, request);
        request.set_appointment_id(v.field("appointment_id"));
        request.set_reason(v.field("reason"));
        sv::CancelAppointmentResponse response;
        const auto status = sales->CancelAppointment(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "cancel-appointment", cancel_fields(),
                    [this](Visit& visit, const Failed& failed) { show_record(visit, failed); });
            return;
        }
        Site::redirect(v, record_page(v, response.changed() ? "cancelled" : "uncancelled"));
    }

    // ---- opportunities ----

    void opportunities(Visit& v) {
        const bool mine = v.param("mine") == "1";
        sv::ListOpportunitiesRequest request;
        request.set_mine(mine);
        if (mine) {
            request.set_status(sv::OPPORTUNITY_STATUS_OPEN);
        }
        request.set_page_size(25);
        request.set_page_token(v.param("page"));
        sv::ListOpportunitiesResponse response;
        const auto status = sales->ListOpportunities(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, mine ? "sales_opportunities_mine" : "sales_opportunities_all"));
        data.set("mine", mine);
        mustache::data rows = mustache::data::type::list;
        for (const auto& o : response.opportunities()) {
            mustache::data row = mustache::data::type::object;
            row.set("opportunity_id", o.opportunity_id());
            row.set("href", "/office/opportunities/view?opportunity=" + url_encode(o.opportunity_id()));
            row.set("company", o.company_name());
            row.set("stage", site.text(v, "sales_stage_" + std::to_string(static_cast<int>(o.stage()))));
            row.set("status", site.text(v, "sales_opportunity_status_" + std::to_string(static_cast<int>(o.status()))));
            row.set("estimated_value", format_money(o.estimated_value()));
            row.set("close_date", o.estimated_close_date());
            row.set("owner", o.owner_user_id());
            row.set("created", format_time(o.created_at()).substr(0, 10));
            rows.push_back(row);
        }
        data.set("opportunities", rows);
        data.set("empty", response.opportunities().empty());
        data.set("total", std::to_string(response.total()));
        set_pager(data, "/office/opportunities", mine ? QueryParams{{"mine", "1"}} : QueryParams{}, "page",
                  response.next_page_token(), v.param("page").empty());
        render(v, "sales_opportunities", data);
    }

    void opportunity(Visit& v) { show_opportunity(v, v.param("opportunity"), std::nullopt); }

    void show_opportunity(Visit& v, const std::string& opportunity_id, const std::optional<Failed>& failed) {
        sv::GetOpportunityRequest request;
        request.set_opportunity_id(opportunity_id);
        sv::GetOpportunityResponse response;
        const auto status = sales->GetOpportunity(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const auto& o = response.summary();
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "sales_opportunity") + " " + o.opportunity_id());
        data.set("opportunity_id", o.opportunity_id());
        data.set("topic", o.topic());
        data.set("company", o.company_name());
        data.set("status", site.text(v, "sales_opportunity_status_" + std::to_string(static_cast<int>(o.status()))));
        data.set("stage", site.text(v, "sales_stage_" + std::to_string(static_cast<int>(o.stage()))));
        data.set("estimated_value", format_money(o.estimated_value()));
        data.set("close_date", o.estimated_close_date());
        data.set("owner", o.owner_user_id());
        data.set("created", format_time(o.created_at()));
        data.set("request_number", o.prospect_request_number());
        data.set("lead_id", o.lead_id());
        data.set("lead_href", "/office/leads/view?lead=" + url_encode(o.lead_id()));
        data.set("account_id", o.account_id());
        if (!o.account_id().empty()) {
            data.set("account_href", account_href(o.account_id()));
        }
        if (!o.contact_id().empty()) {
            data.set("contact_id", o.contact_id());
            data.set("contact_href", contact_href(o.contact_id()));
        }
        set_if(data, "closed_by", response.closed_by());
        set_if(data, "close_reason", response.close_reason());
        data.set("decided_by_hq", response.decided_by_hq());
        data.set("timeline", timeline_of(response.timeline()));
        const bool open = o.status() == sv::OPPORTUNITY_STATUS_OPEN && !response.decided_by_hq();
        data.set("open", open);
        data.set("regarding", "opportunity_id");
        data.set("record_id", o.opportunity_id());
        data.set("win_href", "/office/opportunities/win?opportunity=" + url_encode(o.opportunity_id()));
        // The stage select: the current one chosen (or the one the failed form asked for).
        const auto current = o.stage() == sv::OPPORTUNITY_STAGE_UNSPECIFIED ? sv::OPPORTUNITY_STAGE_QUALIFY : o.stage();
        const std::string chosen =
            failed && failed->form == "update" ? v.field("stage") : sv::OpportunityStage_Name(current);
        mustache::data stages = mustache::data::type::list;
        for (const auto stage : {sv::OPPORTUNITY_STAGE_QUALIFY, sv::OPPORTUNITY_STAGE_DEVELOP,
                                 sv::OPPORTUNITY_STAGE_PROPOSE, sv::OPPORTUNITY_STAGE_CLOSE}) {
            mustache::data option = mustache::data::type::object;
            option.set("value", sv::OpportunityStage_Name(stage));
            option.set("label", site.text(v, "sales_stage_" + std::to_string(static_cast<int>(stage))));
            option.set("selected", chosen == sv::OpportunityStage_Name(stage));
            stages.push_back(option);
        }
        data.set("stages", stages);
        auto update = form(v, "update", update_fields(), failed,
                           {{"estimated_value.minor_units", format_amount(o.estimated_value())},
                            {"estimated_value.currency_code", o.estimated_value().currency_code()}});
        data.set("update", update);
        data.set("lose", form(v, "lose", reason_fields(), failed, {}));
        const std::string appointment = v.param("appointment");
        set_if(data, "appointment_id", appointment);
        const auto tomorrow =
            std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(1);
        add_timeline_forms(v, data, failed, appointment, tomorrow);
        render(v, "sales_opportunity", data, failed ? 422 : 200);
    }

    static std::string opportunity_page(const std::string& opportunity_id, const std::string& done) {
        return "/office/opportunities/view?opportunity=" + url_encode(opportunity_id) + "&done=" + done;
    }

    void update(Visit& v) {
        const auto show = [this](Visit& visit, const Failed& failed) {
            show_opportunity(visit, visit.field("opportunity_id"), failed);
        };
        sv::UpdateOpportunityRequest request;
        request.set_opportunity_id(v.field("opportunity_id"));
        sv::OpportunityStage stage{};
        if (sv::OpportunityStage_Parse(v.field("stage"), &stage)) {
            request.set_stage(stage);
        }
        if (const std::string text = v.field("estimated_value.minor_units"); !text.empty()) {
            const auto amount = parse_amount(text);
            if (!amount) {
                show(v, Failed{"update",
                               FormErrors{{{"estimated_value.minor_units", site.text(v, "sales_not_amount")}}, {}}});
                return;
            }
            request.mutable_estimated_value()->set_minor_units(*amount);
            request.mutable_estimated_value()->set_currency_code(v.field("estimated_value.currency_code"));
        }
        sv::UpdateOpportunityResponse response;
        const auto status = sales->UpdateOpportunity(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "update", update_fields(), show);
            return;
        }
        Site::redirect(
            v, opportunity_page(request.opportunity_id(), response.changed_fields().empty() ? "unchanged" : "updated"));
    }

    void win_page(Visit& v) {
        sv::GetOpportunityRequest request;
        request.set_opportunity_id(v.param("opportunity"));
        sv::GetOpportunityResponse response;
        const auto status = sales->GetOpportunity(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const auto& o = response.summary();
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "sales_win_title"));
        data.set("opportunity_id", o.opportunity_id());
        data.set("company", o.company_name());
        data.set("topic", o.topic());
        data.set("estimated_value", format_money(o.estimated_value()));
        data.set("request_number", o.prospect_request_number());
        data.set("back_href", "/office/opportunities/view?opportunity=" + url_encode(o.opportunity_id()));
        render(v, "sales_win", data);
    }

    void win(Visit& v) {
        sv::WinOpportunityRequest request;
        request.set_opportunity_id(v.field("opportunity_id"));
        sv::WinOpportunityResponse response;
        const auto status = sales->WinOpportunity(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        Site::redirect(v, opportunity_page(request.opportunity_id(), "won"));
    }

    void lose(Visit& v) {
        sv::LoseOpportunityRequest request;
        request.set_opportunity_id(v.field("opportunity_id"));
        request.set_reason(v.field("reason"));
        sv::LoseOpportunityResponse response;
        const auto status = sales->LoseOpportunity(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            refused(v, status, "lose", reason_fields(), [this](Visit& visit, const Failed& failed) {
                show_opportunity(visit, visit.field("opportunity_id"), failed);
            });
            return;
        }
        Site::redirect(v, opportunity_page(request.opportunity_id(), "lost"));
    }

    // ---- accounts and contacts: the replicated fields, edited here, reach commerce ----

    // A record's page: what load() found, under its name.
    void record_page(Visit& v, const RecordKind& kind) {
        Record record;
        if (const auto status = kind.load(*sales, *site.context(v, Caller::staff), v.param(kind.name), record);
            !status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        record.view.set("title", site.text(v, kind.title_key) + " " + record.name);
        record.view.set("edit_href", std::string(kind.edit_path) + "?" + kind.name + "=" + url_encode(record.id));
        render(v, std::string("sales_") + kind.name, record.view);
    }

    // A record's edit form: its replicated fields with their values, or the refused form's.
    void show_edit(Visit& v, const RecordKind& kind, const std::string& id, const std::optional<Failed>& failed) {
        Record record;
        if (const auto status = kind.load(*sales, *site.context(v, Caller::staff), id, record); !status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const std::string name = kind.name;
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "sales_edit_" + name + "_title") + " " + record.name);
        data.set("kind", name);
        data.set("action", std::string(kind.edit_path));
        data.set("id_name", name + "_id");
        data.set("id_value", record.id);
        data.set("back_href", kind.href(record.id));
        data.set("edit", form(v, name, kind.fields(), failed, record.values));
        render(v, "sales_edit", data, failed ? 422 : 200);
    }

    // The edit form's POST. Only what the user changed is sent (the service stamps it now:
    // changed_at): a field left as it was keeps its stamp, so a newer change from commerce to it
    // is not overwritten.
    void save_record(Visit& v, const RecordKind& kind) {
        const std::string id_name = std::string(kind.name) + "_id";
        const std::string id = v.field(id_name);
        Record current;
        if (const auto status = kind.load(*sales, *site.context(v, Caller::staff), id, current); !status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const auto changed = changed_fields(v, kind, current.values);
        if (changed.empty()) {
            Site::redirect(v, kind.href(id) + "&done=record_unchanged");
            return;
        }
        bool saved = false;
        const auto status = kind.save(*sales, *site.context(v, Caller::staff), v, id, changed, saved);
        if (!status.ok()) {
            refused(v, status, kind.name, kind.fields(), [this, &kind, id_name](Visit& visit, const Failed& failed) {
                show_edit(visit, kind, visit.field(id_name), failed);
            });
            return;
        }
        Site::redirect(v,
                       kind.href(id) + "&done=" + (saved ? std::string(kind.name) + "_updated" : "record_unchanged"));
    }

    void account(Visit& v) { record_page(v, kAccount); }
    void account_edit_page(Visit& v) { show_edit(v, kAccount, v.param("account"), std::nullopt); }
    void account_edit(Visit& v) { save_record(v, kAccount); }
    void contact(Visit& v) { record_page(v, kContact); }
    void contact_edit_page(Visit& v) { show_edit(v, kContact, v.param("contact"), std::nullopt); }
    void contact_edit(Visit& v) { save_record(v, kContact); }
};

}  // namespace

void add_office_sales(Site& site) {
    // Every page of this desk is for sales users and their managers only (Site checks it before the handler runs).
    const Site::Roles desk_roles = {"sales", "sales-manager"};
    site.add_texts(kTexts);
    // Included by the pages ({{>name}}): a form's error summary and inputs, the notes and
    // appointments of a record with its timeline, the links between the views.
    site.add_partials(
        {"sales_summary", "sales_fields", "sales_inputs", "sales_records", "sales_timeline", "sales_views"});
    site.add_templates({"sales_leads", "sales_lead", "sales_opportunities", "sales_opportunity", "sales_win",
                        "sales_account", "sales_contact", "sales_edit"});
    auto pages = std::make_shared<SalesDesk>(SalesDesk{site, sv::SalesService::NewStub(site.channels().sales)});
    site.get("/office/leads", pages, &SalesDesk::leads, desk_roles);
    site.get("/office/leads/view", pages, &SalesDesk::lead, desk_roles);
    site.post("/office/leads/assign", pages, &SalesDesk::assign, desk_roles);
    site.post("/office/leads/qualify", pages, &SalesDesk::qualify, desk_roles);
    site.post("/office/leads/disqualify", pages, &SalesDesk::disqualify, desk_roles);
    site.post("/office/notes", pages, &SalesDesk::add_note, desk_roles);
    site.post("/office/appointments/schedule", pages, &SalesDesk::schedule, desk_roles);
    site.post("/office/appointments/reschedule", pages, &SalesDesk::reschedule, desk_roles);
    site.post("/office/appointments/cancel", pages, &SalesDesk::cancel_appointment, desk_roles);
    site.get("/office/opportunities", pages, &SalesDesk::opportunities, desk_roles);
    site.get("/office/opportunities/view", pages, &SalesDesk::opportunity, desk_roles);
    site.post("/office/opportunities/update", pages, &SalesDesk::update, desk_roles);
    site.get("/office/opportunities/win", pages, &SalesDesk::win_page, desk_roles);
    site.post("/office/opportunities/win", pages, &SalesDesk::win, desk_roles);
    site.post("/office/opportunities/lose", pages, &SalesDesk::lose, desk_roles);
    site.get("/office/accounts/view", pages, &SalesDesk::account, desk_roles);
    site.get("/office/accounts/edit", pages, &SalesDesk::account_edit_page, desk_roles);
    site.post("/office/accounts/edit", pages, &SalesDesk::account_edit, desk_roles);
    site.get("/office/contacts/view", pages, &SalesDesk::contact, desk_roles);
    site.get("/office/contacts/edit", pages, &SalesDesk::contact_edit_page, desk_roles);
    site.post("/office/contacts/edit", pages, &SalesDesk::contact_edit, desk_roles);
}

}  // namespace gatehouse::web
