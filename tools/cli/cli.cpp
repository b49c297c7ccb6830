#include "cli.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace gatehouse::cli {

using google::protobuf::util::TimeUtil;

namespace {

// The content of a PEM file named by `option`, which must hold a `what` ("CERTIFICATE", "PRIVATE
// KEY"): gRPC's own message for a wrong file comes only at the first call, as UNAVAILABLE. The
// message names the option and the path, never the content (a key is a secret).
std::string read_pem(const std::string& option, const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw UsageError(option + " " + path + ": cannot read it (" + std::strerror(errno) + ")");
    }
    std::stringstream content;
    content << in.rdbuf();
    const std::string pem = content.str();
    const auto begin = pem.find("-----BEGIN ");
    if (in.bad() || begin == std::string::npos ||
        pem.substr(begin, pem.find('\n', begin) - begin).find(what + "-----") == std::string::npos) {
        throw UsageError(option + " " + path + ": not a PEM " +
                         (what == "CERTIFICATE" ? "certificate" : "private key"));
    }
    return pem;
}

std::shared_ptr<grpc::ChannelCredentials> credentials_of(const Cli& cli) {
    if (!cli.tls) {
        if (!cli.tls_ca.empty() || !cli.tls_cert.empty() || !cli.tls_key.empty()) {
            // Certificates given for a plaintext channel are a mistake to point out, not to ignore.
            throw UsageError("--ca, --cert and --key (GATEHOUSE_TLS_CA, _CERT, _KEY) need --tls (GATEHOUSE_TLS=1)");
        }
        return grpc::InsecureChannelCredentials();
    }
    if (cli.tls_cert.empty() != cli.tls_key.empty()) {
        throw UsageError("--cert and --key (GATEHOUSE_TLS_CERT, GATEHOUSE_TLS_KEY) go together");
    }
    grpc::SslCredentialsOptions options;
    if (!cli.tls_ca.empty()) {
        options.pem_root_certs = read_pem("--ca", cli.tls_ca, "CERTIFICATE");
    }
    if (!cli.tls_cert.empty()) {
        options.pem_cert_chain = read_pem("--cert", cli.tls_cert, "CERTIFICATE");
        options.pem_private_key = read_pem("--key", cli.tls_key, "PRIVATE KEY");
    }
    return grpc::SslCredentials(options);
}

}  // namespace

std::shared_ptr<grpc::Channel> Cli::channel(const std::string& address) const {
    return grpc::CreateChannel(address, credentials_of(*this));
}

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
    // gRPC's own message for a failed handshake ("Socket closed", "handshake failed") does not say
    // that TLS is the cause; the likeliest fix does.
    if (code == grpc::StatusCode::UNAVAILABLE) {
        std::cerr << (tls ? "hint: if the service is up, check --ca (the CA of its certificate) and, for a service "
                            "that asks for client certificates, --cert and --key\n"
                          : "hint: if the service is up, it may serve TLS only: add --tls (GATEHOUSE_TLS=1) with "
                            "--ca, and --cert / --key when it asks for client certificates\n");
    }
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

bool env_flag(const char* name, bool fallback) {
    std::string value = env_or(name, "");
    if (value.empty()) {
        return fallback;
    }
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value == "1" || value == "true" || value == "yes" || value == "on";
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
