// A restore cut after its APPENDs were journaled but before the flags the
// target dropped were put back: the next run must still put them back. Real
// Dovecot behind tests/support/imap_proxy.py, which plays a server that drops
// APPEND flags and cuts the connection at the fix-up's UID STORE. user1 is
// backed up, user2 is restored into; both trees are deleted at the end.
#include "integration/restore_support.hpp"

#include <catch2/catch.hpp>
#include "test_env.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::string message(int n) {
    return "From: a@example.org\r\nSubject: resume " + std::to_string(n) +
           "\r\nMessage-ID: <resume" + std::to_string(n) + "@id>\r\n\r\nbody " + std::to_string(n) +
           "\r\n";
}

struct Fixture {
    std::unique_ptr<imap::Client> c1 = imap::connect_and_login(dovecot_options(1));
    std::unique_ptr<imap::Client> c2 = imap::connect_and_login(dovecot_options(2));
    std::string p = unique_name("ikrr");
    std::string root;  // one per section: the journal remembers each target
    std::vector<std::string> roots;
    TempDir dir;
    Store store{dir.path};

    ~Fixture() {
        try {
            delete_tree(*c1, p);
            for (const auto& r : roots) delete_tree(*c2, r);
        } catch (const std::exception&) {
        }
    }
    archive::RestoreReport restore(imap::ConnectOptions target, bool resume) {
        archive::RestoreOptions o;
        o.source_account = "src";
        o.prefix = root + "/";
        o.resume_after_kill = resume;
        return archive::restore_account(one_connection_account("dst", std::move(target), {"*"}), *store.catalog,
                                        *store.messages, o);
    }
};

}  // namespace

TEST_CASE("restore: flags the target dropped are put back after a run cut during the fix-up",
          "[integration][restore]") {
    if (!testing::have_dovecot_env()) return;
    Fixture f;
    f.c1->create(f.p);
    f.c1->append(f.p, {"\\Seen"}, "01-Jan-2024 10:00:00 +0100", message(1));
    f.c1->append(f.p, {"\\Flagged", "$Work"}, "15-Feb-2023 23:59:59 -0500", message(2));
    f.c1->append(f.p, {}, "03-Apr-2021 04:05:06 +0530", message(3));
    auto backup = f.store.backup(one_connection_account("src", dovecot_options(1), {f.p}));
    REQUIRE(backup.error.empty());

    struct Case {
        const char* name;
        std::vector<std::string> server;  // how the target behaves
    };
    for (const auto& c : {Case{"with UIDPLUS", {"--strip-append-flags"}},
                          Case{"without UIDPLUS", {"--strip-append-flags", "--hide-capability", "UIDPLUS"}}}) {
        DYNAMIC_SECTION(c.name) {
            f.root = unique_name("ikrrt");
            f.roots.push_back(f.root);
            {
                auto cutting = c.server;
                cutting.insert(cutting.end(), {"--cut-once-at", "UID STORE"});
                ImapProxy proxy(cutting);
                auto cut = f.restore(proxy.options(2), false);
                INFO(describe(cut));
                REQUIRE(cut.failed());  // the cut did happen, after the APPENDs
                REQUIRE(total(cut, &archive::RestoreMailboxReport::appended) == 3);
            }
            ImapProxy proxy(c.server);
            auto resumed = f.restore(proxy.options(2), true);
            INFO(describe(resumed));
            REQUIRE_FALSE(resumed.failed());
            CHECK(total(resumed, &archive::RestoreMailboxReport::appended) == 0);
            CHECK(fetch_messages(*f.c2, f.root + "/" + f.p) == catalog_messages(*f.store.catalog, "src", f.p));
        }
    }
}
