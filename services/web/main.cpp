// gatehouse-web: wiring only. The pages are in web_app.cpp; see docs/web.md and docs/configuration.md.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "gatehouse/kernel/config.h"
#include "gatehouse/kernel/errors.h"
#include "web_app.h"

using namespace gatehouse;

namespace {

kernel::ConfigSchema schema() {
    kernel::ConfigSchema schema;
    schema
        .add({"web.listen", kernel::OptionType::string, "127.0.0.1:8080",
              "host:port of the pages (port 0: the kernel picks one; the \"web ready http=PORT\" line says which)."})
        .add({"web.secure_cookies", kernel::OptionType::boolean, "false",
              "The pages are served behind TLS (a reverse proxy): cookies get the Secure attribute."})
        .add({"web.templates_dir", kernel::OptionType::string, "",
              "Directory holding templates/<page>.mustache and static/web.css (copy and edit to restyle); empty: the "
              "installed ones (/usr/share/gatehouse/web) when present, else the source tree's."})
        .add({"web.rpc_timeout", kernel::OptionType::duration, "10s", "Deadline of each call to a service."})
        .add({"web.threads", kernel::OptionType::integer, "8", "Requests served at once."})
        .add({"services.onboarding", kernel::OptionType::string, "127.0.0.1:50051",
              "gRPC address of the onboarding service. The web service passes the browser's address in "
              "x-forwarded-for: list the web service's address in that service's grpc.trusted_proxies."})
        .add({"services.customers", kernel::OptionType::string, "127.0.0.1:50052",
              "gRPC address of the customers service (same x-forwarded-for note)."})
        .add({"services.sales", kernel::OptionType::string, "127.0.0.1:50053",
              "gRPC address of the sales-bridge service (the sales pages of the back office)."})
        .add({"services.notifier", kernel::OptionType::string, "127.0.0.1:50054",
              "gRPC address of the notifier service (the operator pages of the back office)."})
        .add({"web.staff_file", kernel::OptionType::string, "",
              "The staff directory for the back office (\"email role user_id argon2id-hash\" lines, managed with "
              "`gatehouse staff add`); re-read when it changes. Empty: no staff sign-in."})
        .add({"web.gateway_token", kernel::OptionType::string, "",
              "The bearer token the back office calls the services with on a signed-in staff member's behalf: an "
              "auth.tokens entry of role gateway in every service (token=gateway:web:EMAIL). Required with "
              "web.staff_file.",
              true})
        .add({"web.staff_idle_timeout", kernel::OptionType::duration, "30m", "A staff session unused this long ends."})
        .at_least(60'000)
        .add({"web.staff_session_lifetime", kernel::OptionType::duration, "12h",
              "A staff session ends this long after sign-in, however busy."})
        .at_least(3'600'000)
        .add({"services.tls", kernel::OptionType::boolean, "false", "Call the services over TLS."})
        .add({"services.tls_ca", kernel::OptionType::string, "",
              "PEM file of the roots the services' certificates must chain to; empty: the system's."})
        .add({"services.tls_cert", kernel::OptionType::string, "",
              "PEM client certificate for services that ask for one (grpc.tls_client_ca), with services.tls_key."})
        .add({"services.tls_key", kernel::OptionType::string, "", "PEM private key of services.tls_cert.", true});
    return schema;
}

std::string read_setting_file(const std::string& setting, const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw kernel::ConfigError(setting + ": cannot read " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::shared_ptr<grpc::ChannelCredentials> credentials(const kernel::Config& config) {
    if (!config.boolean("services.tls")) {
        if (!config.string("services.tls_ca").empty() || !config.string("services.tls_cert").empty()) {
            throw kernel::ConfigError("services.tls_ca / services.tls_cert: set services.tls=true to use them");
        }
        return grpc::InsecureChannelCredentials();
    }
    grpc::SslCredentialsOptions options;
    if (const auto ca = config.string("services.tls_ca"); !ca.empty()) {
        options.pem_root_certs = read_setting_file("services.tls_ca", ca);
    }
    const auto cert = config.string("services.tls_cert");
    const auto key = config.string("services.tls_key");
    if (cert.empty() != key.empty()) {
        throw kernel::ConfigError("services.tls_cert and services.tls_key go together");
    }
    if (!cert.empty()) {
        options.pem_cert_chain = read_setting_file("services.tls_cert", cert);
        options.pem_private_key = read_setting_file("services.tls_key", key);
    }
    return grpc::SslCredentials(options);
}

std::filesystem::path templates_dir(const std::string& configured) {
    if (!configured.empty()) {
        return configured;
    }
    const std::filesystem::path installed = "/usr/share/gatehouse/web";
    std::error_code ignored;
    return std::filesystem::is_directory(installed, ignored) ? installed
                                                             : std::filesystem::path(GATEHOUSE_WEB_SOURCE_DIR);
}

int run(const kernel::Config& config) {
    // SIGTERM / SIGINT are blocked before any thread starts (gRPC's start with the channels below),
    // so every thread inherits the mask and only the stopper's sigwait takes them. Otherwise a
    // thread that does not block them may receive one: as PID 1 of a container, whose signals
    // without a handler are discarded, `podman stop` / Kubernetes would wait for SIGKILL.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    const std::string listen = config.string("web.listen");
    const auto colon = listen.rfind(':');
    int port = -1;
    try {
        port = colon == std::string::npos ? -1 : std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
        port = -1;
    }
    if (colon == std::string::npos || port < 0 || port > 65535) {
        throw kernel::ConfigError("web.listen: must be host:port, e.g. 127.0.0.1:8080 (port 0: any free port)");
    }
    const auto threads = config.integer("web.threads");
    if (threads < 1 || threads > 256) {
        throw kernel::ConfigError("web.threads: must be between 1 and 256");
    }
    const auto base = templates_dir(config.string("web.templates_dir"));
    web::WebSettings settings;
    settings.templates_dir = base / "templates";
    settings.static_dir = base / "static";
    settings.secure_cookies = config.boolean("web.secure_cookies");
    settings.rpc_timeout = config.duration("web.rpc_timeout");
    settings.staff_file = config.string("web.staff_file");
    settings.gateway_token = config.string("web.gateway_token");
    if (!settings.staff_file.empty() && settings.gateway_token.size() < 16) {
        throw kernel::ConfigError(
            "web.gateway_token: the back office (web.staff_file) needs the gateway's bearer token, at least 16 "
            "characters, listed with role gateway in every service's auth.tokens");
    }
    settings.staff_idle_timeout =
        std::chrono::duration_cast<std::chrono::minutes>(config.duration("web.staff_idle_timeout"));
    settings.staff_session_lifetime =
        std::chrono::duration_cast<std::chrono::hours>(config.duration("web.staff_session_lifetime"));
    const auto creds = credentials(config);
    web::WebApp app(settings, web::Channels{grpc::CreateChannel(config.string("services.onboarding"), creds),
                                            grpc::CreateChannel(config.string("services.customers"), creds),
                                            grpc::CreateChannel(config.string("services.sales"), creds),
                                            grpc::CreateChannel(config.string("services.notifier"), creds)});

    httplib::Server server;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    server.set_payload_max_length(64 * 1024);
    app.install(server);
    const std::string host = listen.substr(0, colon);
    const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
    if (bound <= 0) {
        throw std::runtime_error("cannot listen on " + listen);
    }

    // SIGTERM / SIGINT (blocked above) stop the server; in-flight requests finish.
    std::atomic<bool> stopping{false};
    std::thread stopper([&server, &stopping, signals] {
        int received = 0;
        sigwait(&signals, &received);
        stopping = true;
        server.stop();
    });
    std::cout << "web ready http=" << bound << std::endl;
    const bool clean = server.listen_after_bind();
    if (!stopping) {
        // listen ended without a signal: wake the stopper so it can be joined.
        kill(getpid(), SIGTERM);
    }
    stopper.join();
    return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const char* file = argc > 1 ? argv[1] : std::getenv("GATEHOUSE_CONFIG");
        if (file != nullptr && (std::string(file) == "--help" || std::string(file) == "-h")) {
            std::cout << "usage: gatehouse-web [CONFIG.yaml]   serve the storefront, My Account and the back office\n"
                      << "Settings (file or GATEHOUSE_* environment):\n\n"
                      << schema().describe_markdown("GATEHOUSE_");
            return 0;
        }
        const auto config =
            kernel::Config::load(schema(), file != nullptr ? std::optional<std::filesystem::path>(file) : std::nullopt);
        return run(config);
    } catch (const kernel::ConfigError& error) {
        std::cerr << "gatehouse-web: configuration error: " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "gatehouse-web: " << error.what() << "\n";
        return 1;
    }
}
