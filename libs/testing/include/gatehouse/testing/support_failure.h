// A failure of the test support where it cannot throw (in a destructor): written to stderr and
// recorded as a failed check of the running test case.
#pragma once

#include <catch2/catch.hpp>

#include <iostream>
#include <string>

namespace gatehouse::testing {

inline void report_support_failure(const std::string& message) noexcept {
    try {
        std::cerr << "gatehouse test support: " << message << std::endl;
        FAIL_CHECK(message);
    } catch (...) {  // outside a test case there is nothing to record it in: stderr only
    }
}

}  // namespace gatehouse::testing
