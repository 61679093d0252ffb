// The C++ side of the differential test: the steps of imaplib_sequence.py,
// run through this library's imaplib, printed in the same JSON form (see that
// script for the format). Built as imaplib_differential_driver.
//
// Usage: imaplib_differential_driver HOST PORT USER PASSWORD USER2 MAILBOX
#include <imapkeep/imaplib.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <iostream>

namespace {

using nlohmann::json;
using imaplib::IMAP4;

// Bytes as latin-1 code points, as the Python side writes them.
std::string text(const std::string& bytes) {
    std::string out;
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xc0 | (u >> 6));
            out += static_cast<char>(0x80 | (u & 0x3f));
        }
    }
    return out;
}

json datum_list(const std::vector<imaplib::Datum>& data) {
    json out = json::array();
    for (const auto& d : data) {
        if (auto* s = std::get_if<std::string>(&d))
            out.push_back(text(*s));
        else
            out.push_back(json::array({text(std::get<1>(d).first), text(std::get<1>(d).second)}));
    }
    return out;
}

void emit(const json& j) { std::cout << j.dump() << std::endl; }

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::cerr << "usage: " << argv[0] << " HOST PORT USER PASSWORD USER2 MAILBOX\n";
        return 2;
    }
    const std::string host = argv[1], user = argv[3], password = argv[4], user2 = argv[5], box = argv[6];
    const std::string sub = box + "/sub";
    const std::string msg1 = "From: a@example.org\nSubject: one\n\nfirst\n";
    const std::string msg2 = "From: b@example.org\r\nSubject: two\r\n\r\nsecond\r\n";
    const std::string quoted = "\"" + box + "/with space\"";

    IMAP4 M(host, std::stoi(argv[2]));

    auto step = [&](const std::string& name, const std::function<imaplib::Response()>& fn) {
        try {
            auto [typ, data] = fn();
            emit({{"step", name}, {"type", typ}, {"data", datum_list(data)}});
        } catch (const IMAP4::readonly&) {
            emit({{"step", name}, {"raises", "readonly"}});
        } catch (const IMAP4::abort&) {
            emit({{"step", name}, {"raises", "abort"}});
        } catch (const IMAP4::error&) {
            emit({{"step", name}, {"raises", "error"}});
        }
    };
    auto info = [&](const std::string& name) {
        emit({{"step", name},
              {"state", M.state},
              {"capabilities", M.capabilities},
              {"protocol", M.PROTOCOL_VERSION},
              {"welcome", text(M.welcome)}});
    };
    auto ur = [&](const std::string& name) {
        json all = json::object();
        for (const auto& [key, data] : M.untagged_responses) all[key] = datum_list(data);
        emit({{"step", name}, {"ur", all}});
    };

    info("connect");
    step("login bad", [&] { return M.login(user, "wrong"); });
    step("login", [&] { return M.login(user, password); });
    info("after login");
    ur("ur after login");
    step("capability", [&] { return M.capability(); });
    step("noop", [&] { return M.noop(); });
    step("namespace", [&] { return M.namespace_(); });
    step("create", [&] { return M.create(box); });
    step("create again", [&] { return M.create(box); });
    step("create sub", [&] { return M.create(sub); });
    step("create quoted", [&] { return M.create(quoted); });
    step("list", [&] { return M.list("\"\"", box + "*"); });
    step("list pct", [&] { return M.list("\"\"", box + "/%"); });
    step("subscribe", [&] { return M.subscribe(box); });
    step("lsub", [&] { return M.lsub("\"\"", box + "*"); });
    step("unsubscribe", [&] { return M.unsubscribe(box); });
    step("lsub empty", [&] { return M.lsub("\"\"", box + "*"); });
    step("status", [&] { return M.status(box, "(MESSAGES RECENT UIDNEXT UNSEEN)"); });
    step("append 1", [&] { return M.append(box, "\\Seen", "\"01-Jan-2020 10:00:00 +0100\"", msg1); });
    step("append 2", [&] { return M.append(box, std::nullopt, "\"02-Jan-2020 11:30:00 -0500\"", msg2); });
    step("append no mailbox", [&] { return M.append(box + "/missing", std::nullopt, std::nullopt, msg1); });
    step("fetch in AUTH", [&] { return M.fetch("1", "(FLAGS)"); });
    step("examine", [&] { return M.select(box, true); });
    ur("ur after examine");
    step("select", [&] { return M.select(box); });
    ur("ur after select");
    step("response FLAGS", [&] { return M.response("FLAGS"); });
    step("response PERMANENTFLAGS", [&] { return M.response("permanentflags"); });
    step("response missing", [&] { return M.response("NOSUCHTHING"); });
    step("search all", [&] { return M.search(std::nullopt, "ALL"); });
    step("search seen", [&] { return M.search(std::nullopt, "SEEN"); });
    step("search charset", [&] { return M.search("UTF-8", "SUBJECT", "two"); });
    step("search none", [&] { return M.search(std::nullopt, "DELETED"); });
    step("search bad", [&] { return M.search(std::nullopt, "NOSUCHKEY"); });
    step("fetch rfc822", [&] { return M.fetch("1", "(RFC822)"); });
    step("fetch many", [&] { return M.fetch("1:*", "(FLAGS INTERNALDATE RFC822.SIZE)"); });
    step("fetch header", [&] { return M.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT])"); });
    step("store add", [&] { return M.store("2", "+FLAGS", "\\Flagged"); });
    step("store set", [&] { return M.store("1", "FLAGS", "(\\Seen \\Answered)"); });
    step("store silent", [&] { return M.store("1", "+FLAGS.SILENT", "(\\Draft)"); });
    step("uid search", [&] { return M.uid("SEARCH", "ALL"); });
    step("uid fetch", [&] { return M.uid("FETCH", "1:*", "(FLAGS)"); });
    step("uid store", [&] { return M.uid("STORE", "2", "-FLAGS", "(\\Flagged)"); });
    step("uid copy", [&] { return M.uid("COPY", "1", sub); });
    step("uid bogus", [&] { return M.uid("BOGUS", "1"); });
    step("sort", [&] { return M.sort("REVERSE ARRIVAL", "UTF-8", "ALL"); });
    step("uid sort", [&] { return M.uid("SORT", "(SUBJECT)", "UTF-8", "ALL"); });
    step("thread", [&] { return M.thread("REFERENCES", "UTF-8", "ALL"); });
    step("copy", [&] { return M.copy("1:2", sub); });
    step("check", [&] { return M.check(); });
    step("recent", [&] { return M.recent(); });
    step("recent again", [&] { return M.recent(); });
    step("store deleted", [&] { return M.store("1", "+FLAGS", "(\\Deleted)"); });
    step("expunge", [&] { return M.expunge(); });
    step("getacl", [&] { return M.getacl(box); });
    step("myrights", [&] { return M.myrights(box); });
    step("setacl", [&] { return M.setacl(box, user2, "lr"); });
    step("getacl after", [&] { return M.getacl(box); });
    step("deleteacl", [&] { return M.deleteacl(box, user2); });
    step("getquotaroot", [&] { return M.getquotaroot("INBOX"); });
    step("getquota", [&] { return M.getquota("\"User quota\""); });
    step("setquota", [&] { return M.setquota("\"User quota\"", "(STORAGE 512)"); });
    step("xatom id", [&] { return M.xatom("ID", "NIL"); });
    step("response id", [&] { return M.response("ID"); });
    step("partial", [&] { return M.partial("1", "RFC822", "0", "10"); });
    step("proxyauth", [&] { return M.proxyauth(user2); });
    step("enable in SELECTED", [&] { return M.enable("CONDSTORE"); });
    step("unselect", [&] { return M.unselect(); });
    info("after unselect");
    step("select again", [&] { return M.select(box); });
    step("close", [&] { return M.close(); });
    info("after close");
    step("enable", [&] { return M.enable("CONDSTORE"); });
    step("response ENABLED", [&] { return M.response("ENABLED"); });
    step("rename", [&] { return M.rename(sub, box + "/renamed"); });
    step("status renamed", [&] { return M.status(box + "/renamed", "(MESSAGES)"); });
    step("delete renamed", [&] { return M.delete_(box + "/renamed"); });
    step("delete quoted", [&] { return M.delete_(quoted); });
    step("delete", [&] { return M.delete_(box); });
    step("delete again", [&] { return M.delete_(box); });
    ur("ur before logout");
    step("logout", [&] { return M.logout(); });
    info("after logout");
    return 0;
}
