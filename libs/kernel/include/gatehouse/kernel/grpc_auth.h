// The API edge's authentication: the caller's bearer credential (metadata "authorization:
// Bearer <token>") checked against a BearerAuthenticator and a set of allowed roles. One helper
// for every service, so that the answers are the same everywhere: UNAUTHENTICATED without a
// valid credential, PERMISSION_DENIED for a valid one with another role.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "gatehouse/kernel/auth.h"
#include "gatehouse/kernel/client_address.h"

namespace gatehouse::kernel {

// The staff principal behind the call's "authorization" (and, for a gateway, kOnBehalfOfHeader)
// metadata, or nullopt.
inline std::optional<Principal> authenticate_metadata(const grpc::ServerContext& context,
                                                      const BearerAuthenticator& authenticator) {
    const auto& metadata = context.client_metadata();
    const auto header = metadata.find("authorization");
    if (header == metadata.end()) {
        return std::nullopt;
    }
    const auto behalf = metadata.find(std::string(kOnBehalfOfHeader));
    const std::string_view on_behalf_of =
        behalf == metadata.end() ? std::string_view{} : std::string_view(behalf->second.data(), behalf->second.size());
    return authenticator.authenticate(std::string_view(header->second.data(), header->second.size()), on_behalf_of);
}

// The principal behind the call's credential, if its role is one of `roles`.
inline grpc::Status authenticate_call(const grpc::ServerContext& context, const BearerAuthenticator& authenticator,
                                      std::initializer_list<std::string_view> roles, Principal& principal) {
    const auto& metadata = context.client_metadata();
    const auto header = metadata.find("authorization");
    std::string wanted;
    for (const auto role : roles) {
        wanted += (wanted.empty() ? "" : " or ") + std::string(role);
    }
    if (header == metadata.end()) {
        return {grpc::StatusCode::UNAUTHENTICATED,
                "a credential with the role " + wanted + " is required (authorization: Bearer <token>)"};
    }
    auto found = authenticate_metadata(context, authenticator);
    if (!found) {
        return {grpc::StatusCode::UNAUTHENTICATED, "the credential is not valid"};
    }
    for (const auto role : roles) {
        if (found->role == role) {
            principal = std::move(*found);
            return grpc::Status::OK;
        }
    }
    return {grpc::StatusCode::PERMISSION_DENIED, "this call needs the role " + wanted};
}

// The client of the call, as the key of per-client limits: the TCP peer, or behind a trusted proxy
// the address its x-forwarded-for header names (see client_address.h).
inline std::string client_key(const grpc::ServerContext& context, const ClientAddressResolver& resolver) {
    std::string forwarded_for;
    const auto [first, last] = context.client_metadata().equal_range("x-forwarded-for");
    for (auto header = first; header != last; ++header) {
        forwarded_for += (forwarded_for.empty() ? "" : ",") + std::string(header->second.data(), header->second.size());
    }
    return resolver.resolve(context.peer(), forwarded_for);
}

}  // namespace gatehouse::kernel
