#include "web_app.h"

namespace gatehouse::web {

WebApp::WebApp(WebSettings settings, Channels channels)
    : site_(std::make_unique<Site>(std::move(settings), std::move(channels))) {
    add_storefront(*site_);
    add_storefront_extras(*site_);
    add_my_account(*site_);
    add_staff(*site_);
    add_office_hq(*site_);
    add_office_sales(*site_);
    add_office_operator(*site_);
}

WebApp::~WebApp() = default;

void WebApp::install(httplib::Server& server) { site_->install(server); }

}  // namespace gatehouse::web
