#include <ctime>
#include <string>

#include "gatehouse/kernel/auth.h"
#include "transport/transport.h"

namespace gatehouse::notifier {
namespace {

bool is_ascii(const std::string& text) {
    for (const unsigned char c : text) {
        if (c >= 0x80) {
            return false;
        }
    }
    return true;
}

// RFC 2045 quoted-printable with CRLF line ends and soft breaks before 76 columns.
std::string quoted_printable(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    std::size_t column = 0;
    auto put = [&](const std::string& piece) {
        if (column + piece.size() > 75) {
            out += "=\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            out += "\r\n";
            column = 0;
        } else if (c == '\r') {
            continue;
        } else if ((c == ' ' || c == '\t') && (i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r')) {
            put(std::string{'=', kHex[c >> 4], kHex[c & 0xF]});  // trailing white space must be encoded
        } else if (c == '=' || c < 0x20 || c >= 0x7F || (c == '.' && column == 0)) {
            put(std::string{'=', kHex[c >> 4], kHex[c & 0xF]});
        } else {
            put(std::string(1, static_cast<char>(c)));
        }
    }
    return out;
}

std::string base64(const std::string& text) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string encoded;
    for (std::size_t i = 0; i < text.size(); i += 3) {
        const std::uint32_t chunk = (static_cast<unsigned char>(text[i]) << 16) |
                                    (i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) << 8 : 0) |
                                    (i + 2 < text.size() ? static_cast<unsigned char>(text[i + 2]) : 0);
        encoded += kAlphabet[(chunk >> 18) & 63];
        encoded += kAlphabet[(chunk >> 12) & 63];
        encoded += i + 1 < text.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
        encoded += i + 2 < text.size() ? kAlphabet[chunk & 63] : '=';
    }
    return encoded;
}

// RFC 2045 base64 body: lines of 76 characters, CRLF.
std::string base64_body(const std::string& content) {
    const std::string encoded = base64(content);
    std::string body;
    for (std::size_t i = 0; i < encoded.size(); i += 76) {
        body += encoded.substr(i, 76) + "\r\n";
    }
    return body;
}

// RFC 2047 encoded-word (base64) for a header value that is not plain ASCII.
std::string header_value(const std::string& text) {
    if (is_ascii(text)) {
        return text;
    }
    return "=?UTF-8?B?" + base64(text) + "?=";
}

// An iTIP method as a MIME parameter: a token (letters), whatever the caller passed.
std::string method_token(const std::string& method) {
    std::string token;
    for (const char c : method) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            token.push_back(c);
        }
    }
    return token.empty() ? "REQUEST" : token;
}

std::string rfc5322_date(std::chrono::system_clock::time_point date) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(date);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &utc);
    return buffer;
}

}  // namespace

std::string compose_mime(const OutgoingEmail& email, std::chrono::system_clock::time_point date) {
    // The boundary only has to be absent from the parts; a random one is.
    const std::string boundary = "=_gatehouse_" + kernel::random_token(12);
    std::string message;
    message += "From: " + email.from + "\r\n";
    message += "To: " + email.to + "\r\n";
    message += "Subject: " + header_value(email.subject) + "\r\n";
    message += "Date: " + rfc5322_date(date) + "\r\n";
    message += "Message-ID: " + email.message_id + "\r\n";
    message += "MIME-Version: 1.0\r\n";
    message += "Auto-Submitted: auto-generated\r\n";
    message += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
    message += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n";
    message += "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quoted_printable(email.text) + "\r\n";
    message += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n";
    message += "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quoted_printable(email.html) + "\r\n";
    if (!email.calendar.empty()) {
        // Base64 keeps the object's CRLF line ends and 75-octet folding byte for byte (no 8BITMIME
        // needed for UTF-8, no soft breaks added).
        message += "--" + boundary + "\r\nContent-Type: text/calendar; method=" + method_token(email.calendar_method) +
                   "; charset=UTF-8\r\n";
        message += "Content-Transfer-Encoding: base64\r\n\r\n" + base64_body(email.calendar);
    }
    message += "--" + boundary + "--\r\n";
    return message;
}

}  // namespace gatehouse::notifier
