// SMTP and webhook delivery with libcurl (one easy handle per message: the dispatcher sends one
// message at a time, and a fresh connection keeps failure handling simple).
#include <curl/curl.h>

#include <cstring>
#include <memory>

#include "gatehouse/kernel/errors.h"
#include "transport/transport.h"

namespace gatehouse::notifier {
namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

Easy new_easy() {
    static const CurlGlobal global;
    return Easy(curl_easy_init(), &curl_easy_cleanup);
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

    SendOutcome send(const OutgoingEmail& email) override {
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
        const CURLcode code = curl_easy_perform(handle);
        long response = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response);
        curl_slist_free_all(recipients);
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

SendOutcome post_webhook(const std::string& url, const std::string& json, std::chrono::milliseconds timeout) {
    auto curl = new_easy();
    if (!curl) {
        return SendOutcome::transient("curl_easy_init failed");
    }
    CURL* handle = curl.get();
    char error_text[CURL_ERROR_SIZE] = {};
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, json.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    const CURLcode code = curl_easy_perform(handle);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
        return SendOutcome::transient(std::string(curl_easy_strerror(code)) + (error_text[0] != '\0' ? ": " : "") +
                                      error_text);
    }
    if (status >= 200 && status < 300) {
        return SendOutcome::delivered();
    }
    const std::string why = "webhook answered HTTP " + std::to_string(status);
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
        return SendOutcome::permanent(why);
    }
    return SendOutcome::transient(why);
}

}  // namespace gatehouse::notifier
