// Templates (escaping per context, start-up checks, locales) and the MIME message.
#include <catch2/catch.hpp>

#include <fstream>

#include "domain/templates.h"
#include "gatehouse/kernel/errors.h"
#include "gatehouse/testing/temp_dir.h"
#include "transport/transport.h"

using namespace gatehouse;
using namespace gatehouse::notifier;

namespace {

const std::filesystem::path kTemplates = GATEHOUSE_NOTIFIER_TEMPLATES_DIR;

std::map<std::string, std::string> request_variables(const std::string& company) {
    return {{"company_name", company},
            {"contact_name", "Ada Lovelace"},
            {"request_number", "PR-000042"},
            {"link", "https://shop.example/verify?request=PR-000042&token=abc"},
            {"link_expires_at", "2026-11-27T07:00 UTC"}};
}

void copy_templates(const std::filesystem::path& to) {
    std::filesystem::copy(kTemplates, to, std::filesystem::copy_options::recursive);
}

}  // namespace

TEST_CASE("the bundled templates load: every catalogue template exists in the default locale", "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    CHECK(templates.locales().count("en") == 1);
    CHECK(templates.locales().count("de") == 1);
    for (const auto& spec : template_catalogue()) {
        std::map<std::string, std::string> variables;
        for (const auto& name : spec.variables) {
            variables[name] = "value-of-" + name;
        }
        if (spec.kind == TemplateKind::email) {
            const auto email = templates.render_email(spec.name, "en", variables);
            CHECK_FALSE(email.subject.empty());
            CHECK_FALSE(email.text.empty());
            CHECK(email.html.find("<html>") != std::string::npos);
        } else {
            CHECK_FALSE(templates.render_chat(spec.name, "en", variables).empty());
        }
    }
}

TEST_CASE("variables are escaped for where they land", "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    const auto email = templates.render_email("prospect_pending", "en",
                                              {{"company_name", "Smith & <Sons>\r\nBcc: x@evil.example"},
                                               {"request_number", "PR-000042\r\nBcc: x@evil.example"},
                                               {"contact_name", "Ada"},
                                               {"contact_email", "ada@x.example"},
                                               {"country_code", "GB"}});
    CHECK(email.html.find("Smith &amp; &lt;Sons&gt;") != std::string::npos);
    CHECK(email.html.find("<Sons>") == std::string::npos);
    CHECK(email.text.find("Smith & <Sons>") != std::string::npos);  // plain text: verbatim
    CHECK(email.subject.find('\n') == std::string::npos);           // no header injection
    CHECK(email.subject.find('\r') == std::string::npos);
    const auto confirmation = templates.render_email("request_received", "en", request_variables("X"));
    CHECK(confirmation.html.find("href=\"https://shop.example/verify?request=PR-000042&amp;token=abc\"") !=
          std::string::npos);
    const auto chat = templates.render_chat("prospect_pending_chat", "en",
                                            {{"company_name", "<!channel> & co"},
                                             {"request_number", "PR-1"},
                                             {"contact_name", "Ada"},
                                             {"contact_email", "ada@x.example"},
                                             {"country_code", "GB"}});
    CHECK(chat.find("&lt;!channel&gt; &amp; co") != std::string::npos);
}

TEST_CASE("the emails sent before verification echo none of the form's free text, in every locale", "[templates]") {
    // Anyone can submit the form with any address: what they typed must not reach that inbox.
    const TemplateSet templates(kTemplates, "en");
    auto variables = request_variables("Cheap pills at evil.example");
    variables["contact_name"] = "Call +1 555 0100 now";
    for (const char* name : {"request_received", "verification_link"}) {
        for (const char* locale : {"en", "de"}) {
            INFO(name << " " << locale);
            REQUIRE(templates.resolve_locale(name, locale) == locale);
            const auto email = templates.render_email(name, locale, variables);
            for (const std::string* part : {&email.subject, &email.text, &email.html}) {
                CHECK(part->find("evil.example") == std::string::npos);
                CHECK(part->find("555 0100") == std::string::npos);
            }
            CHECK(email.text.find("PR-000042") != std::string::npos);
            CHECK(email.text.find("https://shop.example/verify?request=PR-000042&token=abc") != std::string::npos);
        }
    }
}

TEST_CASE("a locale without the template falls back to the default, and with it, it is used", "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    CHECK(templates.resolve_locale("request_received", "de") == "de");
    CHECK(templates.resolve_locale("prospect_rejected", "de") == "en");
    CHECK(templates.resolve_locale("request_received", "fr") == "en");
    CHECK(templates.render_email("request_received", "de", request_variables("X")).subject.find("Partneranfrage") !=
          std::string::npos);
}

TEST_CASE("sections on has_<variable> hide what is empty", "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    std::map<std::string, std::string> variables = {
        {"company_name", "X"}, {"contact_name", "Ada"}, {"request_number", "PR-1"}, {"reason", ""}};
    CHECK(templates.render_email("prospect_rejected", "en", variables).text.find("Reason:") == std::string::npos);
    variables["reason"] = "no trade licence";
    CHECK(templates.render_email("prospect_rejected", "en", variables).text.find("Reason: no trade licence") !=
          std::string::npos);
}

TEST_CASE("an unknown variable or a missing default template stops start-up, naming the file", "[templates]") {
    testing::TempDir dir;
    copy_templates(dir.path() / "t");
    { std::ofstream(dir.path() / "t" / "en" / "partner_approved.txt.mustache", std::ios::app) << "{{pasword}}\n"; }
    std::filesystem::remove(dir.path() / "t" / "en" / "lead_assigned_chat.chat.mustache");
    try {
        TemplateSet templates(dir.path() / "t", "en");
        FAIL("broken templates were accepted");
    } catch (const kernel::ConfigError& error) {
        const std::string message = error.what();
        CHECK(message.find("partner_approved.txt.mustache: unknown variable \"pasword\"") != std::string::npos);
        CHECK(message.find("lead_assigned_chat.chat.mustache: missing") != std::string::npos);
    }
    CHECK_THROWS_AS(TemplateSet(dir.path() / "nowhere", "en"), kernel::ConfigError);
    CHECK(template_variables("{{a}} {{{b}}} {{&c}} {{#d}}{{/d}} {{^e}}{{/e}} {{! note }}") ==
          std::set<std::string>{"a", "b", "c", "d", "e"});
}

TEST_CASE("the MIME message: headers, encoded subject, quoted-printable parts", "[mime]") {
    OutgoingEmail email;
    email.message_id = "<N-abc@gatehouse.test>";
    email.from = "Gatehouse <no-reply@gatehouse.test>";
    email.to = "ada@example.com";
    email.subject = "Ihre Partneranfrage: bitte bestätigen";
    email.text = "Grüße = 100%\n" + std::string(100, 'x') + "\n";
    email.html = "<p>Grüße</p>";
    const std::string mime = compose_mime(email, std::chrono::system_clock::time_point{});
    CHECK(mime.find("Message-ID: <N-abc@gatehouse.test>\r\n") != std::string::npos);
    CHECK(mime.find("Subject: =?UTF-8?B?") != std::string::npos);
    CHECK(mime.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != std::string::npos);
    CHECK(mime.find("Gr=C3=BC=C3=9Fe =3D 100%") != std::string::npos);
    CHECK(mime.find("Content-Type: multipart/alternative;") != std::string::npos);
    for (std::size_t start = 0, end; (end = mime.find("\r\n", start)) != std::string::npos; start = end + 2) {
        CHECK(end - start <= 78);  // RFC 5322 line length, soft breaks included
    }
}

TEST_CASE("the file transport keeps messages owner-only and deletes those older than its retention",
          "[templates][transport]") {
    gatehouse::testing::TempDir dir;
    const auto outbox = dir.path() / "outbox";
    std::filesystem::create_directories(outbox);
    const auto old_message = outbox / "old@gatehouse.localhost.eml";
    std::ofstream(old_message) << "an old message";
    std::filesystem::last_write_time(old_message,
                                     std::filesystem::file_time_type::clock::now() - std::chrono::hours(49));
    const auto transport = make_file_transport(outbox, std::chrono::hours(48));
    OutgoingEmail email;
    email.message_id = "<n-1@gatehouse.localhost>";
    email.from = "Gatehouse <no-reply@gatehouse.localhost>";
    email.to = "ada@example.com";
    email.subject = "Your link";
    email.text = "https://shop.example/set-password?token=secret";
    email.html = "<p>link</p>";
    REQUIRE(transport->send(email, [] { return false; }).kind == SendOutcome::Kind::delivered);
    const auto written = outbox / "n-1@gatehouse.localhost.eml";
    REQUIRE(std::filesystem::exists(written));
    using std::filesystem::perms;
    CHECK((std::filesystem::status(written).permissions() & perms::all) == (perms::owner_read | perms::owner_write));
    CHECK((std::filesystem::status(outbox).permissions() & perms::all) == perms::owner_all);
    CHECK_FALSE(std::filesystem::exists(old_message));
}

TEST_CASE("the password-reset email exists in English and German, with its link", "[templates]") {
    const TemplateSet templates(kTemplates, "en");
    const std::map<std::string, std::string> variables = {{"organization_name", "Smith & Sons"},
                                                          {"user_name", "Ada Lovelace"},
                                                          {"link", "https://shop.example/set-password?token=abc"},
                                                          {"link_expires_at", "2026-11-27T07:00 UTC"}};
    const auto en = templates.render_email("password_reset", "en", variables);
    CHECK(en.subject.find("Reset your password for Smith") == 0);
    CHECK(en.text.find("https://shop.example/set-password?token=abc") != std::string::npos);
    const auto de = templates.render_email("password_reset", "de", variables);
    CHECK(de.subject.find("Passwort zurücksetzen für Smith") == 0);
    CHECK(de.text.find("https://shop.example/set-password?token=abc") != std::string::npos);
    CHECK(de.html.find("href=\"https://shop.example/set-password?token=abc\"") != std::string::npos);
}
