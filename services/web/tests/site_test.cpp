#include "site.h"

#include <grpcpp/support/status.h>
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

TEST_CASE("a form shows its input's refusals (422), and a decision's form also the record state's (409)", "[site]") {
    const grpc::Status input(grpc::StatusCode::INVALID_ARGUMENT, "reason: must not be empty");
    const grpc::Status decided(grpc::StatusCode::FAILED_PRECONDITION, "the request is already approved");
    const grpc::Status exists(grpc::StatusCode::ALREADY_EXISTS, "the hierarchy exists");
    CHECK(Site::shown_on_form(input) == 422);
    CHECK(Site::shown_on_form(input, Refusals::input_and_state) == 422);
    CHECK_FALSE(Site::shown_on_form(decided).has_value());
    CHECK(Site::shown_on_form(decided, Refusals::input_and_state) == 409);
    CHECK(Site::shown_on_form(exists, Refusals::input_and_state) == 409);
    for (const auto code : {grpc::StatusCode::OK, grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::NOT_FOUND,
                            grpc::StatusCode::UNAVAILABLE}) {
        CHECK_FALSE(Site::shown_on_form(grpc::Status(code, ""), Refusals::input_and_state).has_value());
    }
}

TEST_CASE("a form whose template writes its inputs gets their rules and a summary linking to them", "[site]") {
    WebSettings settings;
    settings.templates_dir = GATEHOUSE_SOURCE_DIR "/services/web/templates";
    settings.static_dir = GATEHOUSE_SOURCE_DIR "/services/web/static";
    Site site(settings, Channels{});
    static constexpr Text kLabels[] = {{"test_reason", "Reason", "Grund"}};
    site.add_texts(kLabels);
    constexpr FormInput kReason{"reason", "reject-reason", "test_reason"};
    Visit v;
    v.lang = "en";
    mustache::mustache page(
        "{{#has_errors}}{{#summary}}[{{text}}|{{href}}]{{/summary}}{{/has_errors}}"
        "{{reason_error}}");

    const auto on_input =
        Site::errors_of(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "reason: must not be empty"), {kReason});
    REQUIRE(on_input.fields.count("reason") == 1);
    mustache::data data = mustache::data::type::object;
    site.set_errors(v, data, on_input, {kReason});
    CHECK(page.render(data) == "[Reason: must not be empty|reject-reason]must not be empty");

    const auto general =
        Site::errors_of(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "already approved"), {kReason});
    CHECK(general.fields.empty());
    mustache::data general_data = mustache::data::type::object;
    site.set_errors(v, general_data, general, {kReason});
    CHECK(page.render(general_data) == "[already approved|]");

    mustache::data none = mustache::data::type::object;
    site.set_errors(v, none, FormErrors{}, {kReason});
    CHECK(page.render(none).empty());
}
