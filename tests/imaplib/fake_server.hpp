// A scripted IMAP server on loopback for the imaplib tests: it accepts one
// connection and replays a transcript (tests/fixtures/imaplib_*.txt), so error
// paths a real server won't produce can be exercised over a real socket.
//
// Transcript lines:
//   S: text        sends text + CRLF
//   S-RAW: text    sends text as is; \r \n \\ and \xHH escapes are decoded
//   C: regex       reads one line from the client (CRLF stripped) that must
//                  match the ECMAScript regex entirely
//   C-BYTES: n     reads exactly n bytes (a literal)
//   CLOSE          closes the connection (also what the end of the script does)
//   # comment, blank lines: ignored
// In C: lines "{TAG}" matches a tag ([A-P]+[0-9]+) and remembers it; in S:
// lines "{TAG}" is replaced by the tag last remembered.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace imaplib_test {

class FakeServer {
public:
    // `script` is the transcript text itself.
    explicit FakeServer(std::string script);
    // Loads tests/fixtures/<name>.
    static std::string fixture(const std::string& name);
    ~FakeServer();
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    int port() const { return m_port; }
    // Waits for the script to end and returns what went wrong ("" = nothing):
    // a client line that did not match, a timeout, or lines left unplayed.
    std::string finish();
    // Every line the client sent, for checks on the wire format.
    std::vector<std::string> received();

private:
    void run();
    std::string m_script;
    int m_listen = -1;
    int m_port = 0;
    std::thread m_thread;
    std::string m_error;
    std::vector<std::string> m_received;
    bool m_joined = false;
};

}  // namespace imaplib_test
