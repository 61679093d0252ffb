// Names longer than a file name may be (NAME_MAX, 255 bytes) in the archive
// trees: Cyrus takes 479-byte mailbox names (tests/integration/
// mailbox_names_test.cpp), and each mbox/eml level or Maildir++ folder must
// still be one file name, and two long names must stay two.
#include <catch2/catch.hpp>
#include <filesystem>
#include <imapkeep/archive/names.hpp>
#include <string>

using namespace imapkeep::archive;

namespace {

std::size_t longest_component(const std::string& path) {
    std::size_t longest = 0;
    for (const auto& part : std::filesystem::path(path))
        longest = std::max(longest, part.string().size());
    return longest;
}

}  // namespace

TEST_CASE("over-long mailbox names still make file names, distinct ones", "[archive][names]") {
    const std::string long_a = "p/" + std::string(477, 'L');
    const std::string long_b = "p/" + std::string(476, 'L') + "M";
    const std::string utf8 =
        "p/" + std::string(200, 'x') + std::string(60, '\xc3');  // escaped or not: too long
    for (const auto& name :
         {long_a, long_b, utf8, std::string(300, 'a') + "/" + std::string(300, 'b')}) {
        INFO(name.size() << "-byte name");
        CHECK(maildir_folder(name, "/").size() <= 255);
        // mbox adds ".mbox" to the last level.
        CHECK(longest_component(mailbox_relative_path(name, "/") + ".mbox") <= 255);
    }
    CHECK(maildir_folder(long_a, "/") != maildir_folder(long_b, "/"));
    CHECK(mailbox_relative_path(long_a, "/") != mailbox_relative_path(long_b, "/"));
    // Names that fit are left as they were.
    const std::string fits = "p/" + std::string(200, 'L');
    CHECK(maildir_folder(fits, "/") == ".p." + std::string(200, 'L'));
    CHECK(mailbox_relative_path(fits, "/") == fits);
}
