// What every command group of the `gatehouse` CLI shares: service addresses and credentials, the
// output mode, the exit code, and the helpers that print tables, JSON and errors.
//
// Each service's commands live in their own <area>_commands.cpp and register themselves through
// one add_<area>_commands() function (see commands.h), so adding a service never touches the others.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace google::protobuf {
class Message;
class Timestamp;
}  // namespace google::protobuf
namespace grpc {
class Channel;
class ChannelCredentials;
class ClientContext;
class Status;
}  // namespace grpc

namespace gatehouse::cli {

// Exit codes: 0 done, 1 the service refused (status printed), 2 bad usage, 3 service unreachable.
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct Cli {
    // gRPC addresses, from flags or GATEHOUSE_<SERVICE>_ADDR.
    std::string onboarding = "127.0.0.1:50051";
    std::string customers = "127.0.0.1:50052";
    std::string sales = "127.0.0.1:50053";
    std::string notifier = "127.0.0.1:50054";
    std::string token;  // bearer credential, from --token or GATEHOUSE_TOKEN
    // TLS, from --tls / --ca / --cert / --key or GATEHOUSE_TLS / GATEHOUSE_TLS_CA / _CERT / _KEY.
    bool tls = false;
    std::string tls_ca;    // PEM roots the services' certificates must chain to; empty: the system's
    std::string tls_cert;  // PEM client certificate (mutual TLS, grpc.tls_client_ca), with tls_key
    std::string tls_key;
    bool json = false;
    int exit_code = 0;

    // A channel to `address`: TLS when asked for, plaintext otherwise. Throws UsageError when the
    // TLS options do not fit together or a file cannot be read.
    [[nodiscard]] std::shared_ptr<grpc::Channel> channel(const std::string& address) const;
    // A client context with a deadline and the bearer credential.
    [[nodiscard]] std::unique_ptr<grpc::ClientContext> context() const;
    // True when the call succeeded; otherwise prints the error and sets the exit code.
    bool succeeded(const grpc::Status& status);
    // Prints "error: <message>" and sets the usage exit code.
    void usage_error(const std::string& message);
};

// A mistake in the command line or its environment found while running a command (e.g. an
// unreadable certificate file): main prints it and exits with kExitUsage.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string env_or(const char* name, const std::string& fallback);
// An environment flag: "1", "true", "yes" or "on" (any case) are true, unset or empty `fallback`.
bool env_flag(const char* name, bool fallback);
void print_json(const google::protobuf::Message& message);
// A plain text table: columns as wide as their widest cell.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
// "2026-11-24T07:00:00Z", or "-" for an unset time.
std::string when(const google::protobuf::Timestamp& stamp);
// Parses an RFC 3339 time into `out`; false when it is not one.
bool parse_time(const std::string& text, google::protobuf::Timestamp& out);

}  // namespace gatehouse::cli
