// The web front door's pages: the storefront (become a partner, confirm the email, set a password,
// sign in / out) and the partner's My Account (organisation, users). Server-rendered HTML from the
// mustache templates, no script; every state change is a POST carrying the CSRF token; the APIs are
// called over gRPC as any client does, with the browser's address in x-forwarded-for (the web
// service is the services' trusted proxy) and the partner's session token as the bearer credential.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace grpc {
class Channel;
}  // namespace grpc
namespace httplib {
class Server;
}  // namespace httplib

namespace gatehouse::web {

struct WebSettings final {
    std::filesystem::path templates_dir;
    std::filesystem::path static_dir;
    bool secure_cookies = false;  // served behind TLS: cookies get Secure
    std::chrono::milliseconds rpc_timeout{10000};
};

class WebApp final {
  public:
    // Reads every template and the stylesheet now: a missing one stops start-up (std::runtime_error
    // naming the file).
    WebApp(WebSettings settings, std::shared_ptr<grpc::Channel> onboarding, std::shared_ptr<grpc::Channel> customers);
    ~WebApp();
    WebApp(const WebApp&) = delete;
    WebApp& operator=(const WebApp&) = delete;

    // Routes every page, the stylesheet, the CSRF check and the security headers on `server`.
    void install(httplib::Server& server);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::web
