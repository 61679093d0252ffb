#include "imap_socket.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bench {
namespace {

constexpr std::size_t kBufferSize = 1 << 20;

int connect_to(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
        throw std::runtime_error("getaddrinfo " + host + ": " + gai_strerror(rc));
    int fd = -1;
    for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
    return fd;
}

// literal = "{" number "}" CRLF: the size announced at the end of `line`, or -1.
long long literal_size(std::string_view line) {
    if (line.size() < 3 || line.back() != '}') return -1;
    auto open = line.rfind('{');
    if (open == std::string_view::npos) return -1;
    auto digits = line.substr(open + 1, line.size() - open - 2);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);  // LITERAL+
    if (digits.empty()) return -1;
    long long n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

}  // namespace

ImapSocket::ImapSocket(const std::string& host, int port)
    : m_fd(connect_to(host, port)), m_buf(kBufferSize) {
    std::string greeting;
    if (!read_line(greeting) || greeting.rfind("* OK", 0) != 0)
        throw std::runtime_error("unexpected greeting: " + greeting);
}

ImapSocket::~ImapSocket() {
    if (m_fd >= 0) ::close(m_fd);
}

void ImapSocket::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void ImapSocket::shutdown() noexcept { ::shutdown(m_fd, SHUT_RDWR); }

bool ImapSocket::fill() {
    if (m_begin == m_end) m_begin = m_end = 0;
    if (m_end == m_buf.size()) {
        std::memmove(m_buf.data(), m_buf.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
        if (m_end == m_buf.size()) throw std::runtime_error("response line longer than the buffer");
    }
    for (;;) {
        ssize_t n = ::read(m_fd, m_buf.data() + m_end, m_buf.size() - m_end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("read: ") + std::strerror(errno));
        m_end += static_cast<std::size_t>(n);
        return n > 0;
    }
}

bool ImapSocket::read_line(std::string& line) {
    line.clear();
    for (;;) {
        auto* start = m_buf.data() + m_begin;
        auto* lf = static_cast<char*>(std::memchr(start, '\n', m_end - m_begin));
        if (lf) {
            line.assign(start, lf);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            m_begin = static_cast<std::size_t>(lf - m_buf.data()) + 1;
            return true;
        }
        if (!fill()) return false;
    }
}

void ImapSocket::skip(std::uint64_t n) {
    m_literal_bytes += n;
    while (n > 0) {
        if (m_begin == m_end && !fill()) throw std::runtime_error("EOF inside a literal");
        auto take = std::min<std::uint64_t>(n, m_end - m_begin);
        m_begin += take;
        n -= take;
    }
}

std::string ImapSocket::read_response() {
    std::string response, line;
    for (;;) {
        if (!read_line(line)) throw std::runtime_error("connection closed by the server");
        response += line;
        long long n = literal_size(line);
        if (n < 0) return response;
        skip(static_cast<std::uint64_t>(n));
    }
}

void ImapSocket::read_until_tagged(std::string_view tag,
                                   const std::function<void(std::string_view)>& on_untagged) {
    std::string prefix = std::string(tag) + " ";
    for (;;) {
        std::string response = read_response();
        if (response.rfind(prefix, 0) == 0) {
            if (response.compare(prefix.size(), 3, "OK ") != 0)
                throw std::runtime_error("server: " + response);
            return;
        }
        if (on_untagged) on_untagged(response);
    }
}

void ImapSocket::login(const std::string& user, const std::string& password) {
    send("L LOGIN " + quoted(user) + " " + quoted(password) + "\r\n");
    read_until_tagged("L");
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
std::string list_mailbox(std::string_view response) {
    if (response.rfind("* LIST ", 0) != 0) return "";
    auto flags_end = response.find(')');
    if (flags_end == std::string_view::npos) return "";
    if (response.substr(0, flags_end).find("\\Noselect") != std::string_view::npos) return "";
    auto rest = response.substr(flags_end + 2);
    // The delimiter: NIL or a quoted character, then one space.
    std::size_t at = rest.rfind("NIL", 0) == 0 ? 3 : (rest.size() > 1 && rest[1] == '\\' ? 4 : 3);
    if (rest.size() <= at + 1) return "";
    return leading_mailbox(rest.substr(at + 1));
}

// mailbox = atom / quoted (a literal has no place in the bench's corpus)
std::string leading_mailbox(std::string_view text) {
    if (text.empty() || text.front() != '"') return std::string(text.substr(0, text.find(' ')));
    std::string out;
    for (std::size_t i = 1; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        out += text[i];
    }
    return out;
}

}  // namespace bench
