// The notifier's documentation and start-up checks, against the real binary.
#include <catch2/catch.hpp>

#include <fstream>

#include "gatehouse/testing/child_process.h"
#include "gatehouse/testing/settings_docs.h"
#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::testing;
using namespace std::chrono_literals;

TEST_CASE("docs/configuration.md lists every notifier setting as the binary describes it", "[docs]") {
    check_settings_documented(GATEHOUSE_NOTIFIER_BINARY);
}

TEST_CASE("gatehouse-notifier refuses to start without its keys, with bad templates or a bad transport", "[docs]") {
    TempDir dir;
    ChildProcess no_keys({"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), GATEHOUSE_NOTIFIER_BINARY},
                         true);
    CHECK_THAT(output_of(no_keys), Catch::Contains("notifier.public_key"));
    CHECK(no_keys.wait() == 2);

    // A key pair that does not belong together is refused too.
    const std::string a = "GATEHOUSE_NOTIFIER_PUBLIC_KEY=2fzYUQoEOqq3yBOBxB1Nfq-W7Y8c8Vx9nO6wX9E6Yk4";
    const std::string b = "GATEHOUSE_NOTIFIER_SECRET_KEY=nrD0bW7wYdQeM7yqzX9pH1sEo2mJ3cV5uLk8gT6fR4w";
    ChildProcess mismatched(
        {"/usr/bin/env", "GATEHOUSE_DATA_DIR=" + dir.path().string(), a, b, GATEHOUSE_NOTIFIER_BINARY}, true);
    CHECK_THAT(output_of(mismatched), Catch::Contains("does not belong"));
    CHECK(mismatched.wait() == 2);
}
