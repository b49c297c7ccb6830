// The API edge's error mapping: a domain Rejection becomes the gRPC status of the same meaning,
// with the rejection's message (which names the field / state) and nothing internal.
#pragma once

#include <grpcpp/support/status.h>

#include "gatehouse/kernel/errors.h"

namespace gatehouse::kernel {

inline grpc::Status to_grpc_status(const Rejection& rejection) {
    switch (rejection.code) {
        case RejectionCode::invalid_argument:
            return {grpc::StatusCode::INVALID_ARGUMENT, rejection.message};
        case RejectionCode::not_found:
            return {grpc::StatusCode::NOT_FOUND, rejection.message};
        case RejectionCode::failed_precondition:
            return {grpc::StatusCode::FAILED_PRECONDITION, rejection.message};
        case RejectionCode::already_exists:
            return {grpc::StatusCode::ALREADY_EXISTS, rejection.message};
        case RejectionCode::permission_denied:
            return {grpc::StatusCode::PERMISSION_DENIED, rejection.message};
        case RejectionCode::conflict:
            return {grpc::StatusCode::ABORTED, rejection.message};
        case RejectionCode::resource_exhausted:
            return {grpc::StatusCode::RESOURCE_EXHAUSTED, rejection.message};
        case RejectionCode::unavailable:
            return {grpc::StatusCode::UNAVAILABLE, rejection.message};
    }
    return {grpc::StatusCode::INTERNAL, "internal error"};
}

}  // namespace gatehouse::kernel
