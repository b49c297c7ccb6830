#include "app/app_context.h"

#include <sodium.h>

#include "gatehouse/kernel/errors.h"
#include "gatehouse/kernel/ids.h"
#include "gatehouse/kernel/logging.h"

namespace gatehouse::customers {

Result AppContext::execute(const std::string& customer_id, const Customer::Command& command,
                           const std::string& actor) const {
    return customers_.execute(customer_id, command, {.correlation_id = kernel::new_uuid_v7(), .actor = actor});
}

kernel::HandlerVerdict verdict_of(const Result& result, const kernel::InboundEvent& event) {
    if (const auto* rejection = std::get_if<kernel::Rejection>(&result)) {
        if (rejection->code == kernel::RejectionCode::conflict ||
            rejection->code == kernel::RejectionCode::unavailable) {
            throw kernel::TransientError(rejection->message);
        }
        // Nothing later can make it valid: recorded as processed and logged, not retried.
        kernel::logger("customers")
            ->warn("{} {} ignored: {}", event.envelope.event_type(), event.envelope.event_id(), rejection->message);
        return kernel::HandlerVerdict::ignored();
    }
    return kernel::HandlerVerdict::applied();
}

std::string credential_key(const std::string& user_id, const std::string& credential_id) {
    return "credential/" + user_id + "/" + credential_id;
}

std::string hex(std::string_view bytes) {
    std::string text(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    text.pop_back();
    return text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto end = text.find('\n', start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string::npos) {
            return parts;
        }
        start = end + 1;
    }
}

}  // namespace gatehouse::customers
