// The back office's operator desk: the notifier's notifications (list with a status filter and
// pages, one with its attempts, re-drive one or all dead-lettered) and every service's dead letters
// (gatehouse.kernel.v1.OperatorService: list, re-drive one or all). Every re-drive is a POST behind
// a confirmation page that asks why it should work now (the services log the reason with the
// caller). Calls carry the gateway credential on behalf of the signed-in operator.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/kernel/v1/operator_service.grpc.pb.h"
#include "gatehouse/notifier/v1/notifier_service.grpc.pb.h"
#include "page_values.h"
#include "site.h"

namespace gatehouse::web {
namespace {

namespace notifier_v1 = gatehouse::notifier::v1;
namespace kernel_v1 = gatehouse::kernel::v1;

constexpr Text kTexts[] = {
    {"op_notifications_title", "Notifications", "Benachrichtigungen"},
    {"op_notifications_intro", "Emails and chat posts, newest first.", "E-Mails und Chat-Beiträge, neueste zuerst."},
    {"op_filter", "Show", "Anzeigen"},
    {"op_filter_all", "All", "Alle"},
    {"op_status_0", "Unknown", "Unbekannt"},
    {"op_status_1", "Queued", "In der Warteschlange"},
    {"op_status_2", "Sent", "Gesendet"},
    {"op_status_3", "Dead-lettered", "Unzustellbar"},
    {"op_channel_0", "Unknown", "Unbekannt"},
    {"op_channel_1", "Email", "E-Mail"},
    {"op_channel_2", "Chat", "Chat"},
    {"op_id", "Id", "Kennung"},
    {"op_template", "Template", "Vorlage"},
    {"op_channel", "Channel", "Kanal"},
    {"op_recipient", "Recipient", "Empfänger"},
    {"op_attempts", "Attempts", "Versuche"},
    {"op_attempt", "Attempt", "Versuch"},
    {"op_failed_attempts", "Failed attempts", "Fehlgeschlagene Versuche"},
    {"op_queued_at", "Queued", "Eingereiht"},
    {"op_next_attempt_at", "Next attempt", "Nächster Versuch"},
    {"op_sent_at", "Sent", "Gesendet"},
    {"op_last_error", "Last error", "Letzter Fehler"},
    {"op_error", "Error", "Fehler"},
    {"op_at", "When", "Wann"},
    {"op_cause", "Cause", "Auslöser"},
    {"op_message_id", "Message id", "Nachrichtenkennung"},
    {"op_shown_of", "shown of", "angezeigt von"},
    {"op_none", "There are none.", "Es gibt keine."},
    {"op_no_attempts", "No failed attempt.", "Kein fehlgeschlagener Versuch."},
    {"op_next_page", "Next page", "Nächste Seite"},
    {"op_first_page", "First page", "Erste Seite"},
    {"op_view", "Open", "Öffnen"},
    {"op_notification_title", "Notification", "Benachrichtigung"},
    {"op_back_to_notifications", "Back to the notifications", "Zurück zu den Benachrichtigungen"},
    {"op_redrive", "Re-drive", "Erneut verarbeiten"},
    {"op_redrive_all_notifications", "Re-drive all dead-lettered", "Alle unzustellbaren erneut senden"},
    {"op_redrive_notification_title", "Send this notification again?", "Diese Benachrichtigung erneut senden?"},
    {"op_redrive_notification_text", "It is queued again and sent with the next attempts.",
     "Sie wird wieder eingereiht und mit den nächsten Versuchen gesendet."},
    {"op_redrive_all_title", "Send every dead-lettered notification again?",
     "Alle unzustellbaren Benachrichtigungen erneut senden?"},
    {"op_redrive_all_text", "Every notification that is dead-lettered now is queued again.",
     "Jede Benachrichtigung, die jetzt unzustellbar ist, wird wieder eingereiht."},
    {"op_reason", "Why should it work now? (written to the service's log)",
     "Warum sollte es jetzt funktionieren? (wird im Protokoll des Dienstes vermerkt)"},
    {"op_reason_required", "give the reason", "geben Sie den Grund an"},
    {"op_redrive_submit", "Yes, re-drive", "Ja, erneut verarbeiten"},
    {"op_redriven_one", "The notification is queued again.", "Die Benachrichtigung ist wieder eingereiht."},
    {"op_redriven_all", "Notifications queued again:", "Wieder eingereihte Benachrichtigungen:"},
    {"op_dead_letters_title", "Dead letters", "Unzustellbare Ereignisse"},
    {"op_dead_letters_intro",
     "Events a service could not process, oldest first. Re-driving runs them through the service's inbox again; "
     "each event is applied at most once.",
     "Ereignisse, die ein Dienst nicht verarbeiten konnte, älteste zuerst. Erneutes Verarbeiten führt sie noch "
     "einmal durch den Eingang des Dienstes; jedes Ereignis wirkt höchstens einmal."},
    {"op_service", "Service", "Dienst"},
    {"op_service_onboarding", "Onboarding", "Onboarding"},
    {"op_service_customers", "Customers", "Kunden"},
    {"op_service_sales", "Sales bridge", "Vertriebsbrücke"},
    {"op_service_notifier", "Notifier", "Benachrichtiger"},
    {"op_topic", "Topic", "Topic"},
    {"op_no_dead_letters", "No dead letters: nothing to do.", "Keine unzustellbaren Ereignisse: nichts zu tun."},
    {"op_dead_letters_count", "dead letter(s)", "unzustellbare(s) Ereignis(se)"},
    {"op_position", "Position", "Position"},
    {"op_dead_lettered_at", "Dead-lettered", "Unzustellbar seit"},
    {"op_origin", "From", "Herkunft"},
    {"op_event_type", "Event type", "Ereignistyp"},
    {"op_event_id", "Event id", "Ereigniskennung"},
    {"op_aggregate", "Aggregate", "Aggregat"},
    {"op_dead_letter_reason", "Reason", "Grund"},
    {"op_redrive_dead_letters_all", "Re-drive all", "Alle erneut verarbeiten"},
    {"op_redrive_dead_letter_title", "Re-drive this dead letter?", "Dieses Ereignis erneut verarbeiten?"},
    {"op_redrive_dead_letters_all_title", "Re-drive every dead letter of this service?",
     "Alle unzustellbaren Ereignisse dieses Dienstes erneut verarbeiten?"},
    {"op_redrive_dead_letter_text",
     "The event runs through the service's inbox as if it had just arrived. An event already applied is not applied "
     "again.",
     "Das Ereignis läuft durch den Eingang des Dienstes, als wäre es gerade angekommen. Ein schon verarbeitetes "
     "Ereignis wirkt nicht noch einmal."},
    {"op_redrive_result_title", "Re-drive done", "Erneute Verarbeitung erledigt"},
    {"op_outcome", "Outcome", "Ergebnis"},
    {"op_detail", "Detail", "Einzelheiten"},
    {"op_applied", "applied", "verarbeitet"},
    {"op_ignored", "ignored", "ignoriert"},
    {"op_duplicates", "already applied", "schon verarbeitet"},
    {"op_dead_lettered_again", "dead-lettered again", "wieder unzustellbar"},
    {"op_skipped", "skipped", "übersprungen"},
    {"op_parked", "parked", "geparkt"},
    {"op_back_to_dead_letters", "Back to the dead letters", "Zurück zu den unzustellbaren Ereignissen"},
    {"op_bad_request_title", "This page does not exist", "Diese Seite gibt es nicht"},
    {"op_bad_request_text", "The link is not right (an unknown filter, page or service). Start from the list again.",
     "Der Link stimmt nicht (unbekannter Filter, Seite oder Dienst). Beginnen Sie noch einmal bei der Liste."},
};

// The services whose dead letters the desk shows, in the tabs' order.
constexpr std::array<const char*, 4> kServices = {"onboarding", "customers", "sales", "notifier"};

// The status filter's values in URLs, as the CLI names them.
constexpr std::array<std::pair<const char*, notifier_v1::NotificationStatus>, 3> kStatusNames = {{
    {"queued", notifier_v1::NOTIFICATION_STATUS_QUEUED},
    {"sent", notifier_v1::NOTIFICATION_STATUS_SENT},
    {"dead-lettered", notifier_v1::NOTIFICATION_STATUS_DEAD_LETTERED},
}};

// A time, or a dash in a table cell for none.
std::string when(const google::protobuf::Timestamp& stamp) {
    const auto text = format_time(stamp);
    return text.empty() ? "–" : text;
}

mustache::data flag(bool value) { return {value}; }

const char* status_name(notifier_v1::NotificationStatus status) {
    for (const auto& [name, value] : kStatusNames) {
        if (value == status) {
            return name;
        }
    }
    return "";
}

struct Operator final {
    Site& site;
    std::unique_ptr<notifier_v1::NotifierService::Stub> notifier;
    std::map<std::string, std::unique_ptr<kernel_v1::OperatorService::Stub>> operators;

    std::string status_text(const Visit& v, notifier_v1::NotificationStatus status) const {
        const int value = static_cast<int>(status);
        return site.text(v, "op_status_" + std::to_string(value >= 0 && value <= 3 ? value : 0));
    }

    mustache::data summary_data(const Visit& v, const notifier_v1::NotificationSummary& n) const {
        mustache::data row = mustache::data::type::object;
        row.set("notification_id", n.notification_id());
        row.set("href", "/office/notifications/view?id=" + url_encode(n.notification_id()));
        row.set("status", status_text(v, n.status()));
        row.set("status_name", std::string(status_name(n.status())));
        row.set("dead_lettered", flag(n.status() == notifier_v1::NOTIFICATION_STATUS_DEAD_LETTERED));
        row.set("queued", flag(n.status() == notifier_v1::NOTIFICATION_STATUS_QUEUED));
        row.set("template_name", n.template_name());
        const int channel = static_cast<int>(n.channel());
        row.set("channel", site.text(v, "op_channel_" + std::to_string(channel >= 0 && channel <= 2 ? channel : 0)));
        row.set("recipient", n.recipient());
        row.set("cause_event_type", n.cause_event_type());
        row.set("attempts", std::to_string(n.attempts()));
        row.set("last_error", n.last_error());
        row.set("has_error", flag(!n.last_error().empty()));
        row.set("queued_at", when(n.queued_at()));
        row.set("next_attempt_at", when(n.next_attempt_at()));
        row.set("sent_at", when(n.sent_at()));
        return row;
    }

    // ---- notifications ----

    void notifications(Visit& v) {
        notifier_v1::ListNotificationsRequest request;
        const std::string filter = v.param("status");
        bool known_filter = filter.empty();
        for (const auto& [name, value] : kStatusNames) {
            if (filter == name) {
                request.set_status(value);
                known_filter = true;
            }
        }
        if (!known_filter) {
            site.message(v, "op_bad_request_title", "op_bad_request_text", 400);
            return;
        }
        request.set_page_token(v.param("page_token"));
        // An optional page size (the API checks its range; 50 without it).
        const std::string page_size = v.param("page_size");
        if (!page_size.empty()) {
            const auto size = number(page_size);
            if (!size || *size > 500) {
                site.message(v, "op_bad_request_title", "op_bad_request_text", 400);
                return;
            }
            request.set_page_size(static_cast<std::int32_t>(*size));
        }
        notifier_v1::ListNotificationsResponse response;
        const auto status = notifier->ListNotifications(site.context(v, Caller::staff).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            site.message(v, "op_bad_request_title", "op_bad_request_text", 400);
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "op_notifications_title"));
        mustache::data filters = mustache::data::type::list;
        const auto add_filter = [&](const std::string& name, const std::string& label) {
            mustache::data item = mustache::data::type::object;
            item.set("id", "filter-" + (name.empty() ? std::string("all") : name));
            item.set("href", "/office/notifications" + (name.empty() ? std::string{} : "?status=" + name));
            item.set("label", label);
            item.set("current", flag(filter == name));
            filters.push_back(item);
        };
        add_filter("", site.text(v, "op_filter_all"));
        for (const auto& [name, value] : kStatusNames) {
            add_filter(name, status_text(v, value));
        }
        data.set("filters", filters);
        mustache::data rows = mustache::data::type::list;
        for (const auto& n : response.notifications()) {
            rows.push_back(summary_data(v, n));
        }
        data.set("notifications", rows);
        data.set("empty", flag(response.notifications().empty()));
        data.set("shown", std::to_string(response.notifications_size()));
        data.set("total", std::to_string(response.total()));
        QueryParams kept;
        if (!filter.empty()) {
            kept.emplace_back("status", filter);
        }
        if (!page_size.empty()) {
            kept.emplace_back("page_size", page_size);
        }
        set_pager(data, "/office/notifications", kept, "page_token", response.next_page_token(),
                  v.param("page_token").empty());
        data.set("redriven", flag(v.request->has_param("redriven")));
        data.set("redriven_count", v.param("redriven"));
        site.render(v, "operator_notifications", data);
    }

    void notification(Visit& v) {
        notifier_v1::GetNotificationRequest request;
        request.set_notification_id(v.param("id"));
        notifier_v1::GetNotificationResponse response;
        const auto status = notifier->GetNotification(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        mustache::data data = summary_data(v, response.summary());
        data.set("title", site.text(v, "op_notification_title") + " " + response.summary().notification_id());
        data.set("cause_event_id", response.cause_event_id());
        data.set("cause_topic", response.cause_topic());
        data.set("message_id", response.message_id());
        data.set("has_message_id", flag(!response.message_id().empty()));
        data.set("sent", flag(response.summary().status() == notifier_v1::NOTIFICATION_STATUS_SENT));
        mustache::data attempts = mustache::data::type::list;
        for (const auto& attempt : response.attempts()) {
            mustache::data row = mustache::data::type::object;
            row.set("attempt", std::to_string(attempt.attempt()));
            row.set("at", when(attempt.at()));
            row.set("error", attempt.error());
            attempts.push_back(row);
        }
        data.set("attempt_rows", attempts);
        data.set("no_attempts", flag(response.attempts().empty()));
        data.set("redrive_href",
                 "/office/notifications/redrive?id=" + url_encode(response.summary().notification_id()));
        data.set("redriven", flag(v.request->has_param("redriven")));
        site.render(v, "operator_notification", data);
    }

    // The confirmation page of a re-drive: what is re-driven, the reason, the POST's hidden fields.
    void confirm(Visit& v, const std::string& title_key, const std::string& text_key, const std::string& action,
                 const std::string& cancel_href, const std::map<std::string, std::string>& hidden,
                 const std::string& reason_error, mustache::data details = mustache::data::type::list) {
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, title_key));
        data.set("text", site.text(v, text_key));
        data.set("action", action);
        data.set("cancel_href", cancel_href);
        data.set("hidden", Site::hidden_inputs(hidden));
        data.set("details", details);
        data.set("reason", v.field("reason"));
        data.set("has_error", flag(!reason_error.empty()));
        data.set("reason_error", reason_error);
        site.render(v, "operator_confirm", data, reason_error.empty() ? 200 : 422);
    }

    static mustache::data detail(const std::string& label, const std::string& value) {
        mustache::data item = mustache::data::type::object;
        item.set("label", label);
        item.set("value", value);
        return item;
    }

    void redrive_notification_page(Visit& v) {
        notifier_v1::GetNotificationRequest request;
        request.set_notification_id(v.param("id"));
        notifier_v1::GetNotificationResponse response;
        const auto status = notifier->GetNotification(site.context(v, Caller::staff).get(), request, &response);
        if (!status.ok()) {
            site.lookup_failed(v, status);
            return;
        }
        const auto& s = response.summary();
        mustache::data details = mustache::data::type::list;
        details.push_back(detail(site.text(v, "op_id"), s.notification_id()));
        details.push_back(detail(site.text(v, "status"), status_text(v, s.status())));
        details.push_back(detail(site.text(v, "op_template"), s.template_name()));
        details.push_back(detail(site.text(v, "op_recipient"), s.recipient()));
        details.push_back(detail(site.text(v, "op_last_error"), s.last_error()));
        confirm(v, "op_redrive_notification_title", "op_redrive_notification_text", "/office/notifications/redrive",
                "/office/notifications/view?id=" + url_encode(s.notification_id()),
                {{"notification_id", s.notification_id()}}, "", details);
    }

    void redrive_notification(Visit& v) {
        const std::string id = v.field("notification_id");
        const std::string back = "/office/notifications/view?id=" + url_encode(id);
        if (v.field("reason").empty()) {
            confirm(v, "op_redrive_notification_title", "op_redrive_notification_text", "/office/notifications/redrive",
                    back, {{"notification_id", id}}, site.text(v, "op_reason_required"));
            return;
        }
        notifier_v1::RedriveNotificationRequest request;
        request.set_notification_id(id);
        request.set_reason(v.field("reason"));
        notifier_v1::RedriveNotificationResponse response;
        const auto status = notifier->RedriveNotification(site.context(v, Caller::staff).get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            confirm(v, "op_redrive_notification_title", "op_redrive_notification_text", "/office/notifications/redrive",
                    back, {{"notification_id", id}}, status.error_message());
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, back + "&redriven=1");
    }

    void redrive_all_page(Visit& v) {
        confirm(v, "op_redrive_all_title", "op_redrive_all_text", "/office/notifications/redrive-all",
                "/office/notifications?status=dead-lettered", {}, "");
    }

    void redrive_all(Visit& v) {
        const std::string back = "/office/notifications?status=dead-lettered";
        if (v.field("reason").empty()) {
            confirm(v, "op_redrive_all_title", "op_redrive_all_text", "/office/notifications/redrive-all", back, {},
                    site.text(v, "op_reason_required"));
            return;
        }
        notifier_v1::RedriveAllDeadLetteredRequest request;
        request.set_reason(v.field("reason"));
        notifier_v1::RedriveAllDeadLetteredResponse response;
        auto context = site.context(v, Caller::staff);
        // Every dead-lettered notification is re-driven in this one call: allow more time.
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
        const auto status = notifier->RedriveAllDeadLettered(context.get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            confirm(v, "op_redrive_all_title", "op_redrive_all_text", "/office/notifications/redrive-all", back, {},
                    status.error_message());
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        Site::redirect(v, "/office/notifications?redriven=" + std::to_string(response.redriven()));
    }

    // ---- dead letters ----

    // The stub of a service named in the request ("" means onboarding), or nullptr.
    kernel_v1::OperatorService::Stub* service_stub(const std::string& service) {
        const auto found = operators.find(service);
        return found == operators.end() ? nullptr : found->second.get();
    }

    mustache::data tabs(const Visit& v, const std::string& current) const {
        mustache::data list = mustache::data::type::list;
        for (const char* service : kServices) {
            mustache::data item = mustache::data::type::object;
            item.set("id", "tab-" + std::string(service));
            item.set("href", "/office/dead-letters?service=" + std::string(service));
            item.set("label", site.text(v, "op_service_" + std::string(service)));
            item.set("current", flag(current == service));
            list.push_back(item);
        }
        return list;
    }

    void dead_letters(Visit& v) {
        const std::string service = v.param("service").empty() ? std::string("onboarding") : v.param("service");
        auto* stub = service_stub(service);
        if (stub == nullptr) {
            site.message(v, "op_bad_request_title", "op_bad_request_text", 404);
            return;
        }
        kernel_v1::ListDeadLettersResponse response;
        const auto status =
            stub->ListDeadLetters(site.context(v, Caller::staff).get(), kernel_v1::ListDeadLettersRequest{}, &response);
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "op_dead_letters_title"));
        data.set("tabs", tabs(v, service));
        data.set("service", service);
        data.set("service_name", site.text(v, "op_service_" + service));
        data.set("topic", response.topic());
        mustache::data rows = mustache::data::type::list;
        for (const auto& letter : response.dead_letters()) {
            mustache::data row = mustache::data::type::object;
            const std::string position = std::to_string(letter.partition()) + ":" + std::to_string(letter.offset());
            row.set("position", position);
            row.set("dead_lettered_at", when(letter.dead_lettered_at()));
            row.set("origin", letter.origin_topic() + "/" + std::to_string(letter.origin_partition()) + "@" +
                                  std::to_string(letter.origin_offset()));
            row.set("event_type", letter.event_type().empty() ? std::string("–") : letter.event_type());
            row.set("event_id", letter.event_id().empty() ? std::string("–") : letter.event_id());
            row.set("aggregate_id", letter.aggregate_id().empty() ? std::string("–") : letter.aggregate_id());
            row.set("reason", letter.reason());
            row.set("redrive_href", "/office/dead-letters/redrive?service=" + url_encode(service) +
                                        "&partition=" + std::to_string(letter.partition()) +
                                        "&offset=" + std::to_string(letter.offset()));
            rows.push_back(row);
        }
        data.set("dead_letters", rows);
        data.set("empty", flag(response.dead_letters().empty()));
        data.set("count", std::to_string(response.dead_letters_size()));
        data.set("redrive_all_href", "/office/dead-letters/redrive?service=" + url_encode(service) + "&all=1");
        site.render(v, "operator_dead_letters", data);
    }

    // A non-negative number from text (digits only), or nullopt.
    static std::optional<std::int64_t> number(const std::string& text) {
        if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
        }
        return std::stoll(text);
    }

    // What a dead-letter re-drive is about, from a query (the confirmation) or the form (the POST).
    struct Target final {
        std::string service;
        bool all = false;
        std::int32_t partition = 0;
        std::int64_t offset = 0;
    };

    static std::optional<Target> target(const std::string& service, const std::string& all,
                                        const std::string& partition, const std::string& offset) {
        if (std::find(kServices.begin(), kServices.end(), std::string_view(service)) == kServices.end()) {
            return std::nullopt;
        }
        Target t{service, all == "1", 0, 0};
        if (t.all) {
            return t;
        }
        const auto p = number(partition);
        const auto o = number(offset);
        if (!p || !o || *p > std::numeric_limits<std::int32_t>::max()) {
            return std::nullopt;
        }
        t.partition = static_cast<std::int32_t>(*p);
        t.offset = *o;
        return t;
    }

    void confirm_dead_letters(Visit& v, const Target& t, const std::string& reason_error) {
        mustache::data details = mustache::data::type::list;
        details.push_back(detail(site.text(v, "op_service"), site.text(v, "op_service_" + t.service)));
        std::map<std::string, std::string> hidden = {{"service", t.service}};
        if (t.all) {
            hidden["all"] = "1";
        } else {
            details.push_back(
                detail(site.text(v, "op_position"), std::to_string(t.partition) + ":" + std::to_string(t.offset)));
            hidden["partition"] = std::to_string(t.partition);
            hidden["offset"] = std::to_string(t.offset);
        }
        confirm(v, t.all ? "op_redrive_dead_letters_all_title" : "op_redrive_dead_letter_title",
                "op_redrive_dead_letter_text", "/office/dead-letters/redrive",
                "/office/dead-letters?service=" + url_encode(t.service), hidden, reason_error, details);
    }

    void redrive_dead_letters_page(Visit& v) {
        const auto t = target(v.param("service"), v.param("all"), v.param("partition"), v.param("offset"));
        if (!t) {
            site.message(v, "op_bad_request_title", "op_bad_request_text", 404);
            return;
        }
        confirm_dead_letters(v, *t, "");
    }

    void redrive_dead_letters(Visit& v) {
        const auto t = target(v.field("service"), v.field("all"), v.field("partition"), v.field("offset"));
        if (!t) {
            site.message(v, "op_bad_request_title", "op_bad_request_text", 404);
            return;
        }
        if (v.field("reason").empty()) {
            confirm_dead_letters(v, *t, site.text(v, "op_reason_required"));
            return;
        }
        kernel_v1::RedriveDeadLettersRequest request;
        request.set_all(t->all);
        request.set_partition(t->partition);
        request.set_offset(t->offset);
        request.set_reason(v.field("reason"));
        kernel_v1::RedriveDeadLettersResponse response;
        auto context = site.context(v, Caller::staff);
        // Each dead letter runs through the service's reaction (with its retries): allow more time.
        context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
        const auto status = service_stub(t->service)->RedriveDeadLetters(context.get(), request, &response);
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            confirm_dead_letters(v, *t, status.error_message());
            return;
        }
        if (!status.ok()) {
            site.failed(v, status);
            return;
        }
        mustache::data data = mustache::data::type::object;
        data.set("title", site.text(v, "op_redrive_result_title"));
        data.set("service_name", site.text(v, "op_service_" + t->service));
        data.set("back_href", "/office/dead-letters?service=" + url_encode(t->service));
        data.set("applied", std::to_string(response.applied()));
        data.set("ignored", std::to_string(response.ignored()));
        data.set("duplicates", std::to_string(response.duplicates()));
        data.set("dead_lettered_again", std::to_string(response.dead_lettered_again()));
        data.set("skipped", std::to_string(response.skipped()));
        data.set("parked", std::to_string(response.parked()));
        mustache::data rows = mustache::data::type::list;
        for (const auto& result : response.results()) {
            mustache::data row = mustache::data::type::object;
            row.set("position", std::to_string(result.partition()) + ":" + std::to_string(result.offset()));
            row.set("event_id", result.event_id().empty() ? std::string("–") : result.event_id());
            row.set("outcome", result.outcome());
            row.set("detail", result.detail());
            rows.push_back(row);
        }
        data.set("results", rows);
        data.set("has_results", flag(!response.results().empty()));
        site.render(v, "operator_redrive_result", data);
    }
};

}  // namespace

void add_office_operator(Site& site) {
    // Every page of this desk is for operators only (Site checks it before the handler runs).
    const Site::Roles desk_roles = {"operator"};
    site.add_texts(kTexts);
    site.add_templates({"operator_notifications", "operator_notification", "operator_confirm", "operator_dead_letters",
                        "operator_redrive_result"});
    auto pages =
        std::make_shared<Operator>(Operator{site, notifier_v1::NotifierService::NewStub(site.channels().notifier), {}});
    const auto& channels = site.channels();
    pages->operators["onboarding"] = kernel_v1::OperatorService::NewStub(channels.onboarding);
    pages->operators["customers"] = kernel_v1::OperatorService::NewStub(channels.customers);
    pages->operators["sales"] = kernel_v1::OperatorService::NewStub(channels.sales);
    pages->operators["notifier"] = kernel_v1::OperatorService::NewStub(channels.notifier);
    site.get("/office/notifications", pages, &Operator::notifications, desk_roles);
    site.get("/office/notifications/view", pages, &Operator::notification, desk_roles);
    site.get("/office/notifications/redrive", pages, &Operator::redrive_notification_page, desk_roles);
    site.post("/office/notifications/redrive", pages, &Operator::redrive_notification, desk_roles);
    site.get("/office/notifications/redrive-all", pages, &Operator::redrive_all_page, desk_roles);
    site.post("/office/notifications/redrive-all", pages, &Operator::redrive_all, desk_roles);
    site.get("/office/dead-letters", pages, &Operator::dead_letters, desk_roles);
    site.get("/office/dead-letters/redrive", pages, &Operator::redrive_dead_letters_page, desk_roles);
    site.post("/office/dead-letters/redrive", pages, &Operator::redrive_dead_letters, desk_roles);
}

}  // namespace gatehouse::web
