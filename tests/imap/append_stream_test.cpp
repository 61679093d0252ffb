// APPEND bodies from files (issue 10): the exact bytes reach the server in
// every literal mode, in bounded writes, and a file that no longer has the
// announced length ends the connection instead of desynchronising it.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/errors.hpp>

using namespace imapkeep;
using imap::Client;
using wire::LiteralMode;

namespace {

constexpr std::size_t kWriteBound = 128 * 1024;  // a 64 KiB chunk, with room to spare

// A server that expects exactly `expected` from the client: it sends "+" once
// the client wrote up to each synchronizing literal's marker, and the tagged
// OK once everything arrived. It keeps no copy of what it received.
class AppendServer : public transport::Stream {
  public:
    AppendServer(std::string greeting, std::string expected, std::vector<std::size_t> continue_at,
                 std::string tag, std::string uids = "20")
        : m_out(std::move(greeting)),
          m_expected(std::move(expected)),
          m_continue_at(std::move(continue_at)),
          m_tag(std::move(tag)),
          m_uids(std::move(uids)) {}

    std::size_t read_some(std::span<char> buffer) override {
        if (m_out_pos == m_out.size()) respond();
        const std::size_t n = std::min(buffer.size(), m_out.size() - m_out_pos);
        std::copy_n(m_out.data() + m_out_pos, n, buffer.data());
        m_out_pos += n;
        return n;
    }
    void write_all(std::string_view data) override {
        m_largest_write = std::max(m_largest_write, data.size());
        if (m_mismatch_at == std::string::npos &&
            (m_received + data.size() > m_expected.size() ||
             m_expected.compare(m_received, data.size(), data) != 0))
            m_mismatch_at = m_received;
        m_received += data.size();
    }
    void close() noexcept override {}
    void set_read_timeout(std::optional<std::chrono::milliseconds>) override {}
    std::string describe() const override { return "append server"; }

    std::size_t received() const { return m_received; }
    std::size_t mismatch_at() const { return m_mismatch_at; }
    std::size_t largest_write() const { return m_largest_write; }

  private:
    void respond() {
        m_out.clear();
        m_out_pos = 0;
        if (m_next_continue < m_continue_at.size() &&
            m_received == m_continue_at[m_next_continue]) {
            ++m_next_continue;
            m_out = "+ go on\r\n";
        } else if (m_received >= m_expected.size()) {
            m_out = m_tag + " OK [APPENDUID 7 " + m_uids + "] done\r\n";
        } else {
            throw transport::TransportError(transport::TransportError::Kind::Closed,
                                            "client waits at byte " + std::to_string(m_received));
        }
    }

    std::string m_out;
    std::size_t m_out_pos = 0;
    std::string m_expected;
    std::vector<std::size_t> m_continue_at;
    std::size_t m_next_continue = 0;
    std::string m_tag;
    std::string m_uids;
    std::size_t m_received = 0;
    std::size_t m_mismatch_at = std::string::npos;
    std::size_t m_largest_write = 0;
};

struct TempFile {
    std::filesystem::path path;
    explicit TempFile(const std::string& content) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("ik_append_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

// Lines of varying content, so that a chunk sent twice or skipped shows.
std::string body_of(std::size_t size) {
    std::string body;
    for (std::size_t line = 0; body.size() < size; ++line)
        body += "line " + std::to_string(line) + " xyz\r\n";
    body.resize(size);
    return body;
}

bool plus_for(LiteralMode mode, std::size_t size) {
    return mode == LiteralMode::LiteralPlus || (mode == LiteralMode::LiteralMinus && size <= 4096);
}

const char* mode_name(LiteralMode mode) {
    switch (mode) {
        case LiteralMode::Synchronizing:
            return "synchronizing";
        case LiteralMode::LiteralPlus:
            return "LITERAL+";
        case LiteralMode::LiteralMinus:
            return "LITERAL-";
    }
    return "?";
}

constexpr const char* kGreeting =
    "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] hi\r\n";

}  // namespace

TEST_CASE("an APPEND body from a file arrives exactly, streamed, in every literal mode",
          "[imap][append][stream]") {
    const std::size_t sizes[] = {0, 100, 4096, 4097, 65536, 65537, 3 * 1024 * 1024 + 17};
    for (auto mode :
         {LiteralMode::Synchronizing, LiteralMode::LiteralPlus, LiteralMode::LiteralMinus}) {
        for (std::size_t size : sizes) {
            INFO(mode_name(mode) << ", " << size << " bytes");
            const std::string body = body_of(size);
            TempFile file(body);
            std::string head = "T1 APPEND Box (\\Seen) \"01-Jan-2024 10:00:00 +0000\" {" +
                               std::to_string(size) + (plus_for(mode, size) ? "+" : "") + "}\r\n";
            std::vector<std::size_t> continue_at;
            if (!plus_for(mode, size)) continue_at.push_back(head.size());
            auto server =
                std::make_unique<AppendServer>(kGreeting, head + body + "\r\n", continue_at, "T1");
            AppendServer& seen = *server;
            Client client(std::move(server));
            client.set_tag_prefix("T");
            client.read_greeting();
            client.set_literal_mode_override(mode);
            auto result =
                client.append("Box", {"\\Seen"}, std::string("01-Jan-2024 10:00:00 +0000"),
                              imap::AppendBody::file(file.path.string(), size));
            CHECK(seen.mismatch_at() == std::string::npos);
            CHECK(seen.received() == head.size() + size + 2);
            CHECK(seen.largest_write() <= kWriteBound);
            CHECK(result.uid.has_value());
        }
    }
}

TEST_CASE("a MULTIAPPEND of file and memory bodies arrives exactly in every literal mode",
          "[imap][append][stream]") {
    const std::string big = body_of(200 * 1024 + 3), small = "Subject: s\r\n\r\nsmall\r\n",
                      tiny = body_of(10);
    TempFile big_file(big), tiny_file(tiny);
    for (auto mode :
         {LiteralMode::Synchronizing, LiteralMode::LiteralPlus, LiteralMode::LiteralMinus}) {
        INFO(mode_name(mode));
        auto marker = [&](std::size_t n) {
            return "{" + std::to_string(n) + (plus_for(mode, n) ? "+" : "") + "}\r\n";
        };
        std::string expected = "T1 APPEND Box " + marker(big.size());
        std::vector<std::size_t> continue_at;
        if (!plus_for(mode, big.size())) continue_at.push_back(expected.size());
        expected += big + " (\\Flagged) " + marker(small.size());
        if (!plus_for(mode, small.size())) continue_at.push_back(expected.size());
        expected += small + " " + marker(tiny.size());
        if (!plus_for(mode, tiny.size())) continue_at.push_back(expected.size());
        expected += tiny + "\r\n";
        auto server =
            std::make_unique<AppendServer>(kGreeting, expected, continue_at, "T1", "20:22");
        AppendServer& seen = *server;
        Client client(std::move(server));
        client.set_tag_prefix("T");
        client.read_greeting();
        client.set_literal_mode_override(mode);
        std::vector<imap::AppendMessage> batch;
        batch.push_back(
            {{}, std::nullopt, imap::AppendBody::file(big_file.path.string(), big.size())});
        batch.push_back({{"\\Flagged"}, std::nullopt, small});
        batch.push_back(
            {{}, std::nullopt, imap::AppendBody::file(tiny_file.path.string(), tiny.size())});
        auto results =
            client.finish_multiappend(client.submit_multiappend("Box", std::move(batch)), 3);
        CHECK(seen.mismatch_at() == std::string::npos);
        CHECK(seen.received() == expected.size());
        CHECK(seen.largest_write() <= kWriteBound);
        REQUIRE(results.size() == 3);
        CHECK(results[2].uid == Uid(22));
    }
}

TEST_CASE("a body file of another length than announced ends the connection",
          "[imap][append][stream]") {
    const std::string body = body_of(70000);
    TempFile file(body);
    for (std::size_t announced :
         {std::size_t{69999}, std::size_t{70001}, std::size_t{10}, std::size_t{140000}}) {
        INFO("announced " << announced);
        const std::string head = "T1 APPEND Box {" + std::to_string(announced) + "+}\r\n";
        auto server = std::make_unique<AppendServer>(
            kGreeting, head + body.substr(0, announced) + "\r\n", std::vector<std::size_t>{}, "T1");
        AppendServer& seen = *server;
        Client client(std::move(server));
        client.set_tag_prefix("T");
        client.read_greeting();
        CHECK_THROWS_AS(client.append("Box", {}, std::nullopt,
                                      imap::AppendBody::file(file.path.string(), announced)),
                        imap::Abort);
        // Never more than announced: the server would read the excess as a command.
        CHECK(seen.received() <= head.size() + announced);
        CHECK_THROWS_AS(client.noop(), imap::Abort);  // the connection is gone
    }
}

TEST_CASE("an unreadable body file ends the connection", "[imap][append][stream]") {
    auto server = std::make_unique<AppendServer>(kGreeting, "", std::vector<std::size_t>{}, "T1");
    Client client(std::move(server));
    client.read_greeting();
    CHECK_THROWS_AS(
        client.append("Box", {}, std::nullopt, imap::AppendBody::file("/nonexistent/ik/file", 5)),
        imap::Abort);
    CHECK_THROWS_AS(client.noop(), imap::Abort);
}
