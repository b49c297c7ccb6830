#include "domain/icalendar.h"

#include <algorithm>
#include <ctime>

namespace gatehouse::notifier {
namespace {

// A parameter value (RFC 5545 3.2): quoted, without the characters a quoted value cannot hold.
std::string param_value(std::string_view value) {
    std::string quoted = "\"";
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c != '"' && (byte >= 0x20 || c == '\t') && byte != 0x7F) {
            quoted.push_back(c);
        }
    }
    return quoted + "\"";
}

// The address and display name of "Name <address>" or "address".
struct Mailbox {
    std::string name;
    std::string address;
};

Mailbox mailbox_of(std::string_view text) {
    const auto open = text.rfind('<');
    const auto close = text.rfind('>');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return {"", std::string(text)};
    }
    std::string name(text.substr(0, open));
    while (!name.empty() && (name.back() == ' ' || name.back() == '"')) {
        name.pop_back();
    }
    while (!name.empty() && (name.front() == ' ' || name.front() == '"')) {
        name.erase(0, 1);
    }
    return {name, std::string(text.substr(open + 1, close - open - 1))};
}

// A mailto: URI (RFC 6068) of a checked email address: only what a URI cannot hold is encoded.
std::string mailto(std::string_view address) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string uri = "mailto:";
    for (const char c : address) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7F || c == '"' || c == '%' || c == '<' || c == '>' || c == '\\' || c == '^' ||
            c == '`' || c == '{' || c == '|' || c == '}' || c == '?' || c == '#' || c == ',' || c == ';') {
            uri += '%';
            uri += kHex[byte >> 4];
            uri += kHex[byte & 0xF];
        } else {
            uri.push_back(c);
        }
    }
    return uri;
}

}  // namespace

std::string escape_ical_text(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (c) {
            case '\\':
                escaped += "\\\\";
                break;
            case ';':
                escaped += "\\;";
                break;
            case ',':
                escaped += "\\,";
                break;
            case '\r':
                if (i + 1 < text.size() && text[i + 1] == '\n') {
                    break;  // CRLF: one line break, written at the \n
                }
                escaped += "\\n";
                break;
            case '\n':
                escaped += "\\n";
                break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) {
                    escaped.push_back(c);
                } else if (c == '\t') {
                    escaped.push_back(' ');
                }
        }
    }
    return escaped;
}

std::string fold_ical_line(std::string_view line) {
    constexpr std::size_t kMaxOctets = 75;
    std::string folded;
    std::size_t room = kMaxOctets;  // octets left on the current physical line
    std::size_t i = 0;
    while (i < line.size()) {
        // The whole UTF-8 character starting at i (continuation bytes are 10xxxxxx).
        std::size_t length = 1;
        while (i + length < line.size() && (static_cast<unsigned char>(line[i + length]) & 0xC0) == 0x80) {
            ++length;
        }
        if (length > room) {
            folded += "\r\n ";
            room = kMaxOctets - 1;  // the leading space counts
        }
        folded.append(line.substr(i, length));
        room -= length;
        i += length;
    }
    return folded + "\r\n";
}

std::string ical_utc(const google::protobuf::Timestamp& at) {
    const std::time_t seconds = at.seconds();
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
    return buffer;
}

std::string render_icalendar(const v1::CalendarInvitation& invitation, const CalendarRendering& rendering) {
    const bool cancel = invitation.method() == "CANCEL";
    std::string out;
    const auto line = [&out](std::string_view content) { out += fold_ical_line(content); };
    line("BEGIN:VCALENDAR");
    line("PRODID:-//Gatehouse//Notifier//EN");
    line("VERSION:2.0");
    line("CALSCALE:GREGORIAN");
    line(cancel ? "METHOD:CANCEL" : "METHOD:REQUEST");
    line("BEGIN:VEVENT");
    line("UID:" + escape_ical_text(invitation.uid() + "@" + rendering.uid_domain));
    line("SEQUENCE:" + std::to_string(invitation.sequence()));
    line("DTSTAMP:" + ical_utc(invitation.stamp()));
    line("DTSTART:" + ical_utc(invitation.starts_at()));
    line("DTEND:" + ical_utc(invitation.ends_at()));
    line("SUMMARY:" + escape_ical_text(invitation.summary()));
    if (!rendering.description.empty()) {
        line("DESCRIPTION:" + escape_ical_text(rendering.description));
    }
    if (!invitation.url().empty()) {
        line("LOCATION:" + escape_ical_text(invitation.url()));
        const bool plain_uri = std::all_of(invitation.url().begin(), invitation.url().end(), [](char c) {
            return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
        });
        if (plain_uri) {
            line("URL:" + invitation.url());  // a URI value: not TEXT, so not escaped
        }
    }
    const Mailbox organizer = invitation.organizer_email().empty() ? mailbox_of(rendering.organizer)
                                                                   : Mailbox{"", invitation.organizer_email()};
    line("ORGANIZER" + (organizer.name.empty() ? std::string() : ";CN=" + param_value(organizer.name)) + ":" +
         mailto(organizer.address));
    for (const auto& attendee : invitation.attendees()) {
        line("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=" +
             std::string(cancel ? "FALSE" : "TRUE") + ":" + mailto(attendee));
    }
    line(cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
    line("TRANSP:OPAQUE");
    line("END:VEVENT");
    line("END:VCALENDAR");
    return out;
}

}  // namespace gatehouse::notifier
