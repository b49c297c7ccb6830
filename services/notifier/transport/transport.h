// How notifications leave the process: email (SMTP via libcurl, or .eml files in a directory)
// and chat posts (an incoming-webhook JSON POST via libcurl). Transports only deliver; the
// dispatcher decides about retries from the outcome.
//
// Thread safety: send() and post_webhook() may run concurrently from several threads (the
// dispatcher's parallel sends); each send has its own libcurl handle and connection, or its own
// file. Every send takes an `Interrupted` check that a transport asks while the send is in flight
// (every 100 ms or so): when it answers true (the service is stopping), the send is abandoned at
// once and returns SendOutcome::interrupted().
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::notifier {

struct OutgoingEmail {
    std::string message_id;  // "<id@domain>", stable per notification
    std::string from;        // "Name <address>" or "address"
    std::string to;          // an address
    std::string subject;
    std::string text;
    std::string html;
    // A meeting invitation (iCalendar, RFC 5545) sent as a third, text/calendar part with the
    // iTIP method ("REQUEST", "CANCEL"); empty for other emails.
    std::string calendar;
    std::string calendar_method;
};

struct SendOutcome {
    // interrupted: abandoned because the service is stopping. Not an attempt: nothing is recorded,
    // the notification stays queued and is sent at the next start (with the same Message-ID).
    enum class Kind { delivered, transient, permanent, interrupted };
    Kind kind = Kind::delivered;
    std::string error;  // for failures: what the receiver or the connection said

    static SendOutcome delivered() { return {Kind::delivered, {}}; }
    static SendOutcome transient(std::string why) { return {Kind::transient, std::move(why)}; }
    static SendOutcome permanent(std::string why) { return {Kind::permanent, std::move(why)}; }
    static SendOutcome interrupted() { return {Kind::interrupted, "interrupted: the service is stopping"}; }
};

// True once an in-flight send should be abandoned (must be cheap and safe from any thread). An
// empty function never interrupts.
using Interrupted = std::function<bool()>;

class EmailTransport {
  public:
    virtual ~EmailTransport() = default;
    virtual SendOutcome send(const OutgoingEmail& email, const Interrupted& interrupted) = 0;
    [[nodiscard]] virtual std::string name() const = 0;
};

// The RFC 5322 message: headers (subject RFC 2047-encoded when not ASCII) and a
// multipart/alternative body with quoted-printable text and HTML parts, and for an invitation a
// base64 "text/calendar; method=…; charset=UTF-8" part last (iMIP, RFC 6047: the part a calendar
// client acts on).
std::string compose_mime(const OutgoingEmail& email, std::chrono::system_clock::time_point date);

// One <message id>.eml per message in `directory` (written atomically: temporary file + rename).
// The zero-install default: read the emails with any mail client or a text editor.
// The directory is created 0700 and each file 0600 (the messages hold live one-time links);
// files older than `retention` are deleted (checked at most once a minute).
std::unique_ptr<EmailTransport> make_file_transport(std::filesystem::path directory,
                                                    std::chrono::milliseconds retention = std::chrono::hours(24 * 7));

struct SmtpSettings {
    std::string url;  // smtp://host:port (plain or STARTTLS) or smtps://host:port (TLS)
    std::string tls;  // "none", "starttls" (required) or "tls"
    std::string username;
    std::string password;
    std::chrono::milliseconds timeout{30000};
};
// Throws kernel::ConfigError on a bad URL / TLS mode.
std::unique_ptr<EmailTransport> make_smtp_transport(SmtpSettings settings);

// One JSON POST: `headers` ("Name: value") besides Content-Type: application/json.
struct HttpPost {
    std::string url;
    std::string body;
    std::vector<std::string> headers;
    std::chrono::milliseconds timeout{10000};
};
// delivered (2xx) or transient (anything else, with the status; 0 when there was no answer), or
// interrupted. Redirects are not followed.
struct HttpAnswer {
    SendOutcome outcome;
    int status_code = 0;
};
HttpAnswer post_http(const HttpPost& post, const Interrupted& interrupted = {});

// A chat post: POSTs `json` to `url`; 2xx is delivered, 4xx (but 408 / 429) permanent, the rest transient.
SendOutcome post_webhook(const std::string& url, const std::string& json, std::chrono::milliseconds timeout,
                         const Interrupted& interrupted = {});

}  // namespace gatehouse::notifier
