// The planner: which notifications an input event causes (pure: no I/O, no clock but `now`).
//
// One function per input topic maps each event type the notifier cares about to zero or more
// NotificationQueued records — template, channel, recipient, locale, variables, and for one-time
// links the still-sealed token and the link's path. Events it does not care about plan nothing.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "gatehouse/kernel/event_store.h"
#include "gatehouse/notifier/v1/events.pb.h"

namespace gatehouse::notifier {

enum class InputTopic { onboarding, customers, sales };

struct PlannerSettings {
    std::string default_locale = "en";
    std::set<std::string> locales{"en"};  // locales with templates: a contact's country picks one
    std::set<std::string> chat_channels;  // channels with a webhook (e.g. "hq", "sales")
    std::string hq_email;                 // empty: HQ is told by chat only
    bool tell_rejection_reason = true;    // policy: does the decline email quote the reason?
};

// `payload_error` is set (and nothing planned) when the event's payload does not decode.
std::vector<v1::NotificationQueued> plan_notifications(InputTopic topic, const kernel::v1::EventEnvelope& envelope,
                                                       const PlannerSettings& settings,
                                                       std::chrono::system_clock::time_point now,
                                                       std::string& payload_error);

// The locale for a country (ISO 3166-1 alpha-2), if it is one of `locales`; else the default.
std::string locale_for_country(const std::string& country_code, const PlannerSettings& settings);

}  // namespace gatehouse::notifier
