// Internal: the gatehouse.kernel.v1.OperatorService that ServiceRuntime registers on every
// service's gRPC server (dead letters: list and re-drive). See operator_service.proto.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/inbox_consumer.h"
#include "gatehouse/kernel/kafka_settings.h"

namespace grpc {
class Service;
}

namespace gatehouse::kernel {

// `authenticator` (the service runtime's) authenticates callers: role `operator`.
std::unique_ptr<grpc::Service> make_operator_service(const std::string& service_name,
                                                     const BearerAuthenticator& authenticator, KafkaSettings kafka,
                                                     std::string dead_letter_topic,
                                                     std::vector<InboxConsumer*> inboxes);

}  // namespace gatehouse::kernel
