// A minimal blocking IMAP client on a plain POSIX socket, for the floor tools:
// no library underneath, so a floor measures the server, the kernel and the
// disk, never imapkeep. It understands just enough of RFC 3501 to find where a
// response ends: lines, and literals ("{" number "}" CRLF *CHAR8), whose bytes
// it counts and throws away as they arrive. Errors (connect, EOF, a tagged NO
// or BAD) throw std::runtime_error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

class ImapSocket {
  public:
    // Connects to host:port (IPv4 or a name) and reads the greeting.
    ImapSocket(const std::string& host, int port);
    ~ImapSocket();
    ImapSocket(const ImapSocket&) = delete;
    ImapSocket& operator=(const ImapSocket&) = delete;

    // Writes every byte (a pipelined batch of commands may be one call).
    // A closed connection throws (no SIGPIPE).
    void send(std::string_view bytes);
    // Ends both directions: a send() or read blocked in another thread returns
    // (and throws). Safe to call from any thread, more than once.
    void shutdown() noexcept;
    // Reads responses until the one tagged `tag`, calling `on_untagged` with
    // each other response, its literals left out. Throws unless it is OK.
    void read_until_tagged(std::string_view tag,
                           const std::function<void(std::string_view)>& on_untagged = {});
    // LOGIN with both arguments as quoted strings.
    void login(const std::string& user, const std::string& password);
    // Bytes of every literal read so far.
    std::uint64_t literal_bytes() const { return m_literal_bytes; }

  private:
    std::string read_response();  // one response, literals dropped
    bool read_line(std::string& line);
    void skip(std::uint64_t n);
    bool fill();

    int m_fd = -1;
    std::vector<char> m_buf;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    std::uint64_t m_literal_bytes = 0;
};

// A quoted string (RFC 3501 "quoted"): backslash before '"' and '\'.
std::string quoted(std::string_view s);
// The mailbox name of an untagged LIST response, or "" for another response
// or a \Noselect mailbox. Names are an atom or a quoted string (no literals).
std::string list_mailbox(std::string_view response);
// The mailbox name `text` starts with, an atom (up to a space) or a quoted
// string, unquoted.
std::string leading_mailbox(std::string_view text);

}  // namespace bench
