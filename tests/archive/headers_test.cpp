#include <imapkeep/archive/headers.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace imapkeep::archive;

TEST_CASE("header summary: first occurrence, unfolded, any case, stops at the body", "[archive][headers]") {
    const std::string msg =
        "Return-Path: <bounce@example.org>\r\n"
        "from: Alice Example\r\n <alice@example.org>\r\n"
        "Subject:  Hello,\r\n\tworld  \r\n"
        "Subject: second\r\n"
        "Message-ID: <id-1@example.org>\r\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        "\r\n"
        "From: not a header\r\n";
    auto h = parse_header_summary(msg);
    CHECK(h.from == "Alice Example <alice@example.org>");
    CHECK(h.subject == "Hello,\tworld");
    CHECK(h.message_id == "<id-1@example.org>");
    CHECK(h.date == "Mon, 1 Jan 2024 10:00:00 +0000");
    CHECK(h.return_path == "<bounce@example.org>");

    auto lf = parse_header_summary("Subject: lf only\n\nSubject: body\n");
    CHECK(lf.subject == "lf only");
    CHECK(parse_header_summary("\r\nSubject: body\r\n").subject.empty());
}

TEST_CASE("bare addresses for the mbox From line", "[archive][headers]") {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case cases[] = {
        {"Alice <alice@example.org>", "alice@example.org"},
        {"<bounce@example.org>", "bounce@example.org"},
        {"alice@example.org", "alice@example.org"},
        {"alice@example.org (Alice)", "alice@example.org"},
        {"\"Bob\" bob@x.org", "bob@x.org"},
        {"<>", ""},
        {"no address here", ""},
        {"", ""},
    };
    for (const auto& c : cases) {
        INFO(c.in);
        CHECK(bare_address(c.in) == c.out);
    }
}

TEST_CASE("read_header_block stops after the empty line and at the limit", "[archive][headers]") {
    auto path = std::filesystem::temp_directory_path() / "imapkeep-headers-test.eml";
    {
        std::ofstream out(path, std::ios::binary);
        out << "A: 1\r\nB: 2\r\n\r\n" << std::string(100000, 'x');
    }
    CHECK(read_header_block(path.string()) == "A: 1\r\nB: 2\r\n\r\n");
    CHECK(read_header_block(path.string(), 4) == "A: 1");
    {
        std::ofstream out(path, std::ios::binary);
        out << "A: 1\nB: 2\n\nbody";
    }
    CHECK(read_header_block(path.string()) == "A: 1\nB: 2\n\n");
    std::filesystem::remove(path);
    CHECK_THROWS(read_header_block(path.string()));
}
