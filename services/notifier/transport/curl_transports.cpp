// SMTP and webhook delivery with libcurl: one easy handle (and connection) per message, so that
// the dispatcher's parallel sends share nothing but the immutable settings, and a fresh connection
// keeps failure handling simple. Each transfer runs on a multi handle of its own that is polled
// every 100 ms at most, so that a send stuck on a silent server is abandoned promptly when the
// service stops instead of at its timeout.
#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "gatehouse/kernel/errors.h"
#include "transport/transport.h"

namespace gatehouse::notifier {
namespace {

// curl_global_init is not thread-safe (before libcurl 7.84): it runs once, during static
// initialisation, before main() and so before any sending thread exists.
struct CurlGlobal {
    CurlGlobal() noexcept { curl_global_init(CURL_GLOBAL_DEFAULT); }
};
const CurlGlobal curl_global;

using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

Easy new_easy() { return Easy(curl_easy_init(), &curl_easy_cleanup); }

constexpr int kInterruptCheckMs = 100;
// After an interrupt, how long the transfer may take to fail on its shut-down sockets.
constexpr auto kAbortTimeout = std::chrono::seconds(2);

// Abandoning a transfer safely. Removing an unfinished SMTP transfer from its multi handle would
// make libcurl end it as if the upload were complete (it sends the end-of-data line and waits
// for the answer: a truncated message could be accepted). Instead the transfer is made to fail
// inside libcurl: its sockets are shut down (a read or write fails at once, and so does the QUIT
// libcurl sends before closing) and the progress callback, which libcurl calls in every state
// (also while connecting), answers "abort". A failed transfer never sends the end-of-data line.
struct Abort {
    const Interrupted& interrupted;
    std::vector<curl_socket_t> sockets;  // open sockets of the transfer
    bool requested = false;

    // Asks `interrupted` (once it said yes, the answer stays yes) and shuts the sockets down.
    bool check() {
        if (!requested && interrupted()) {
            requested = true;
            for (const curl_socket_t socket : sockets) {
                ::shutdown(socket, SHUT_RDWR);
            }
        }
        return requested;
    }
};

curl_socket_t open_socket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
    auto* abort = static_cast<Abort*>(user);
    const curl_socket_t socket = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (socket != CURL_SOCKET_BAD) {
        abort->sockets.push_back(socket);
        if (abort->requested) {
            ::shutdown(socket, SHUT_RDWR);
        }
    }
    return socket;
}

int close_socket(void* user, curl_socket_t socket) {
    std::erase(static_cast<Abort*>(user)->sockets, socket);
    return ::close(socket);
}

int on_progress(void* user, curl_off_t /*download_total*/, curl_off_t /*downloaded*/, curl_off_t /*upload_total*/,
                curl_off_t /*uploaded*/) {
    return static_cast<Abort*>(user)->check() ? 1 : 0;
}

// curl_easy_perform(easy), asking `interrupted` at least every kInterruptCheckMs: when it answers
// true, the transfer is made to fail (see Abort) and `was_interrupted` set, unless it had
// completed anyway.
CURLcode perform(CURL* easy, const Interrupted& interrupted, bool& was_interrupted) {
    was_interrupted = false;
    if (!interrupted) {
        return curl_easy_perform(easy);
    }
    if (interrupted()) {
        was_interrupted = true;
        return CURLE_ABORTED_BY_CALLBACK;
    }
    // Declared before the multi handle: the connection's sockets are closed (close_socket) when
    // the multi handle is cleaned up.
    Abort abort{interrupted, {}};
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &abort);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, &abort);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &abort);
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    CURLcode result = CURLE_OK;
    {
        const std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(), &curl_multi_cleanup);
        if (!multi || curl_multi_add_handle(multi.get(), easy) != CURLM_OK) {
            return CURLE_OUT_OF_MEMORY;
        }
        std::optional<std::chrono::steady_clock::time_point> abort_deadline;
        for (;;) {
            int running = 0;
            if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
                result = CURLE_SEND_ERROR;
                break;
            }
            if (running == 0) {
                int left = 0;
                result = CURLE_GOT_NOTHING;
                while (const CURLMsg* message = curl_multi_info_read(multi.get(), &left)) {
                    if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
                        result = message->data.result;
                    }
                }
                break;
            }
            if (abort.check() && !abort_deadline) {
                abort_deadline = std::chrono::steady_clock::now() + kAbortTimeout;
            }
            if (abort_deadline && std::chrono::steady_clock::now() > *abort_deadline) {
                result = CURLE_ABORTED_BY_CALLBACK;  // sockets shut down: nothing more can be sent
                break;
            }
            // Returns early on activity, and when libcurl's own timers (timeouts) are due.
            if (curl_multi_poll(multi.get(), nullptr, 0, kInterruptCheckMs, nullptr) != CURLM_OK) {
                result = CURLE_RECV_ERROR;
                break;
            }
        }
        curl_multi_remove_handle(multi.get(), easy);
    }
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, nullptr);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, nullptr);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, nullptr);
    was_interrupted = abort.requested && result != CURLE_OK;
    return result;
}

struct Upload {
    const std::string& data;
    std::size_t sent = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, upload->data.size() - upload->sent);
    std::memcpy(buffer, upload->data.data() + upload->sent, n);
    upload->sent += n;
    return n;
}

std::size_t discard(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) { return size * count; }

// The address inside "Name <address>".
std::string bare_address(const std::string& text) {
    const auto open = text.rfind('<');
    const auto close = text.rfind('>');
    if (open != std::string::npos && close != std::string::npos && close > open) {
        return text.substr(open + 1, close - open - 1);
    }
    return text;
}

class SmtpTransport final : public EmailTransport {
  public:
    explicit SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {
        if (settings_.url.rfind("smtp://", 0) != 0 && settings_.url.rfind("smtps://", 0) != 0) {
            throw kernel::ConfigError("setting smtp.url: expected smtp://host:port or smtps://host:port, got \"" +
                                      settings_.url + "\"");
        }
        if (settings_.tls != "none" && settings_.tls != "starttls" && settings_.tls != "tls") {
            throw kernel::ConfigError("setting smtp.tls: expected none, starttls or tls, got \"" + settings_.tls +
                                      "\"");
        }
        if (settings_.tls == "tls" && settings_.url.rfind("smtps://", 0) != 0) {
            throw kernel::ConfigError("setting smtp.tls: tls needs an smtps:// URL in smtp.url");
        }
    }

    SendOutcome send(const OutgoingEmail& email, const Interrupted& interrupted) override {
        auto curl = new_easy();
        if (!curl) {
            return SendOutcome::transient("curl_easy_init failed");
        }
        const std::string message = compose_mime(email, std::chrono::system_clock::now());
        Upload upload{message};
        const std::string from = "<" + bare_address(email.from) + ">";
        curl_slist* recipients = curl_slist_append(nullptr, ("<" + bare_address(email.to) + ">").c_str());
        char error_text[CURL_ERROR_SIZE] = {};
        CURL* handle = curl.get();
        curl_easy_setopt(handle, CURLOPT_URL, settings_.url.c_str());
        curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients);
        curl_easy_setopt(handle, CURLOPT_READFUNCTION, &read_upload);
        curl_easy_setopt(handle, CURLOPT_READDATA, &upload);
        curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
        if (settings_.tls == "starttls") {
            curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        }
        if (!settings_.username.empty()) {
            curl_easy_setopt(handle, CURLOPT_USERNAME, settings_.username.c_str());
            curl_easy_setopt(handle, CURLOPT_PASSWORD, settings_.password.c_str());
        }
        bool was_interrupted = false;
        const CURLcode code = perform(handle, interrupted, was_interrupted);
        long response = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response);
        curl_slist_free_all(recipients);
        if (was_interrupted) {
            return SendOutcome::interrupted();
        }
        if (code == CURLE_OK) {
            return SendOutcome::delivered();
        }
        const std::string why = std::string(curl_easy_strerror(code)) + (error_text[0] != '\0' ? ": " : "") +
                                error_text + (response != 0 ? " (SMTP " + std::to_string(response) + ")" : "");
        // 5xx is the server's final word (unknown mailbox, policy); anything else may pass later.
        if (response >= 500 && response < 600) {
            return SendOutcome::permanent(why);
        }
        return SendOutcome::transient(why);
    }

    [[nodiscard]] std::string name() const override { return "smtp"; }

  private:
    SmtpSettings settings_;
};

}  // namespace

std::unique_ptr<EmailTransport> make_smtp_transport(SmtpSettings settings) {
    return std::make_unique<SmtpTransport>(std::move(settings));
}

HttpAnswer post_http(const HttpPost& post, const Interrupted& interrupted) {
    auto curl = new_easy();
    if (!curl) {
        return {SendOutcome::transient("curl_easy_init failed"), 0};
    }
    CURL* handle = curl.get();
    char error_text[CURL_ERROR_SIZE] = {};
    const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
        curl_slist_append(nullptr, "Content-Type: application/json"), &curl_slist_free_all);
    curl_slist* list = headers.get();
    for (const std::string& header : post.headers) {
        list = curl_slist_append(list, header.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_URL, post.url.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, post.body.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(post.body.size()));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(post.timeout.count()));
    // Redirects are not followed: a signed request goes only where the endpoint was registered.
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    bool was_interrupted = false;
    const CURLcode code = perform(handle, interrupted, was_interrupted);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    if (was_interrupted) {
        return {SendOutcome::interrupted(), 0};
    }
    if (code != CURLE_OK) {
        return {SendOutcome::transient(std::string(curl_easy_strerror(code)) + (error_text[0] != '\0' ? ": " : "") +
                                       error_text),
                0};
    }
    if (status >= 200 && status < 300) {
        return {SendOutcome::delivered(), static_cast<int>(status)};
    }
    return {SendOutcome::transient("HTTP " + std::to_string(status)), static_cast<int>(status)};
}

SendOutcome post_webhook(const std::string& url, const std::string& json, std::chrono::milliseconds timeout,
                         const Interrupted& interrupted) {
    const HttpAnswer answer = post_http({url, json, {}, timeout}, interrupted);
    if (answer.outcome.kind != SendOutcome::Kind::transient || answer.status_code == 0) {
        return answer.outcome;
    }
    const std::string why = "webhook answered HTTP " + std::to_string(answer.status_code);
    if (answer.status_code >= 400 && answer.status_code < 500 && answer.status_code != 408 &&
        answer.status_code != 429) {
        return SendOutcome::permanent(why);
    }
    return SendOutcome::transient(why);
}

}  // namespace gatehouse::notifier
