#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {

std::string_view to_string(RejectionCode code) {
    switch (code) {
        case RejectionCode::invalid_argument:
            return "invalid argument";
        case RejectionCode::not_found:
            return "not found";
        case RejectionCode::failed_precondition:
            return "failed precondition";
        case RejectionCode::already_exists:
            return "already exists";
        case RejectionCode::permission_denied:
            return "permission denied";
        case RejectionCode::resource_exhausted:
            return "resource exhausted";
        case RejectionCode::conflict:
            return "conflict";
        case RejectionCode::unavailable:
            return "unavailable";
    }
    return "unknown";
}

}  // namespace gatehouse::kernel
