// Scripted IMAP servers for imap::Client tests (shared by the files of test_imap).
#pragma once

#include <imapkeep/transport/fault.hpp>
#include <imapkeep/wire/framer.hpp>
#include <algorithm>
#include <cstring>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace imapkeep::testing {

// A server that answers each client command by the first rule whose command
// matches; "$T" in a reply becomes the client's tag. A command's literals are
// part of it (a synchronizing one gets "+ go ahead").
struct Rule {
    std::string command;  // upper-case command after the tag, prefix match
    std::string reply;
};

// The length of the whole command at the start of `buffer` (0: not all
// there yet; `out` then gets the "+" a synchronizing literal waits for).
inline std::size_t whole_command(const std::string& buffer, bool& acked, std::string& out) {
    std::size_t pos = 0;
    for (;;) {
        auto eol = buffer.find("\r\n", pos);
        if (eol == std::string::npos) return 0;
        std::string_view line(buffer.data() + pos, eol - pos);
        auto marker = wire::find_literal_marker(line);
        if (!marker) return eol + 2;
        const std::size_t start = eol + 2;
        const bool plus = line.size() >= 2 && line[line.size() - 2] == '+';
        if (buffer.size() < start + marker->size) {
            if (!plus && !acked) out += "+ go ahead\r\n";
            acked = !plus || acked;
            return 0;
        }
        acked = false;
        pos = start + marker->size;
    }
}

inline transport::StreamPtr scripted(std::string greeting, std::vector<Rule> rules,
                                     std::shared_ptr<std::string> log = nullptr) {
    auto buffer = std::make_shared<std::string>();
    auto acked = std::make_shared<bool>(false);
    return std::make_unique<transport::ScriptedStream>(
        std::move(greeting), [rules, buffer, acked, log](const std::string& in) -> std::string {
            *buffer += in;
            if (log) *log += in;
            std::string out;
            std::size_t length;
            while ((length = whole_command(*buffer, *acked, out)) != 0) {
                std::string line = buffer->substr(0, buffer->find("\r\n"));
                buffer->erase(0, length);
                auto sp = line.find(' ');
                std::string tag = line.substr(0, sp);
                std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
                for (const auto& r : rules) {
                    if (rest.rfind(r.command, 0) != 0) continue;
                    out += std::regex_replace(r.reply, std::regex("\\$T"), tag);
                    break;
                }
            }
            return out;
        });
}

// The tag a client that numbers its tags (prefix + counter, as imap::Client
// and imaplib do) gives its next command: "K7" -> "K8". Lets a hostile script
// answer a command before the client has sent it.
inline std::string next_tag(const std::string& tag) {
    auto digits = tag.find_first_of("0123456789");
    if (digits == std::string::npos) return tag + "1";
    return tag.substr(0, digits) + std::to_string(std::stoull(tag.substr(digits)) + 1);
}

// A server that answers by rules like scripted(), except that the reply to the
// first command starting with `trigger` is `head`, then `size` bytes of `fill`
// generated as they are read (a gigabyte costs nothing to hold), then `tail`;
// with an empty `trigger` that reply follows the greeting at once.
// `served()` tells how much the client actually read.
class LazyStream : public transport::Stream {
  public:
    struct Endless {
        std::string head;
        std::uint64_t size = 0;
        char fill = 'a';
        std::string tail;
    };
    LazyStream(std::string greeting, std::vector<Rule> rules, std::string trigger, Endless endless)
        : m_out(std::move(greeting)), m_rules(std::move(rules)), m_trigger(std::move(trigger)),
          m_endless(std::move(endless)) {
        if (!m_trigger.empty()) return;
        m_triggered = true;
        m_out += m_endless.head;
        m_left = m_endless.size;
        m_tail = m_endless.tail;
        if (m_left == 0) m_out += m_tail;
    }

    std::size_t read_some(std::span<char> buffer) override {
        if (m_closed) throw transport::TransportError(transport::TransportError::Kind::Closed, "closed");
        if (m_out.empty() && m_left == 0) answer_commands();
        std::size_t n = 0;
        if (!m_out.empty()) {
            n = std::min(buffer.size(), m_out.size());
            std::memcpy(buffer.data(), m_out.data(), n);
            m_out.erase(0, n);
        } else if (m_left > 0) {
            n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), m_left));
            std::memset(buffer.data(), m_endless.fill, n);
            m_left -= n;
            if (m_left == 0) m_out = m_tail;
        }
        m_served += n;
        return n;
    }
    void write_all(std::string_view data) override {
        if (m_closed) throw transport::TransportError(transport::TransportError::Kind::Closed, "closed");
        m_in.append(data);
        m_written.append(data);
    }
    void close() noexcept override { m_closed = true; }
    void set_read_timeout(std::optional<std::chrono::milliseconds>) override {}
    std::string describe() const override { return "lazy"; }

    std::uint64_t served() const { return m_served; }
    const std::string& written() const { return m_written; }

  private:
    void answer_commands() {
        std::size_t eol;
        while (m_out.empty() && m_left == 0 && (eol = m_in.find("\r\n")) != std::string::npos) {
            std::string line = m_in.substr(0, eol);
            m_in.erase(0, eol + 2);
            auto sp = line.find(' ');
            std::string tag = line.substr(0, sp);
            std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
            auto with_tag = [&](const std::string& s) { return std::regex_replace(s, std::regex("\\$T"), tag); };
            if (!m_triggered && rest.rfind(m_trigger, 0) == 0) {
                m_triggered = true;
                m_out = with_tag(m_endless.head);
                m_left = m_endless.size;
                m_tail = with_tag(m_endless.tail);
                if (m_left == 0) m_out += m_tail;
                return;
            }
            for (const auto& r : m_rules) {
                if (rest.rfind(r.command, 0) != 0) continue;
                m_out += with_tag(r.reply);
                break;
            }
        }
    }

    std::string m_out;
    std::vector<Rule> m_rules;
    std::string m_trigger;
    Endless m_endless;
    bool m_triggered = false;
    std::uint64_t m_left = 0;
    std::string m_tail;
    std::string m_in;
    std::string m_written;
    std::uint64_t m_served = 0;
    bool m_closed = false;
};

// The command lines a client wrote, literals skipped ("{n}" / "{n+}" at a
// line's end announces n bytes that are data, not protocol).
inline std::vector<std::string> command_lines(const std::string& written) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < written.size()) {
        auto eol = written.find("\r\n", pos);
        if (eol == std::string::npos) eol = written.size();
        std::string line = written.substr(pos, eol - pos);
        pos = eol + 2;
        lines.push_back(line);
        if (auto marker = wire::find_literal_marker(line)) pos += marker->size;
    }
    return lines;
}

class VectorSink : public wire::LiteralSink {
  public:
    void write(std::string_view chunk) override {
        data.append(chunk);
        ++chunks;
    }
    void finish() override { finished = true; }
    std::string data;
    int chunks = 0;
    bool finished = false;
};

}  // namespace imapkeep::testing
