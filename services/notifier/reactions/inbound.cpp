#include "reactions/inbound.h"

namespace gatehouse::notifier {

kernel::HandlerVerdict queue_notifications(InputTopic topic, const kernel::InboundEvent& event,
                                           NotificationRuntime& notifications, const PlannerSettings& settings) {
    std::string error;
    const auto planned = plan_notifications(topic, event.envelope, settings, Clock::now(), error);
    if (!error.empty()) {
        return kernel::HandlerVerdict::poison(error);
    }
    if (planned.empty()) {
        return kernel::HandlerVerdict::ignored();
    }
    for (std::size_t i = 0; i < planned.size(); ++i) {
        const kernel::CommandContext context{.correlation_id = event.envelope.correlation_id(),
                                             .causation_id = event.envelope.event_id(),
                                             .actor = "notifier",
                                             .inbox_key = i + 1 == planned.size() ? event.inbox_key : std::string()};
        const auto result = notifications.execute(planned[i].notification_id(), Queue{planned[i]}, context);
        if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
            return kernel::HandlerVerdict::poison(rejection->message);
        }
    }
    return kernel::HandlerVerdict::applied();
}

}  // namespace gatehouse::notifier
