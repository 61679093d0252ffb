// The protocol floor of a run that finds nothing to do: connect, LOGIN, one
// `LIST "" "*" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))`
// (RFC 5819), LOGOUT. Nothing less can tell that no mailbox changed.
//
//   bench_protocol_floor HOST PORT USER PASSWORD
// prints "mailboxes M" (the number of STATUS responses).
#include "imap_socket.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) try {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s HOST PORT USER PASSWORD\n", argv[0]);
        return 2;
    }
    bench::ImapSocket imap(argv[1], std::stoi(argv[2]));
    imap.login(argv[3], argv[4]);
    imap.send("A LIST \"\" \"*\" RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ))\r\n");
    unsigned statuses = 0;
    imap.read_until_tagged("A", [&](std::string_view r) {
        if (r.rfind("* STATUS ", 0) == 0) ++statuses;
    });
    imap.send("Z LOGOUT\r\n");
    imap.read_until_tagged("Z");
    std::printf("mailboxes %u\n", statuses);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_protocol_floor: %s\n", e.what());
    return 1;
}
