#include "site.h"

#include <httplib.h>

#include <catch2/catch.hpp>

using namespace gatehouse::web;

TEST_CASE("a back-office page added without staff roles stops start-up, so none is left open", "[site]") {
    WebSettings settings;
    settings.templates_dir = GATEHOUSE_SOURCE_DIR "/services/web/templates";
    settings.static_dir = GATEHOUSE_SOURCE_DIR "/services/web/static";
    {
        Site site(settings, Channels{});
        site.get("/office/secret", [](Visit&) {});
        httplib::Server server;
        CHECK_THROWS_WITH(site.install(server), Catch::Contains("/office/secret") && Catch::Contains("roles"));
    }
    {
        Site site(settings, Channels{});
        site.get("/office/sign-in", [](Visit&) {});  // the way in stays open
        site.get("/partner", [](Visit&) {});
        httplib::Server server;
        CHECK_NOTHROW(site.install(server));
    }
}
