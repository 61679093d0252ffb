// Servers that answer in ways the plain model does not, each checked for what
// a backup must never do: lose, skip, double or mis-record mail.
//  - literal8 ("~{n}", RFC 3516) for a BODY[] that was asked without BINARY:
//    not legal (RFC 3516 §7 and RFC 9051 allow literal8 in a FETCH response
//    only for BINARY[]; imap-codec#444: "~{123} must only be used during the
//    cases defined"), and no server is known to do it; the reader takes it
//    as the literal it announces, and the bytes are stored as sent.
//  - BYE, or a dropped connection, in answer to LOGOUT: RFC 3501 §6.1.3 sends
//    BYE before the tagged OK, and servers that are shutting down or behind
//    a proxy send the BYE alone or hang up; every commit is done by then.
//  - UIDNEXT lower than the catalog's mark (or than a UID it holds) with the
//    same UIDVALIDITY: RFC 3501 §2.3.1.1 forbids it (UIDs strictly
//    ascending); a server restored from a backup of its mail store, or a
//    replica that lagged, does it. A drop the server has already filled
//    back up to our mark before a run sees it cannot be told from new mail
//    under old UIDs: not tested, as nothing can catch it.
//  - STATUS that disagrees with what EXAMINE then shows. Real servers do it
//    for the mailbox selected on the same connection: O365 (lefcha/
//    imapfilter#136: "a status on the selected mailbox always returns the
//    same result as the original select") and Dovecot, LIST-STATUS too
//    (warmbly/warmbly#165: MESSAGES, UIDNEXT and HIGHESTMODSEQ frozen until
//    UNSELECT). imapkeep asks LIST-STATUS before any SELECT and STATUS only
//    after Worker::leave_mailbox's UNSELECT, so it never asks that way; these
//    tests are of a server whose STATUS is wrong anyway.
#include <catch2/catch.hpp>

#include <imapkeep/store/flags.hpp>

#include "sync/model_fixture.hpp"

using namespace imapkeep;
using namespace imapkeep::testing;

namespace {

std::vector<std::uint32_t> live_uids(ModelFixture& f, const std::string& mailbox) {
    std::vector<std::uint32_t> out;
    auto r = f.record(mailbox);
    if (!r) return out;
    for (const auto& m : f.store.catalog->messages(r->id))
        if (!m.expunged_at) out.push_back(m.uid);
    return out;
}

}  // namespace

TEST_CASE("a BODY[] sent as literal8 is stored as sent, once", "[sync][hostile]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 4; ++i)
                f.server.append("INBOX", message("m" + std::to_string(i), std::string(50 * i, '\x80')));
            f.server.on_fetch_item = [](const std::string&, std::uint32_t, const std::string& item,
                                        std::string& rendered) {
                if (item == "BODY[]") rendered.insert(rendered.find('{'), "~");
            };
            auto first = f.backup();
            INFO(errors_of(first));
            CHECK(report_ok(first));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.record("INBOX")->uidnext == 5);

            f.server.append("INBOX", message("m5"));
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.server.body_fetches("INBOX") == 5);
        }
    }
}

TEST_CASE("BYE or a hang-up in answer to LOGOUT: the run succeeded and nothing is fetched again",
          "[sync][hostile]") {
    for (const char* answer : {"bye alone", "bye then ok", "hang up"}) {
        DYNAMIC_SECTION(answer) {
            ModelFixture f;
            const std::string kind = answer;
            f.server.add_mailbox("INBOX");
            f.server.add_mailbox("Archive");
            for (int i = 1; i <= 3; ++i) {
                f.server.append("INBOX", message("i" + std::to_string(i)));
                f.server.append("Archive", message("a" + std::to_string(i)));
            }
            f.server.on_reply = [kind](const ModelCommand& c, std::string& reply, bool& drop) {
                if (c.name != "LOGOUT") return;
                if (kind == "bye alone") reply = "* BYE Server shutting down\r\n";
                if (kind == "bye then ok") reply = "* BYE see you\r\n" + c.tag + " OK LOGOUT completed\r\n";
                if (kind == "hang up") reply.clear();
                drop = true;
            };
            auto first = f.backup();
            INFO(errors_of(first));
            CHECK(report_ok(first));
            CHECK(first.error.empty());
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.stored("Archive") == f.on_server("Archive"));

            f.server.set_flags("INBOX", 2, {"\\Seen"});
            f.server.append("Archive", message("a4"));
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.server.body_fetches() == 7);  // only the new one
            CHECK(f.stored("Archive") == f.on_server("Archive"));
            auto record = f.record("INBOX");
            REQUIRE(record);
            for (const auto& m : f.store.catalog->messages(record->id))
                CHECK(m.flags == (m.uid == 2 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{}));
        }
    }
}

TEST_CASE("a UIDNEXT that goes down and stays below the mark: new mail under it is stored",
          "[sync][hostile]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));

            f.server.expunge("INBOX", 4);
            f.server.expunge("INBOX", 5);
            f.server.mailbox("INBOX").uidnext = 4;
            REQUIRE(f.server.append("INBOX", message("new4")) == 4);  // UIDNEXT 5, below our 6

            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(live_uids(f, "INBOX") == std::vector<std::uint32_t>{1, 2, 3, 4});

            f.server.append("INBOX", message("new5"));  // UID 5, below the old mark still
            auto third = f.backup();
            INFO(errors_of(third));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(live_uids(f, "INBOX") == std::vector<std::uint32_t>{1, 2, 3, 4, 5});
        }
    }
}

namespace {

// A STATUS line without its numbers: which mailbox and items it answers.
inline std::string without_digits(std::string line) {
    std::erase_if(line, [](char c) { return c >= '0' && c <= '9'; });
    return line;
}

// Each "* STATUS name (...)" line (STATUS and LIST-STATUS) as the server
// first sent it for that name, while `stale` is set.
struct StaleStatus {
    bool stale = false;
    std::map<std::string, std::string> first;

    void install(ModelServer& server) {
        server.on_reply = [this](const ModelCommand& c, std::string& reply, bool&) {
            if (c.name != "STATUS" && c.name != "LIST") return;
            std::string out;
            for (std::size_t at = 0; at < reply.size();) {
                auto end = reply.find("\r\n", at);
                end = end == std::string::npos ? reply.size() : end + 2;
                std::string line = reply.substr(at, end - at);
                at = end;
                if (line.rfind("* STATUS ", 0) == 0) {
                    auto [it, added] = first.try_emplace(without_digits(line), line);
                    if (stale) line = it->second;
                }
                out += line;
            }
            reply = std::move(out);
        };
    }
};

// What a run leaves in the catalog of `mailbox`: uid -> flags of each live row.
std::map<std::uint32_t, std::vector<std::string>> live_flags(ModelFixture& f, const std::string& mailbox) {
    std::map<std::uint32_t, std::vector<std::string>> out;
    auto r = f.record(mailbox);
    if (!r) return out;
    for (const auto& m : f.store.catalog->messages(r->id))
        if (!m.expunged_at) out[m.uid] = m.flags;
    return out;
}

std::map<std::uint32_t, std::vector<std::string>> server_flags(ModelFixture& f, const std::string& mailbox) {
    std::map<std::uint32_t, std::vector<std::string>> out;
    for (const auto& [uid, m] : f.server.mailbox(mailbox).messages) out[uid] = store::normalize_flags(m.flags);
    return out;
}

}  // namespace

TEST_CASE("a STATUS that says unchanged while the mailbox changed: nothing is lost, the next true STATUS "
          "catches up",
          "[sync][hostile]") {
    for (const bool list_status : {true, false}) {
        DYNAMIC_SECTION((list_status ? "LIST-STATUS" : "STATUS")) {
            ModelFixture f;
            if (!list_status) {
                auto caps = f.server.capabilities();
                caps.erase("LIST-STATUS");
                f.server.set_capabilities(caps);
            }
            StaleStatus status;
            status.install(f.server);
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 4; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            REQUIRE(report_ok(f.backup()));
            REQUIRE(report_ok(f.backup()));  // STATUS seen once with the catalog's values
            const auto mark = *f.record("INBOX");

            status.stale = true;
            f.server.append("INBOX", message("m5"));
            f.server.set_flags("INBOX", 1, {"\\Seen"});
            f.server.expunge("INBOX", 2);
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            // Believed: the mark and the catalog stay where they were, so
            // nothing the server holds is taken for stored.
            auto record = f.record("INBOX");
            REQUIRE(record);
            CHECK(record->uidnext <= mark.uidnext);
            CHECK(record->highestmodseq <= mark.highestmodseq);

            status.stale = false;
            auto third = f.backup();
            INFO(errors_of(third));
            CHECK(report_ok(third));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(live_flags(f, "INBOX") == server_flags(f, "INBOX"));
            CHECK(f.server.body_fetches("INBOX") == 5);
        }
    }
}

TEST_CASE("a STATUS that says changed while the mailbox did not: nothing is fetched or changed",
          "[sync][hostile]") {
    for (const char* path : {"qresync", "condstore"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 4; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            f.server.set_flags("INBOX", 3, {"\\Flagged"});
            REQUIRE(report_ok(f.backup()));
            const auto flags = live_flags(f, "INBOX");
            f.server.on_reply = [](const ModelCommand& c, std::string& reply, bool&) {
                if (c.name != "STATUS" && c.name != "LIST") return;
                for (const char* item : {"UIDNEXT ", "HIGHESTMODSEQ ", "MESSAGES "}) {
                    for (auto at = reply.find(item); at != std::string::npos; at = reply.find(item, at + 1)) {
                        const auto digits = at + std::string(item).size();
                        const auto end = reply.find_first_not_of("0123456789", digits);
                        reply.replace(digits, end - digits, std::to_string(std::stoull(reply.substr(digits)) + 7));
                    }
                }
            };
            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.server.body_fetches("INBOX") == 4);
            CHECK(live_flags(f, "INBOX") == flags);
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(f.record("INBOX")->uidnext == 5);  // EXAMINE's, not STATUS's
        }
    }
}

TEST_CASE("UIDs given again above a mark that a failed run left low: the stored rows there are not taken "
          "for the new mail",
          "[sync][hostile]") {
    for (const char* path : {"qresync", "condstore", "plain"}) {
        DYNAMIC_SECTION(path) {
            ModelFixture f;
            f.account.sync_path = path;
            f.server.add_mailbox("INBOX");
            for (int i = 1; i <= 5; ++i) f.server.append("INBOX", message("m" + std::to_string(i)));
            bool refuse = true;
            f.server.on_fetch_item = [&refuse](const std::string&, std::uint32_t uid, const std::string& item,
                                               std::string& rendered) {
                if (refuse && uid == 3 && item == "BODY[]") rendered = "BODY[] NIL";
            };
            auto first = f.backup();
            REQUIRE_FALSE(report_ok(first));
            REQUIRE(f.record("INBOX")->uidnext <= 3);
            REQUIRE(live_uids(f, "INBOX") == std::vector<std::uint32_t>{1, 2, 4, 5});

            refuse = false;
            for (std::uint32_t uid = 3; uid <= 5; ++uid) f.server.expunge("INBOX", uid);
            f.server.mailbox("INBOX").uidnext = 3;
            REQUIRE(f.server.append("INBOX", message("new3")) == 3);
            REQUIRE(f.server.append("INBOX", message("new4x")) == 4);  // UIDNEXT 5: at the stored UID 5

            auto second = f.backup();
            INFO(errors_of(second));
            CHECK(report_ok(second));
            CHECK(f.stored("INBOX") == f.on_server("INBOX"));
            CHECK(live_uids(f, "INBOX") == std::vector<std::uint32_t>{1, 2, 3, 4});
            const auto* inbox = find_report(second, "INBOX");
            REQUIRE(inbox);
            CHECK(inbox->warnings.size() == 1);

            const auto fetched = f.server.body_fetches("INBOX");
            auto third = f.backup();
            INFO(errors_of(third));
            CHECK(report_ok(third));
            CHECK(f.server.body_fetches("INBOX") == fetched);
            const auto* again = find_report(third, "INBOX");
            REQUIRE(again);
            CHECK(again->warnings.empty());
        }
    }
}
