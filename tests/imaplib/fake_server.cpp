// The scripted server behind tests/imaplib/imap4_test.cpp (no TEST_CASEs here).
#include "imaplib/fake_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace imaplib_test {

namespace {

constexpr int kTimeoutMs = 5000;

std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        char c = s[++i];
        if (c == 'r') out += '\r';
        else if (c == 'n') out += '\n';
        else if (c == 'x' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else out += c;
    }
    return out;
}

std::string regex_escape(std::string_view s) {
    static const std::string kSpecial = R"(\^$.|?*+()[]{}/)";
    std::string out;
    for (char c : s) {
        if (kSpecial.find(c) != std::string::npos) out += '\\';
        out += c;
    }
    return out;
}

// Reads from `fd` into `buf` until it holds `want` bytes or a CRLF line.
class Reader {
public:
    explicit Reader(int fd) : m_fd(fd) {}
    bool line(std::string& out) {
        for (;;) {
            auto pos = m_buf.find("\r\n");
            if (pos != std::string::npos) {
                out = m_buf.substr(0, pos);
                m_buf.erase(0, pos + 2);
                return true;
            }
            if (!fill()) return false;
        }
    }
    bool bytes(std::size_t n, std::string& out) {
        while (m_buf.size() < n)
            if (!fill()) return false;
        out = m_buf.substr(0, n);
        m_buf.erase(0, n);
        return true;
    }

private:
    bool fill() {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, kTimeoutMs) <= 0) return false;
        char tmp[4096];
        auto n = ::recv(m_fd, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        m_buf.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
    int m_fd;
    std::string m_buf;
};

}  // namespace

std::string FakeServer::fixture(const std::string& name) {
    std::ifstream in(std::string(IMAPKEEP_SOURCE_DIR) + "/tests/fixtures/" + name);
    if (!in) throw std::runtime_error("missing fixture " + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

FakeServer::FakeServer(std::string script) : m_script(std::move(script)) {
    // A client writing to a connection the script closed must not kill the test.
    ::signal(SIGPIPE, SIG_IGN);
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (m_listen < 0 || ::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(m_listen, 1) != 0)
        throw std::runtime_error("fake server: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
    finish();
    if (m_listen >= 0) ::close(m_listen);
}

std::string FakeServer::finish() {
    if (!m_joined) {
        m_thread.join();
        m_joined = true;
    }
    return m_error;
}

std::vector<std::string> FakeServer::received() {
    finish();
    return m_received;
}

void FakeServer::run() {
    pollfd p{m_listen, POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) <= 0) {
        m_error = "no client connected";
        return;
    }
    int fd = ::accept(m_listen, nullptr, nullptr);
    if (fd < 0) {
        m_error = "accept failed";
        return;
    }
    Reader reader(fd);
    std::string tag;
    std::istringstream lines(m_script);
    std::string line;
    auto send_all = [&](const std::string& data) {
        std::size_t off = 0;
        while (off < data.size()) {
            auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<std::size_t>(n);
        }
        return true;
    };
    auto with_tag = [&](std::string s) {
        for (auto pos = s.find("{TAG}"); pos != std::string::npos; pos = s.find("{TAG}"))
            s.replace(pos, 5, tag);
        return s;
    };
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        if (line.starts_with("S: ") || line == "S:") {
            if (!send_all(with_tag(line.size() > 3 ? line.substr(3) : "") + "\r\n")) {
                m_error = "send failed at: " + line;
                break;
            }
        } else if (line.starts_with("S-RAW: ")) {
            if (!send_all(unescape(with_tag(line.substr(7))))) {
                m_error = "send failed at: " + line;
                break;
            }
        } else if (line.starts_with("C: ") || line == "C:") {
            std::string pattern = line.size() > 3 ? line.substr(3) : "";
            std::string re;
            bool captures = false;
            for (std::size_t pos = 0;;) {
                auto at = pattern.find("{TAG}", pos);
                if (at == std::string::npos) {
                    re += pattern.substr(pos);
                    break;
                }
                re += pattern.substr(pos, at - pos);
                re += captures ? regex_escape(tag) : "([A-P]+[0-9]+)";
                captures = true;
                pos = at + 5;
            }
            std::string got;
            if (!reader.line(got)) {
                m_error = "client sent nothing for: " + line;
                break;
            }
            m_received.push_back(got);
            std::smatch m;
            if (!std::regex_match(got, m, std::regex(re))) {
                m_error = "client sent '" + got + "', expected: " + pattern;
                break;
            }
            if (captures) tag = m[1];
        } else if (line.starts_with("C-BYTES: ")) {
            std::string got;
            if (!reader.bytes(std::stoul(line.substr(9)), got)) {
                m_error = "client literal missing: " + line;
                break;
            }
            m_received.push_back(got);
        } else if (line == "CLOSE") {
            break;
        } else {
            m_error = "bad script line: " + line;
            break;
        }
    }
    // Shown at once: the client usually fails first, with a less telling EOF.
    if (!m_error.empty()) std::fprintf(stderr, "fake server: %s\n", m_error.c_str());
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

}  // namespace imaplib_test
