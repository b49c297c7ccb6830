#include "staff_directory.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "gatehouse/testing/temp_dir.h"

using namespace gatehouse::web;

TEST_CASE("the staff directory: gatehouse staff writes argon2id entries, mode 0600, and sign-in checks them",
          "[staff]") {
    gatehouse::testing::TempDir dir;
    const auto file = dir.path() / "staff";
    put_staff_entry(file, {"Hilda@HQ.example", "hq", "hilda"}, "correct horse battery");
    put_staff_entry(file, {"sam@hq.example", "sales", "sam"}, "another long password");
    struct stat info {};
    REQUIRE(stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    const auto entries = read_staff_file(file);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].member.email == "hilda@hq.example");
    CHECK(entries[0].password_hash.rfind("$argon2id$", 0) == 0);

    StaffDirectory directory(file);
    const auto signed_in = directory.sign_in("HILDA@hq.example", "correct horse battery");
    REQUIRE(signed_in.outcome == StaffDirectory::Outcome::signed_in);
    CHECK(signed_in.member->principal() == "hq:hilda:hilda@hq.example");
    CHECK(directory.sign_in("hilda@hq.example", "wrong password!!").outcome == StaffDirectory::Outcome::wrong);
    CHECK(directory.sign_in("nobody@hq.example", "correct horse battery").outcome == StaffDirectory::Outcome::wrong);

    // A new password replaces the entry; removing a member takes them out.
    put_staff_entry(file, {"hilda@hq.example", "hq", "hilda"}, "a brand new password");
    CHECK(read_staff_file(file).size() == 2);
    CHECK(remove_staff_entry(file, "sam@hq.example"));
    CHECK_FALSE(remove_staff_entry(file, "sam@hq.example"));
    CHECK(read_staff_file(file).size() == 1);
}

TEST_CASE("the staff directory refuses bad members, short passwords and malformed files without quoting a hash",
          "[staff]") {
    gatehouse::testing::TempDir dir;
    const auto file = dir.path() / "staff";
    CHECK_THROWS_AS(put_staff_entry(file, {"hilda@hq.example", "admin", "hilda"}, "correct horse battery"),
                    std::invalid_argument);
    CHECK_THROWS_AS(put_staff_entry(file, {"not-an-email", "hq", "hilda"}, "correct horse battery"),
                    std::invalid_argument);
    CHECK_THROWS_AS(put_staff_entry(file, {"hilda@hq.example", "hq", "hilda"}, "short"), std::invalid_argument);
    {
        std::ofstream out(file);
        out << "# comment\n\nhilda@hq.example hq hilda plaintext-secret-password\n";
    }
    try {
        (void)read_staff_file(file);
        FAIL("a non-argon2id hash was accepted");
    } catch (const std::runtime_error& error) {
        CHECK_THAT(error.what(), Catch::Contains("line 3") && Catch::Contains("argon2id"));
        CHECK_THAT(error.what(), !Catch::Contains("plaintext-secret-password"));
    }
}

TEST_CASE("staff sessions end on sign-out, when idle and when their lifetime is over", "[staff]") {
    StaffSessions sessions;
    const StaffMember hilda{"hilda@hq.example", "hq", "hilda"};
    const auto token = sessions.open(hilda);
    CHECK(token.size() == 43);  // 256 random bits, URL-safe base64
    REQUIRE(sessions.use(token, std::chrono::minutes(30), std::chrono::hours(12)));
    CHECK_FALSE(sessions.use(token + "x", std::chrono::minutes(30), std::chrono::hours(12)));
    CHECK_FALSE(sessions.use(token, std::chrono::minutes(0), std::chrono::hours(12)));  // idle: gone
    const auto second = sessions.open(hilda);
    CHECK_FALSE(sessions.use(second, std::chrono::minutes(30), std::chrono::hours(0)));  // lifetime over
    const auto third = sessions.open(hilda);
    sessions.close(third);
    CHECK_FALSE(sessions.use(third, std::chrono::minutes(30), std::chrono::hours(12)));
}
