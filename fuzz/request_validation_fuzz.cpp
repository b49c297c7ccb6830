// libFuzzer target: the onboarding form validators and normalisers take every field a prospect
// types. They must never crash, and normalising twice must give the same result as once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/validation.h"

namespace ob = gatehouse::onboarding;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Fields separated by NUL bytes, as many as the input has.
    std::vector<std::string> fields(1);
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            fields.emplace_back();
        } else {
            fields.back().push_back(static_cast<char>(data[i]));
        }
    }
    fields.resize(std::max<std::size_t>(fields.size(), 14));
    const std::string tax_id = ob::normalize_tax_id(fields[0]);
    if (ob::normalize_tax_id(tax_id) != tax_id) {
        __builtin_trap();
    }
    const std::string email = ob::normalize_email(fields[1]);
    if (ob::normalize_email(email) != email) {
        __builtin_trap();
    }
    (void)ob::normalize_company_name(fields[2]);
    (void)ob::check_tax_id("tax_id", tax_id, fields[3].substr(0, 2));
    (void)gatehouse::platform::check_email("email", email);  // the one email rule (libs/platform)
    (void)ob::check_phone("phone", fields[4]);
    (void)ob::check_website("website", fields[5]);
    (void)ob::check_country("country", fields[3]);

    ob::v1::CompanyDetails company;
    company.set_name(fields[2]);
    company.mutable_address()->set_street(fields[6]);
    company.mutable_address()->set_city(fields[7]);
    company.mutable_address()->set_postal_code(fields[8]);
    company.mutable_address()->set_country_code(fields[3]);
    company.set_phone(fields[4]);
    company.set_website(fields[5]);
    company.set_tax_id(tax_id);
    gatehouse::common::v1::ContactPerson contact;
    contact.set_first_name(fields[9]);
    contact.set_last_name(fields[10]);
    contact.set_email(email);
    contact.set_phone(fields[11]);
    contact.set_job_title(fields[12]);
    (void)ob::check_request(company, contact, fields[13]);
    return 0;
}
