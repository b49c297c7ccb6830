// Checks shared by every service's documentation tests: the settings table a binary prints with
// --help must appear, unchanged, in docs/configuration.md.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "gatehouse/testing/child_process.h"

namespace gatehouse::testing {

// Everything a short-lived child process prints (stdout, and stderr when merged).
inline std::string output_of(ChildProcess& process) {
    std::string output;
    while (auto line = process.read_line(std::chrono::seconds(10))) {
        output += *line + "\n";
    }
    return output;
}

inline void check_settings_documented(const std::string& binary) {
    ChildProcess help({binary, "--help"});
    const std::string output = output_of(help);
    REQUIRE(help.wait() == 0);
    const auto table_start = output.find("| setting |");
    REQUIRE(table_start != std::string::npos);
    const std::string table = output.substr(table_start);
    std::ifstream in(GATEHOUSE_SOURCE_DIR "/docs/configuration.md");
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("expected table:\n" << table);
    CHECK_THAT(doc, Catch::Contains(table));
}

}  // namespace gatehouse::testing
