// The web front door: the storefront, the partner's My Account and the staff back office, each a
// module of pages on one Site (site.h). Server-rendered HTML from mustache templates, no script;
// every state change is a POST carrying the CSRF token; the services are called over gRPC as any
// client does, with the browser's address in x-forwarded-for (the web service is the services'
// trusted proxy), the partner's session token, or the gateway token on a staff member's behalf.
#pragma once

#include <memory>

#include "site.h"

namespace gatehouse::web {

class WebApp final {
  public:
    // Reads every template, the stylesheet and the staff directory now: a missing or broken one
    // stops start-up (std::runtime_error naming the file).
    WebApp(WebSettings settings, Channels channels);
    ~WebApp();
    WebApp(const WebApp&) = delete;
    WebApp& operator=(const WebApp&) = delete;

    // Routes every page, the stylesheet, the CSRF check and the security headers on `server`.
    void install(httplib::Server& server);

  private:
    std::unique_ptr<Site> site_;
};

}  // namespace gatehouse::web
