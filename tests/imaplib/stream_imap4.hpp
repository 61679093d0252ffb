// An IMAP4 over any transport::Stream (an in-process scripted server), the
// way IMAP4_ssh plugs in its channel: for tests that need byte-level control
// of what the "server" sends (streams generated lazily, packets split or
// merged at will) and a record of every byte the client wrote.
#pragma once

#include <imapkeep/imaplib.hpp>
#include <imapkeep/transport/stream.hpp>

namespace imaplib_test {

class StreamIMAP4 : public imaplib::IMAP4 {
  public:
    explicit StreamIMAP4(imapkeep::transport::StreamPtr stream, std::string host = "imap.example.com")
        : IMAP4(Deferred{}) {
        start_with_stream(std::move(stream), std::move(host));
    }
};

}  // namespace imaplib_test
