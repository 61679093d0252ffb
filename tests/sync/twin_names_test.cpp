// distinct_names: mailboxes whose wire names read as the same name get names
// of their own (issue 9, "Mailbox names"; the Cyrus case is in
// tests/integration/mailbox_names_test.cpp).
#include <catch2/catch.hpp>
#include <imapkeep/sync/plan.hpp>
#include <imapkeep/util/sha256.hpp>
#include <imapkeep/util/utf7.hpp>

using namespace imapkeep;
using namespace imapkeep::sync;

namespace {

ServerMailbox listed(std::string name, std::string wire) {
    ServerMailbox m;
    m.name = std::move(name);
    m.delimiter = "/";
    m.wire_name = std::move(wire);
    return m;
}

std::string tagged(const std::string& name, const std::string& wire) {
    return name + "~" + util::sha256_hex(wire).substr(0, 8);
}

}  // namespace

TEST_CASE("twins that decode to the same name get names of their own", "[sync][names]") {
    const auto utf7 = [](const std::string& name) { return util::utf7_encode(name); };
    struct Case {
        const char* what;
        std::vector<ServerMailbox> in;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"no twins: names kept, even raw 8-bit ones",
         {listed("K\xc3\xa4se", "K\xc3\xa4se"), listed("Entw\xc3\xbcrfe", "Entw&APw-rfe")},
         {"K\xc3\xa4se", "Entw\xc3\xbcrfe"}},
        {"raw 8-bit beside its modified UTF-7 spelling (either order)",
         {listed("a/\xc3\xa4", "a/\xc3\xa4"), listed("a/\xc3\xa4", "a/&AOQ-")},
         {tagged("a/\xc3\xa4", "a/\xc3\xa4"), "a/\xc3\xa4"}},
        {"invalid modified UTF-7 beside the valid name it reads as",
         {listed("bad&Jjo", "bad&-Jjo"), listed("bad&Jjo", "bad&Jjo")},
         {"bad&Jjo", tagged("bad&Jjo", "bad&Jjo")}},
        {"two non-canonical twins and no canonical one: both tagged, apart",
         {listed("abc", "&AGEAYgBj-"), listed("abc", "&AGE-bc")},
         {tagged("abc", "&AGEAYgBj-"), tagged("abc", "&AGE-bc")}},
        {"invalid UTF-8 (Latin-1) twin: encoding it throws, so it is tagged",
         {listed("Caf\xe9", "Caf\xe9"), listed("Caf\xe9", "Caf&-\xe9")},
         {tagged("Caf\xe9", "Caf\xe9"), tagged("Caf\xe9", "Caf&-\xe9")}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(distinct_names(c.in, utf7) == c.want);
    }
}
