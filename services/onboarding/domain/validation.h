// Validation of everything a prospect types into the sign-up form. Each check returns the first
// problem as "field: rule" text (for an INVALID_ARGUMENT that names the field and the rule), or
// nothing. Pure functions, no I/O. Text, email and the limits of replicated fields are the
// platform's (gatehouse/platform/validation.h); what is here is onboarding's own: the form's
// phone, country, VAT, website and markup rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/onboarding/v1/events.pb.h"
#include "gatehouse/platform/validation.h"

namespace gatehouse::onboarding {

using Problem = platform::Problem;

// Normalisations applied before validation (and stored).
std::string normalize_email(std::string_view email);        // trimmed, domain lower-cased
std::string normalize_tax_id(std::string_view tax_id);      // upper case, no spaces, dots or dashes
std::string normalize_company_name(std::string_view name);  // for duplicate detection only
// The mailbox an address delivers to, for comparing people and counting mail per recipient:
// normalised, lower-cased, and without a "+tag" in the local part (jane+x@a.example reaches
// jane@a.example at most providers). Never stored as the address to write to.
std::string mailbox_key(std::string_view email);

Problem check_phone(std::string_view field, std::string_view phone);
Problem check_country(std::string_view field, std::string_view code);
// `tax_id` normalised; `country` ISO 3166-1 alpha-2. Format per country, and check digits where
// the country defines them (DE, AT, BE, DK, FI, FR, IT, NL, PL, PT, SE).
Problem check_tax_id(std::string_view field, std::string_view tax_id, std::string_view country);
// platform::check_text (one line), and no '<' or '>': the form is anonymous and its text reaches
// HQ's screens and the CRM before anyone has looked at it, so markup is refused outright.
Problem check_form_text(std::string_view field, std::string_view value, std::size_t min_chars, std::size_t max_chars);
Problem check_website(std::string_view field, std::string_view url);

// The whole request (company, contact, comments), fields named as in the API
// ("company.address.postal_code", "contact.email", ...).
Problem check_request(const v1::CompanyDetails& company, const common::v1::ContactPerson& contact,
                      std::string_view comments);

}  // namespace gatehouse::onboarding
