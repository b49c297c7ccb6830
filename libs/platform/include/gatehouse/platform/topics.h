// The platform's topics (without the deployment's kafka.topic_prefix) and the one service that
// writes each. Consumers pass the owner to ServiceRuntime::consume, which dead-letters events that
// name another producer; the broker's ACLs (deploy/kafka) enforce the same rule for the writes.
#pragma once

namespace gatehouse::platform {

struct EventTopic final {
    const char* name;      // e.g. "gatehouse.sales.events.v1"
    const char* producer;  // the writing service, as it names itself in EventEnvelope.producer
};

inline constexpr EventTopic kOnboardingEvents{"gatehouse.onboarding.events.v1", "onboarding"};
inline constexpr EventTopic kCustomersEvents{"gatehouse.customers.events.v1", "customers"};
inline constexpr EventTopic kSalesEvents{"gatehouse.sales.events.v1", "sales-bridge"};
inline constexpr EventTopic kNotifierEvents{"gatehouse.notifier.events.v1", "notifier"};

}  // namespace gatehouse::platform
