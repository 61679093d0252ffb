// The protocol floor of a changed run (scenarios 3 and 4): what the server
// must do for a client that knows each mailbox's state from before the change
// and does nothing but the protocol; no disk, no catalog. One connection:
// LOGIN, one LIST-STATUS (RFC 5819) to learn which mailboxes changed, then,
// pipelined, for each one it must open (below, must_open):
//   qresync  EXAMINE name (QRESYNC (uidvalidity modseq)) (RFC 7162 3.2.5): the
//            server sends the flag changes and the VANISHED UIDs itself;
//   plain    EXAMINE name, then UID FETCH 1:last (FLAGS): every known
//            message's flags, the only way to find changes and expunges
//            without CONDSTORE (what mbsync does on this path too);
// and UID FETCH uidnext:* (FLAGS INTERNALDATE BODY.PEEK[]) for the new
// mail, its bytes read and thrown away; then LOGOUT.
//
//   bench_change_floor HOST PORT USER PASSWORD qresync|plain
//                      [MAILBOX UIDVALIDITY HIGHESTMODSEQ UIDNEXT]...
// prints "mailboxes M messages N bytes B": the mailboxes opened, the FETCH
// responses (new mail and flags) and the literal bytes read.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "imap_socket.hpp"

namespace {

struct Known {
    std::string uidvalidity;
    std::string modseq;
    unsigned long long uidnext = 0;
};

// The number after `key` in a STATUS response, or "" when it has none.
std::string status_value(std::string_view response, std::string_view key) {
    const auto at = response.find(std::string(key) + " ");
    if (at == std::string_view::npos) return "";
    const auto begin = at + key.size() + 1;
    const auto end = response.find_first_not_of("0123456789", begin);
    return std::string(response.substr(begin, end - begin));
}

// `* STATUS name (...)`
std::string status_mailbox(std::string_view response) {
    return bench::leading_mailbox(response.substr(9));
}

// Whether a client that knows `before` must open the mailbox. Without
// CONDSTORE no STATUS item shows a flag change, so the plain path opens every
// mailbox that holds messages.
bool must_open(const Known& before, std::string_view status, bool qresync) {
    if (status_value(status, "UIDVALIDITY") != before.uidvalidity ||
        std::strtoull(status_value(status, "UIDNEXT").c_str(), nullptr, 10) != before.uidnext)
        return true;
    if (qresync) return status_value(status, "HIGHESTMODSEQ") != before.modseq;
    return std::strtoull(status_value(status, "MESSAGES").c_str(), nullptr, 10) > 0;
}

std::map<std::string, Known> read_known(int argc, char** argv) {
    if ((argc - 6) % 4 != 0)
        throw std::invalid_argument("each mailbox takes NAME UIDVALIDITY HIGHESTMODSEQ UIDNEXT");
    std::map<std::string, Known> known;
    for (int i = 6; i + 3 < argc; i += 4)
        known[argv[i]] = Known{argv[i + 1], argv[i + 2], std::strtoull(argv[i + 3], nullptr, 10)};
    return known;
}

std::string commands_for(const std::string& name, const Known& before, bool qresync,
                         std::size_t i) {
    const auto tag = std::to_string(i);
    std::string out = "E" + tag + " EXAMINE " + bench::quoted(name);
    if (qresync) out += " (QRESYNC (" + before.uidvalidity + " " + before.modseq + "))";
    out += "\r\n";
    if (!qresync && before.uidnext > 1)
        out += "S" + tag + " UID FETCH 1:" + std::to_string(before.uidnext - 1) + " (FLAGS)\r\n";
    out += "F" + tag + " UID FETCH " + std::to_string(before.uidnext) +
           ":* (FLAGS INTERNALDATE BODY.PEEK[])\r\n";
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 6 || (std::string(argv[5]) != "qresync" && std::string(argv[5]) != "plain")) {
        std::fprintf(stderr,
                     "usage: %s HOST PORT USER PASSWORD qresync|plain [MAILBOX UIDVALIDITY "
                     "HIGHESTMODSEQ UIDNEXT]...\n",
                     argv[0]);
        return 2;
    }
    const bool qresync = std::string(argv[5]) == "qresync";
    const auto known = read_known(argc, argv);
    bench::ImapSocket imap(argv[1], std::stoi(argv[2]));
    imap.login(argv[3], argv[4]);
    if (qresync) {
        imap.send("Q ENABLE QRESYNC\r\n");
        imap.read_until_tagged("Q");
    }
    imap.send("A LIST \"\" \"*\" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))\r\n");
    std::vector<std::pair<std::string, Known>> work;
    imap.read_until_tagged("A", [&](std::string_view r) {
        if (r.rfind("* STATUS ", 0) != 0) return;
        const auto it = known.find(status_mailbox(r));
        if (it != known.end() && must_open(it->second, r, qresync)) work.emplace_back(*it);
    });
    std::string pipeline;
    for (std::size_t i = 0; i < work.size(); ++i)
        pipeline += commands_for(work[i].first, work[i].second, qresync, i);
    pipeline += "Z LOGOUT\r\n";
    imap.send(pipeline);  // small: the answers cannot fill the socket before it is sent
    unsigned long long fetches = 0;
    auto count = [&](std::string_view r) {
        if (r.rfind("* ", 0) == 0 && r.find(" FETCH (") != std::string_view::npos) ++fetches;
    };
    for (std::size_t i = 0; i < work.size(); ++i) {
        const auto tag = std::to_string(i);
        imap.read_until_tagged("E" + tag, count);
        if (!qresync && work[i].second.uidnext > 1) imap.read_until_tagged("S" + tag, count);
        imap.read_until_tagged("F" + tag, count);
    }
    imap.read_until_tagged("Z");
    std::printf("mailboxes %zu messages %llu bytes %llu\n", work.size(), fetches,
                static_cast<unsigned long long>(imap.literal_bytes()));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_change_floor: %s\n", e.what());
    return 1;
}
