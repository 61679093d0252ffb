// Scripted IMAP servers for imap::Client tests (shared by the files of test_imap).
#pragma once

#include <imapkeep/transport/fault.hpp>
#include <imapkeep/wire/framer.hpp>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace imapkeep::testing {

// A server that answers each client line by the first rule whose command
// matches; "$T" in a reply becomes the client's tag.
struct Rule {
    std::string command;  // upper-case command after the tag, prefix match
    std::string reply;
};

inline transport::StreamPtr scripted(std::string greeting, std::vector<Rule> rules,
                                     std::shared_ptr<std::string> log = nullptr) {
    auto buffer = std::make_shared<std::string>();
    return std::make_unique<transport::ScriptedStream>(
        std::move(greeting), [rules, buffer, log](const std::string& in) -> std::string {
            *buffer += in;
            if (log) *log += in;
            std::string out;
            std::size_t eol;
            while ((eol = buffer->find("\r\n")) != std::string::npos) {
                std::string line = buffer->substr(0, eol);
                buffer->erase(0, eol + 2);
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
