// The protocol floor of a run that finds nothing to do: connect, LOGIN, one
// `LIST "" "*" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))`
// (RFC 5819), LOGOUT. Nothing less can tell that no mailbox changed.
//
//   bench_protocol_floor HOST PORT USER PASSWORD
// prints "mailboxes M messages N" (STATUS responses, the sum of their MESSAGES).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "imap_socket.hpp"

int main(int argc, char** argv) try {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s HOST PORT USER PASSWORD\n", argv[0]);
        return 2;
    }
    bench::ImapSocket imap(argv[1], std::stoi(argv[2]));
    imap.login(argv[3], argv[4]);
    imap.send("A LIST \"\" \"*\" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))\r\n");
    unsigned long long statuses = 0, messages = 0;
    imap.read_until_tagged("A", [&](std::string_view r) {
        if (r.rfind("* STATUS ", 0) != 0) return;
        ++statuses;
        if (auto at = r.find("MESSAGES "); at != std::string_view::npos)
            messages += std::strtoull(std::string(r.substr(at + 9, 20)).c_str(), nullptr, 10);
    });
    imap.send("Z LOGOUT\r\n");
    imap.read_until_tagged("Z");
    std::printf("mailboxes %llu messages %llu\n", statuses, messages);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_protocol_floor: %s\n", e.what());
    return 1;
}
