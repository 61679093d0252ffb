// Scenario 6, the library side: every message of every mailbox through the
// imaplib face, the way a Python user writes it: per mailbox select(readonly)
// and uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])"). The whole
// answer is held, as imaplib returns it; imaplib_fetch.py does the same in
// Python.
//
//   bench_imaplib_fetch HOST PORT USER PASSWORD
// prints "mailboxes M messages N bytes B".
#include <cstdio>
#include <exception>
#include <imapkeep/imaplib.hpp>
#include <string>
#include <variant>
#include <vector>

#include "floor/imap_socket.hpp"

namespace {

std::vector<std::string> mailboxes(imaplib::IMAP4& M) {
    std::vector<std::string> names;
    for (const auto& datum : M.list().data) {
        // A name sent as a literal has no place in this corpus.
        if (!std::holds_alternative<std::string>(datum)) continue;
        auto name = bench::list_mailbox("* LIST " + std::get<std::string>(datum));
        if (!name.empty()) names.push_back(name);
    }
    return names;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s HOST PORT USER PASSWORD\n", argv[0]);
        return 2;
    }
    imaplib::IMAP4 M(argv[1], std::stoi(argv[2]));
    M.login(argv[3], argv[4]);
    auto names = mailboxes(M);
    unsigned long long messages = 0, bytes = 0;
    for (const auto& name : names) {
        M.select(bench::quoted(name), true);
        auto [typ, data] = M.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])");
        if (typ != "OK") throw std::runtime_error("UID FETCH in " + name + ": " + typ);
        for (const auto& datum : data) {
            if (const auto* part = std::get_if<std::pair<std::string, std::string>>(&datum)) {
                ++messages;
                bytes += part->second.size();
            }
        }
    }
    M.logout();
    std::printf("mailboxes %zu messages %llu bytes %llu\n", names.size(), messages, bytes);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_imaplib_fetch: %s\n", e.what());
    return 1;
}
