// The raw limit: what the server and the loopback can deliver at best. One
// connection, LOGIN, LIST, then per mailbox EXAMINE and a single
// `UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])`, all pipelined; every byte
// is read and thrown away. EXAMINE rather than SELECT so that the server's
// state (\Recent) is the same for whoever runs next; the fetch costs the same.
//
//   bench_raw_fetch HOST PORT USER PASSWORD
// prints "mailboxes M messages N bytes B" (the bench checks N against the corpus).
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "imap_socket.hpp"

namespace {

std::vector<std::string> list_mailboxes(bench::ImapSocket& imap) {
    std::vector<std::string> names;
    imap.send("A LIST \"\" \"*\"\r\n");
    imap.read_until_tagged("A", [&](std::string_view r) {
        if (auto name = bench::list_mailbox(r); !name.empty()) names.push_back(name);
    });
    return names;
}

// Sends the pipelined commands on a thread of its own, so that a long
// pipeline cannot deadlock against a server that is busy sending. Whatever
// ends the reading (the server's NO, a dropped connection) ends the sending
// too: the socket is shut down and the thread joined before the error goes
// on, so it reaches main's handler, not std::terminate.
class PipelinedSender {
  public:
    PipelinedSender(bench::ImapSocket& imap, std::string commands)
        : m_imap(imap), m_thread([this, commands = std::move(commands)] {
              try {
                  m_imap.send(commands);
              } catch (const std::exception&) {
                  m_failure = std::current_exception();
              }
          }) {}
    ~PipelinedSender() {
        if (!m_thread.joinable()) return;
        m_imap.shutdown();
        m_thread.join();
    }
    PipelinedSender(const PipelinedSender&) = delete;
    PipelinedSender& operator=(const PipelinedSender&) = delete;

    // Every command sent; throws what the sending threw.
    void finish() {
        m_thread.join();
        if (m_failure) std::rethrow_exception(m_failure);
    }

  private:
    bench::ImapSocket& m_imap;
    std::exception_ptr m_failure;
    std::thread m_thread;  // last: starts once the members above exist
};

std::string fetch_commands(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += "E" + std::to_string(i) + " EXAMINE " + bench::quoted(names[i]) + "\r\n";
        out += "F" + std::to_string(i) + " UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])\r\n";
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s HOST PORT USER PASSWORD\n", argv[0]);
        return 2;
    }
    bench::ImapSocket imap(argv[1], std::stoi(argv[2]));
    imap.login(argv[3], argv[4]);
    auto names = list_mailboxes(imap);
    PipelinedSender sender(imap, fetch_commands(names));
    unsigned long long messages = 0;
    auto count = [&](std::string_view r) {
        if (r.rfind("* ", 0) == 0 && r.find(" FETCH (") != std::string_view::npos) ++messages;
    };
    for (std::size_t i = 0; i < names.size(); ++i) {
        imap.read_until_tagged("E" + std::to_string(i));
        imap.read_until_tagged("F" + std::to_string(i), count);
    }
    sender.finish();
    imap.send("Z LOGOUT\r\n");
    imap.read_until_tagged("Z");
    std::printf("mailboxes %zu messages %llu bytes %llu\n", names.size(), messages,
                static_cast<unsigned long long>(imap.literal_bytes()));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_raw_fetch: %s\n", e.what());
    return 1;
}
