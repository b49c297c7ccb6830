// Meeting invitations as iCalendar objects (RFC 5545), sent by email the iTIP way (RFC 5546,
// iMIP RFC 6047): METHOD:REQUEST for a new or moved meeting (same UID, higher SEQUENCE), and
// METHOD:CANCEL when it is called off. Pure: no I/O, no clock (DTSTAMP comes from the event).
//
// What a calendar client needs to accept it: CRLF line ends, content lines folded at 75 octets
// (never inside a UTF-8 character), TEXT values escaped (\\ \; \, \n), times in UTC
// ("YYYYMMDDTHHMMSSZ"), and in the VEVENT UID, SEQUENCE, DTSTAMP, DTSTART, DTEND, SUMMARY,
// ORGANIZER and one ATTENDEE (RSVP=TRUE for a request) per attendee.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <string_view>

#include "gatehouse/notifier/v1/events.pb.h"

namespace gatehouse::notifier {

struct CalendarRendering {
    std::string uid_domain{};  // the UID is "<invitation uid>@<uid_domain>"
    // email.from ("Name <address>" or "address"): the ORGANIZER when the invitation names none.
    std::string organizer{};
    std::string description{};  // DESCRIPTION: the email's text part (none when empty)
};

// The whole VCALENDAR object, CRLF-terminated lines.
std::string render_icalendar(const v1::CalendarInvitation& invitation, const CalendarRendering& rendering);

// A TEXT value escaped (RFC 5545 3.3.11): backslash, semicolon and comma get a backslash, a line
// break becomes \n; other control characters are dropped.
std::string escape_ical_text(std::string_view text);

// One content line ("NAME;PARAMS:value", without line end) folded (RFC 5545 3.1): at most 75
// octets per line, continuation lines start with one space, a UTF-8 character is never split;
// every line ends with CRLF.
std::string fold_ical_line(std::string_view line);

// A UTC DATE-TIME, e.g. "20261201T090000Z" (fractions of a second dropped).
std::string ical_utc(const google::protobuf::Timestamp& at);

}  // namespace gatehouse::notifier
