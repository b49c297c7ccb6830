#include "api/sales_api.h"

#include <algorithm>
#include <cctype>

#include "gatehouse/kernel/grpc_auth.h"

namespace gatehouse::sales {

SalesApi::SalesApi(SalesApp& app, const kernel::BearerAuthenticator& authenticator)
    : app_(app), authenticator_(authenticator) {}

grpc::Status SalesApi::admit(grpc::ServerContext* context, kernel::Principal& principal,
                             std::initializer_list<Problem> problems) const {
    if (auto denied = kernel::authenticate_call(*context, authenticator_, {"sales", "sales-manager"}, principal);
        !denied.ok()) {
        return denied;
    }
    for (const Problem& problem : problems) {
        if (problem) {
            return rpc::invalid(*problem);
        }
    }
    return grpc::Status::OK;
}

namespace rpc {

grpc::Status invalid(const std::string& message) { return {grpc::StatusCode::INVALID_ARGUMENT, message}; }

Problem check_id(std::string_view field, std::string_view id) {
    if (id.empty()) {
        return std::string(field) + ": is required";
    }
    if (id.size() > 64 || !std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '/';
        })) {
        return std::string(field) + ": must be at most 64 letters, digits, - _ /";
    }
    return std::nullopt;
}

Problem page_problem(const std::variant<platform::PageRequest, std::string>& page) {
    if (const auto* problem = std::get_if<std::string>(&page)) {
        return *problem;
    }
    return std::nullopt;
}

void add_timeline(const std::vector<HistoryEntry>& history,
                  google::protobuf::RepeatedPtrField<v1::TimelineEntry>& timeline) {
    for (const HistoryEntry& entry : history) {
        v1::TimelineEntry& added = *timeline.Add();
        *added.mutable_at() = entry.at;
        added.set_event_type(entry.event_type);
        added.set_actor(entry.actor);
        added.set_detail(entry.detail);
    }
}

}  // namespace rpc

}  // namespace gatehouse::sales
