#include "domain/planner.h"

#include <google/protobuf/util/time_util.h>

#include <map>

#include "domain/notification.h"
#include "gatehouse/customers/v1/events.pb.h"
#include "gatehouse/kernel/time.h"
#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/sales/v1/events.pb.h"

namespace gatehouse::notifier {
namespace {

namespace ob = onboarding::v1;
namespace cu = customers::v1;
namespace sa = sales::v1;

// Builds the NotificationQueued records of one cause event.
class Plan {
  public:
    Plan(const kernel::v1::EventEnvelope& cause, std::string topic, std::chrono::system_clock::time_point now)
        : cause_(cause), topic_(std::move(topic)), now_(now) {}

    v1::NotificationQueued& add(const std::string& template_name, v1::Channel channel, const std::string& recipient,
                                const std::string& locale, std::map<std::string, std::string> variables) {
        auto& queued = planned_.emplace_back();
        queued.set_notification_id(notification_id(cause_.event_id(), template_name, recipient));
        queued.set_cause_event_id(cause_.event_id());
        queued.set_cause_event_type(cause_.event_type());
        queued.set_cause_topic(topic_);
        queued.set_template_name(template_name);
        queued.set_channel(channel);
        queued.set_recipient(recipient);
        queued.set_locale(locale);
        for (auto& [name, value] : variables) {
            (*queued.mutable_variables())[name] = std::move(value);
        }
        *queued.mutable_queued_at() = kernel::to_timestamp(now_);
        return queued;
    }

    // A one-time link: the token stays sealed until send time.
    static void with_link(v1::NotificationQueued& queued, const std::string& sealed_token, const std::string& path,
                          const google::protobuf::Timestamp& expires_at) {
        queued.set_sealed_token(sealed_token);
        queued.set_link_path(path);
        (*queued.mutable_variables())["link_expires_at"] =
            google::protobuf::util::TimeUtil::ToString(expires_at).substr(0, 16) + " UTC";
    }

    std::vector<v1::NotificationQueued> take() { return std::move(planned_); }
    [[nodiscard]] std::chrono::system_clock::time_point now() const { return now_; }

  private:
    const kernel::v1::EventEnvelope& cause_;
    std::string topic_;
    std::chrono::system_clock::time_point now_;
    std::vector<v1::NotificationQueued> planned_;
};

std::string full_name(const std::string& first, const std::string& last) {
    if (first.empty()) {
        return last;
    }
    return last.empty() ? first : first + " " + last;
}

// Percent-encodes a query value (request numbers are plain, but the link must not break if not).
std::string query_value(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string encoded;
    for (const unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            encoded.push_back(static_cast<char>(c));
        } else {
            encoded += '%';
            encoded += kHex[c >> 4];
            encoded += kHex[c & 0xF];
        }
    }
    return encoded;
}

template <class Message>
bool decode(const kernel::v1::EventEnvelope& envelope, Message& message, std::string& error) {
    if (!message.ParseFromString(envelope.payload())) {
        error = "undecodable " + envelope.event_type();
        return false;
    }
    return true;
}

std::map<std::string, std::string> prospect_variables(const ob::ProspectSnapshot& prospect) {
    return {{"company_name", prospect.company().name()},
            {"contact_name", full_name(prospect.contact().first_name(), prospect.contact().last_name())},
            {"request_number", prospect.request_number()}};
}

void plan_onboarding(const kernel::v1::EventEnvelope& envelope, const PlannerSettings& settings, Plan& plan,
                     std::string& error) {
    const std::string& type = envelope.event_type();
    if (type == ob::RequestSubmitted::descriptor()->full_name()) {
        ob::RequestSubmitted submitted;
        if (!decode(envelope, submitted, error)) {
            return;
        }
        ob::ProspectSnapshot prospect;
        prospect.set_request_number(submitted.request_number());
        *prospect.mutable_company() = submitted.company();
        *prospect.mutable_contact() = submitted.contact();
        auto& queued = plan.add("request_received", v1::CHANNEL_EMAIL, submitted.contact().email(),
                                locale_for_country(submitted.company().address().country_code(), settings),
                                prospect_variables(prospect));
        Plan::with_link(queued, submitted.verification().token_sealed_for_notifier(),
                        "/verify?request=" + query_value(submitted.request_number()) + "&token=",
                        submitted.verification().expires_at());
    } else if (type == ob::VerificationReissued::descriptor()->full_name()) {
        ob::VerificationReissued reissued;
        if (!decode(envelope, reissued, error)) {
            return;
        }
        const auto& prospect = reissued.prospect();
        if (prospect.contact().email().empty()) {
            error = "VerificationReissued without the prospect's contact";
            return;
        }
        auto& queued = plan.add("verification_link", v1::CHANNEL_EMAIL, prospect.contact().email(),
                                locale_for_country(prospect.company().address().country_code(), settings),
                                prospect_variables(prospect));
        Plan::with_link(queued, reissued.verification().token_sealed_for_notifier(),
                        "/verify?request=" + query_value(prospect.request_number()) + "&token=",
                        reissued.verification().expires_at());
    } else if (type == ob::EmailVerified::descriptor()->full_name()) {
        ob::EmailVerified verified;
        if (!decode(envelope, verified, error)) {
            return;
        }
        // HQ decides only in direct mode; in CRM mode the lead (sales-bridge) is the news.
        if (verified.prospect().approval_mode() == ob::APPROVAL_MODE_CRM) {
            return;
        }
        auto variables = prospect_variables(verified.prospect());
        variables["contact_email"] = verified.prospect().contact().email();
        variables["country_code"] = verified.prospect().company().address().country_code();
        if (settings.chat_channels.count("hq") != 0) {
            plan.add("prospect_pending_chat", v1::CHANNEL_CHAT, "hq", settings.default_locale, variables);
        }
        if (!settings.hq_email.empty()) {
            plan.add("prospect_pending", v1::CHANNEL_EMAIL, settings.hq_email, settings.default_locale, variables);
        }
    } else if (type == ob::ProspectRejected::descriptor()->full_name()) {
        ob::ProspectRejected rejected;
        if (!decode(envelope, rejected, error)) {
            return;
        }
        const auto& prospect = rejected.prospect();
        if (prospect.contact().email().empty()) {
            error = "ProspectRejected without the prospect's contact";
            return;
        }
        auto variables = prospect_variables(prospect);
        variables["reason"] = settings.tell_rejection_reason ? rejected.reason() : "";
        plan.add("prospect_rejected", v1::CHANNEL_EMAIL, prospect.contact().email(),
                 locale_for_country(prospect.company().address().country_code(), settings), variables);
    }
    // ProspectApproved: the welcome email with the set-password link follows the customers service's
    // InvitationIssued (it holds the link); other onboarding events tell no one.
}

void plan_customers(const kernel::v1::EventEnvelope& envelope, const PlannerSettings& settings, Plan& plan,
                    std::string& error) {
    const std::string& type = envelope.event_type();
    const std::string& locale = settings.default_locale;
    if (type == cu::InvitationIssued::descriptor()->full_name()) {
        cu::InvitationIssued invitation;
        if (!decode(envelope, invitation, error)) {
            return;
        }
        if (invitation.email().empty() || invitation.token_sealed_for_notifier().empty()) {
            error = "InvitationIssued without an email or a sealed token";
            return;
        }
        const std::string name = full_name(invitation.first_name(), invitation.last_name());
        v1::NotificationQueued* queued = nullptr;
        if (invitation.kind() == cu::INVITATION_KIND_ADMIN_ON_APPROVAL) {
            // The approval itself: the new admin learns that the partner exists and sets a password.
            queued = &plan.add("partner_approved", v1::CHANNEL_EMAIL, invitation.email(), locale,
                               {{"company_name", invitation.organization_name()},
                                {"contact_name", name},
                                {"request_number", invitation.request_number()}});
        } else if (invitation.kind() == cu::INVITATION_KIND_PASSWORD_RESET) {
            // "Forgot password": the user asked for a new link themselves.
            queued = &plan.add("password_reset", v1::CHANNEL_EMAIL, invitation.email(), locale,
                               {{"organization_name", invitation.organization_name()}, {"user_name", name}});
        } else {
            queued = &plan.add("partner_user_invitation", v1::CHANNEL_EMAIL, invitation.email(), locale,
                               {{"organization_name", invitation.organization_name()}, {"user_name", name}});
        }
        Plan::with_link(*queued, invitation.token_sealed_for_notifier(),
                        "/set-password?token=", invitation.expires_at());
    } else if (type == cu::PartnerUserRemoved::descriptor()->full_name()) {
        cu::PartnerUserRemoved removed;
        if (!decode(envelope, removed, error)) {
            return;
        }
        plan.add("partner_user_removed", v1::CHANNEL_EMAIL, removed.email(), locale,
                 {{"organization_name", removed.organization_name()},
                  {"user_name", full_name(removed.first_name(), removed.last_name())},
                  {"removed_by", removed.removed_by()}});
    } else if (type == cu::AdministratorChanged::descriptor()->full_name()) {
        cu::AdministratorChanged changed;
        if (!decode(envelope, changed, error)) {
            return;
        }
        const std::string old_name = full_name(changed.old_admin().first_name(), changed.old_admin().last_name());
        const std::string new_name = full_name(changed.new_admin().first_name(), changed.new_admin().last_name());
        const std::map<std::string, std::string> common = {{"organization_name", changed.organization_name()},
                                                           {"old_admin_name", old_name},
                                                           {"new_admin_name", new_name}};
        auto to_new = common;
        to_new["user_name"] = new_name;
        plan.add("administrator_granted", v1::CHANNEL_EMAIL, changed.new_admin().email(), locale, to_new);
        if (!changed.old_admin().email().empty()) {
            auto to_old = common;
            to_old["user_name"] = old_name;
            plan.add("administrator_revoked", v1::CHANNEL_EMAIL, changed.old_admin().email(), locale, to_old);
        }
    }
}

std::string money(const common::v1::Money& value) {
    if (value.currency_code().empty() && value.minor_units() == 0) {
        return "";
    }
    const auto units = value.minor_units();
    const auto cents = units < 0 ? -(units % 100) : units % 100;
    return std::to_string(units / 100) + "." + (cents < 10 ? "0" : "") + std::to_string(cents) + " " +
           value.currency_code();
}

std::string stage_name(sa::OpportunityStage stage) {
    switch (stage) {
        case sa::OPPORTUNITY_STAGE_DEVELOP:
            return "Develop";
        case sa::OPPORTUNITY_STAGE_PROPOSE:
            return "Propose";
        case sa::OPPORTUNITY_STAGE_CLOSE:
            return "Close";
        default:
            return "Qualify";  // also an opportunity recorded before stages existed
    }
}

// "2026-12-01 09:00 UTC" for people (the calendar part carries the exact instant).
std::string when(const google::protobuf::Timestamp& at) {
    return google::protobuf::util::TimeUtil::ToString(at).substr(0, 16).replace(10, 1, " ") + " UTC";
}

// The invitation's language: the one the scheduler chose if there are templates in it, else the
// company's country's.
std::string invitation_locale(const std::string& language, const std::string& country_code,
                              const PlannerSettings& settings) {
    if (!language.empty() && settings.locales.count(language) != 0) {
        return language;
    }
    return locale_for_country(country_code, settings);
}

// One email per attendee, each with the same calendar object (the attendee list is the meeting's).
// Appointment is AppointmentScheduled / AppointmentRescheduled / AppointmentCancelled.
template <class Appointment>
void plan_invitations(const Appointment& appointment, const std::string& template_name, v1::CalendarInvitation calendar,
                      std::map<std::string, std::string> variables, const PlannerSettings& settings, Plan& plan) {
    if (kernel::to_time_point(appointment.ends_at()) <= plan.now()) {
        return;  // the meeting is over (e.g. an old event read again after an upgrade): nobody to invite
    }
    calendar.set_uid(appointment.appointment_id());
    calendar.set_summary(appointment.subject());
    *calendar.mutable_starts_at() = appointment.starts_at();
    *calendar.mutable_ends_at() = appointment.ends_at();
    calendar.set_organizer_email(appointment.organizer_email());
    *calendar.mutable_attendees() = appointment.attendees();
    calendar.set_url(appointment.online_meeting_url());
    variables["subject"] = appointment.subject();
    variables["company_name"] = appointment.company_name();
    variables["starts_at"] = when(appointment.starts_at());
    variables["ends_at"] = when(appointment.ends_at());
    variables["online_meeting_url"] = appointment.online_meeting_url();
    variables["organizer"] = appointment.organizer_email().empty() ? "Our sales team" : appointment.organizer_email();
    const std::string locale = invitation_locale(appointment.language(), appointment.company_country_code(), settings);
    std::set<std::string> invited;  // an address listed twice gets one email
    for (const auto& attendee : appointment.attendees()) {
        if (attendee.empty() || !invited.insert(attendee).second) {
            continue;
        }
        auto& queued = plan.add(template_name, v1::CHANNEL_EMAIL, attendee, locale, variables);
        *queued.mutable_calendar() = calendar;
    }
}

// Meeting invitations (RFC 5546 iTIP by email): a request when scheduled, an update with a higher
// sequence when moved, a cancellation when called off. True when `type` was an appointment event.
bool plan_appointment(const kernel::v1::EventEnvelope& envelope, const PlannerSettings& settings, Plan& plan,
                      std::string& error) {
    const std::string& type = envelope.event_type();
    v1::CalendarInvitation calendar;
    const auto stamp = [&](const google::protobuf::Timestamp& at) {
        *calendar.mutable_stamp() = at.seconds() > 0 ? at : envelope.occurred_at();
    };
    if (type == sa::AppointmentScheduled::descriptor()->full_name()) {
        sa::AppointmentScheduled scheduled;
        if (decode(envelope, scheduled, error)) {
            calendar.set_method("REQUEST");
            calendar.set_sequence(0);
            stamp(scheduled.scheduled_at());
            plan_invitations(scheduled, "appointment_invitation", calendar, {}, settings, plan);
        }
        return true;
    }
    if (type == sa::AppointmentRescheduled::descriptor()->full_name()) {
        sa::AppointmentRescheduled rescheduled;
        if (decode(envelope, rescheduled, error)) {
            calendar.set_method("REQUEST");
            calendar.set_sequence(rescheduled.sequence());
            stamp(rescheduled.rescheduled_at());
            plan_invitations(rescheduled, "appointment_invitation", calendar,
                             {{"previous_starts_at", when(rescheduled.previous_starts_at())}}, settings, plan);
        }
        return true;
    }
    if (type == sa::AppointmentCancelled::descriptor()->full_name()) {
        sa::AppointmentCancelled cancelled;
        if (decode(envelope, cancelled, error)) {
            calendar.set_method("CANCEL");
            calendar.set_sequence(cancelled.sequence());
            stamp(cancelled.cancelled_at());
            plan_invitations(cancelled, "appointment_cancelled", calendar, {{"reason", cancelled.reason()}}, settings,
                             plan);
        }
        return true;
    }
    return false;
}

void plan_sales(const kernel::v1::EventEnvelope& envelope, const PlannerSettings& settings, Plan& plan,
                std::string& error) {
    if (plan_appointment(envelope, settings, plan, error)) {
        return;  // the attendees are told by email, whether or not the sales team has a channel
    }
    if (settings.chat_channels.count("sales") == 0) {
        return;  // the sales team's channel is the only audience of the other sales events
    }
    const std::string& type = envelope.event_type();
    const std::string& locale = settings.default_locale;
    if (type == sa::OpportunityCreated::descriptor()->full_name()) {
        sa::OpportunityCreated created;
        if (!decode(envelope, created, error)) {
            return;
        }
        plan.add("opportunity_created_chat", v1::CHANNEL_CHAT, "sales", locale,
                 {{"opportunity_id", created.opportunity_id()},
                  {"company_name", created.company_name()},
                  {"request_number", created.prospect_request_number()},
                  {"stage", stage_name(created.stage())},
                  {"estimated_value", money(created.estimated_value())},
                  {"estimated_close_date", created.estimated_close_date()},
                  {"owner", created.owner_email().empty() ? created.owner_user_id() : created.owner_email()}});
    } else if (type == sa::OpportunityUpdated::descriptor()->full_name()) {
        sa::OpportunityUpdated updated;
        if (!decode(envelope, updated, error)) {
            return;
        }
        std::map<std::string, std::string> variables = {{"opportunity_id", updated.opportunity_id()},
                                                        {"company_name", updated.company_name()},
                                                        {"request_number", updated.prospect_request_number()},
                                                        {"updated_by", updated.updated_by()}};
        for (const auto& field : updated.changed_fields()) {
            if (field == "stage") {
                variables["old_stage"] = stage_name(updated.previous_stage());
                variables["new_stage"] = stage_name(updated.stage());
            } else if (field == "estimated_value") {
                variables["old_value"] = money(updated.previous_estimated_value());
                variables["new_value"] = money(updated.estimated_value());
            }
        }
        plan.add("opportunity_updated_chat", v1::CHANNEL_CHAT, "sales", locale, variables);
    } else if (type == sa::LeadCreated::descriptor()->full_name()) {
        sa::LeadCreated lead;
        if (!decode(envelope, lead, error)) {
            return;
        }
        plan.add("lead_created_chat", v1::CHANNEL_CHAT, "sales", locale,
                 {{"lead_id", lead.lead_id()},
                  {"company_name", lead.company_name()},
                  {"request_number", lead.prospect_request_number()},
                  {"contact_name", full_name(lead.contact().first_name(), lead.contact().last_name())},
                  {"contact_email", lead.contact().email()},
                  {"owner", lead.owner_email().empty() ? lead.owner_user_id() : lead.owner_email()}});
    } else if (type == sa::LeadAssigned::descriptor()->full_name()) {
        sa::LeadAssigned assigned;
        if (!decode(envelope, assigned, error)) {
            return;
        }
        plan.add("lead_assigned_chat", v1::CHANNEL_CHAT, "sales", locale,
                 {{"lead_id", assigned.lead_id()},
                  {"company_name", assigned.company_name()},
                  {"request_number", assigned.prospect_request_number()},
                  {"owner", assigned.owner_email().empty() ? assigned.owner_user_id() : assigned.owner_email()}});
    } else if (type == sa::OpportunityWon::descriptor()->full_name()) {
        sa::OpportunityWon won;
        if (!decode(envelope, won, error)) {
            return;
        }
        plan.add("opportunity_won_chat", v1::CHANNEL_CHAT, "sales", locale,
                 {{"opportunity_id", won.opportunity_id()},
                  {"company_name", won.company_name()},
                  {"request_number", won.prospect_request_number()},
                  {"estimated_value", money(won.estimated_value())},
                  {"decided_by", won.won_by()}});
    } else if (type == sa::OpportunityLost::descriptor()->full_name()) {
        sa::OpportunityLost lost;
        if (!decode(envelope, lost, error)) {
            return;
        }
        plan.add("opportunity_lost_chat", v1::CHANNEL_CHAT, "sales", locale,
                 {{"opportunity_id", lost.opportunity_id()},
                  {"company_name", lost.company_name()},
                  {"request_number", lost.prospect_request_number()},
                  {"estimated_value", money(lost.estimated_value())},
                  {"decided_by", lost.lost_by()},
                  {"reason", lost.reason()}});
    }
}

}  // namespace

std::string locale_for_country(const std::string& country_code, const PlannerSettings& settings) {
    static const std::map<std::string, std::string> kLanguageOfCountry = {
        {"DE", "de"}, {"AT", "de"}, {"CH", "de"}, {"LI", "de"}, {"FR", "fr"}, {"BE", "fr"},
        {"LU", "fr"}, {"NL", "nl"}, {"IT", "it"}, {"ES", "es"}, {"PT", "pt"}, {"PL", "pl"},
        {"SE", "sv"}, {"DK", "da"}, {"FI", "fi"}, {"GB", "en"}, {"IE", "en"}, {"US", "en"}};
    const auto language = kLanguageOfCountry.find(country_code);
    if (language != kLanguageOfCountry.end() && settings.locales.count(language->second) != 0) {
        return language->second;
    }
    return settings.default_locale;
}

std::vector<v1::NotificationQueued> plan_notifications(InputTopic topic, const kernel::v1::EventEnvelope& envelope,
                                                       const PlannerSettings& settings,
                                                       std::chrono::system_clock::time_point now,
                                                       std::string& payload_error) {
    payload_error.clear();
    static const std::map<InputTopic, std::string> kTopicName = {
        {InputTopic::onboarding, "gatehouse.onboarding.events.v1"},
        {InputTopic::customers, "gatehouse.customers.events.v1"},
        {InputTopic::sales, "gatehouse.sales.events.v1"}};
    Plan plan(envelope, kTopicName.at(topic), now);
    switch (topic) {
        case InputTopic::onboarding:
            plan_onboarding(envelope, settings, plan, payload_error);
            break;
        case InputTopic::customers:
            plan_customers(envelope, settings, plan, payload_error);
            break;
        case InputTopic::sales:
            plan_sales(envelope, settings, plan, payload_error);
            break;
    }
    if (!payload_error.empty()) {
        return {};
    }
    return plan.take();
}

}  // namespace gatehouse::notifier
