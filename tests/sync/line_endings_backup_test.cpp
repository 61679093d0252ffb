// A cold backup stores pure-CRLF messages with LF endings and anything else
// byte for byte (store/line_endings.hpp); the catalog keeps the wire hash and
// size, verify is clean, and a changed byte in either kind of file is found.
#include <catch2/catch.hpp>
#include <imapkeep/store/verify.hpp>
#include <imapkeep/util/sha256.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

struct Body {
    const char* name;
    std::string wire;
    bool lf;  // expected to be stored with LF endings
};

const std::vector<Body> kBodies = {
    {"pure CRLF", "From: a@example.org\r\nSubject: one\r\n\r\nhello\r\nworld\r\n", true},
    {"no final newline", "From: a@example.org\r\nSubject: two\r\n\r\nno newline", true},
    {"8-bit and NUL", std::string("Subject: 3\r\n\r\ncaf\xc3\xa9 \0 end\r\n", 24), true},
    {"bare LF in the body", "From: a@example.org\r\nSubject: four\r\n\r\nbare\nLF\r\n", false},
    {"bare CR in a header", "From: a@example.org\rX: y\r\nSubject: five\r\n\r\nx\r\n", false},
    {"LF only (a Unix mail)", "From: a@example.org\nSubject: six\n\nbody\n", false},
    {"ends with a lone CR", "Subject: seven\r\n\r\nx\r", false},
    {"CR CR LF", "Subject: eight\r\r\n\r\nx\r\n", false},
};

std::string lf_form(const std::string& wire) {
    std::string out;
    for (std::size_t i = 0; i < wire.size(); ++i)
        if (!(wire[i] == '\r' && i + 1 < wire.size() && wire[i + 1] == '\n')) out += wire[i];
    return out;
}

}  // namespace

TEST_CASE("a cold backup stores pure CRLF with LF, the rest byte for byte",
          "[sync][line_endings]") {
    ModelFixture f;
    f.server.add_mailbox("INBOX");
    std::map<std::uint32_t, const Body*> by_uid;
    for (const auto& b : kBodies) by_uid[f.server.append("INBOX", b.wire)] = &b;
    REQUIRE(report_ok(f.backup()));

    // The store gives back the server's bytes; the files are what a reader sees.
    CHECK(f.stored("INBOX") == f.on_server("INBOX"));
    const auto files = f.files("INBOX");
    const auto record = f.record("INBOX");
    REQUIRE(record);
    const auto rows = f.store.catalog->messages(record->id);
    REQUIRE(rows.size() == kBodies.size());
    for (const auto& m : rows) {
        const Body& b = *by_uid.at(m.uid);
        INFO(b.name);
        CHECK(m.line_endings == (b.lf ? store::LineEndings::Lf : store::LineEndings::Wire));
        CHECK(files.at(m.uid) == (b.lf ? lf_form(b.wire) : b.wire));
        if (b.lf) CHECK(files.at(m.uid).find('\r') == std::string::npos);
        // The catalog proves the original: its hash and size are the wire bytes'.
        CHECK(m.size == b.wire.size());
        CHECK(m.sha256 == util::sha256_hex(b.wire));
    }
    const auto account = *f.store.catalog->find_account("acct");
    CHECK(store::verify_files(*f.store.catalog, *f.store.messages, account).empty());

    // A second run changes nothing.
    auto again = f.backup();
    CHECK(report_ok(again));
    CHECK(again.mailboxes.at(0).new_messages == 0);
    CHECK(f.files("INBOX") == files);

    // One flipped byte in each file is found, whichever form it is in.
    for (const auto& m : rows) {
        const std::string path = f.store.messages->absolute(m.file);
        std::string bytes = files.at(m.uid);
        if (bytes.empty()) continue;
        std::size_t at = bytes.size() / 2;
        while (bytes[at] == '\r' || bytes[at] == '\n') ++at;  // a line ending changes the size
        bytes[at] ^= 0x01;
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    }
    const auto problems = store::verify_files(*f.store.catalog, *f.store.messages, account);
    CHECK(problems.size() == rows.size());
    for (const auto& p : problems) CHECK(p.kind == "corrupt");
}
