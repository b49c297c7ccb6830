#include "cli.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace gatehouse::cli {

using google::protobuf::util::TimeUtil;

std::unique_ptr<grpc::ClientContext> Cli::context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
    if (!token.empty()) {
        context->AddMetadata("authorization", "Bearer " + token);
    }
    return context;
}

bool Cli::succeeded(const grpc::Status& status) {
    if (status.ok()) {
        return true;
    }
    static const char* kNames[] = {
        "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"};
    const int code = status.error_code();
    std::cerr << "error: " << (code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN") << ": " << status.error_message()
              << "\n";
    exit_code = code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ? kExitUnreachable
                                                                                                     : kExitRefused;
    return false;
}

void Cli::usage_error(const std::string& message) {
    std::cerr << "error: " << message << "\n";
    exit_code = kExitUsage;
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

void print_json(const google::protobuf::Message& message) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.always_print_primitive_fields = true;  // scripts see every field, even when empty
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    std::cout << json;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        widths[c] = header[c].size();
        for (const auto& row : rows) {
            widths[c] = std::max(widths[c], row[c].size());
        }
    }
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < cells.size(); ++c) {
            std::cout << cells[c] << (c + 1 == cells.size() ? "\n" : std::string(widths[c] - cells[c].size() + 2, ' '));
        }
    };
    line(header);
    for (const auto& row : rows) {
        line(row);
    }
}

std::string when(const google::protobuf::Timestamp& stamp) {
    return stamp.seconds() == 0 ? "-" : TimeUtil::ToString(stamp).substr(0, 19) + "Z";
}

bool parse_time(const std::string& text, google::protobuf::Timestamp& out) { return TimeUtil::FromString(text, &out); }

}  // namespace gatehouse::cli
