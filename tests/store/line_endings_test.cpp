// The LF form of pure-CRLF messages (store/line_endings.hpp): decided and
// written by the store as bytes arrive, read back by read_original() as the
// exact wire bytes, whatever the chunking.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <sstream>

#include "support/fault_file_system.hpp"
#include "temp_dir.hpp"

using namespace imapkeep::store;
using imapkeep::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Case {
    const char* name;
    std::string wire;
    LineEndings form;  // what the store must choose
};

// More than the store gathers before a write() (256 KiB), so LF bytes are on
// disk before the message ends.
constexpr std::size_t kPastTheWriteBuffer = 600 * 1024;

std::string bytes(const char* s, std::size_t n) { return std::string(s, n); }

const std::vector<Case> kCases = {
    {"empty body", "", LineEndings::Wire},
    {"no line ending at all", "Subject: x", LineEndings::Wire},
    {"no final newline", "Subject: x\r\n\r\nlast line", LineEndings::Lf},
    {"CRLF only", "\r\n", LineEndings::Lf},
    {"two CRLF", "\r\n\r\n", LineEndings::Lf},
    {"a message", "Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n", LineEndings::Lf},
    {"8-bit bytes", "Subject: caf\xc3\xa9\r\n\r\n\xff\xfe\x80\r\n", LineEndings::Lf},
    {"NUL bytes", bytes("a\0b\r\n\0\r\n", 8), LineEndings::Lf},
    {"CR alone", "\r", LineEndings::Wire},
    {"LF alone", "\n", LineEndings::Wire},
    {"CR CR LF", "\r\r\n", LineEndings::Wire},
    {"ends with a lone CR", "a\r\nb\r", LineEndings::Wire},
    {"a bare LF at the end", "a\r\nb\n", LineEndings::Wire},
    {"a bare CR inside", "a\rb\r\n", LineEndings::Wire},
    {"LF CR", "a\n\rb", LineEndings::Wire},
    {"a bare LF first", "\na\r\n", LineEndings::Wire},
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string lf_form(const std::string& wire) {
    std::string out;
    for (std::size_t i = 0; i < wire.size(); ++i)
        if (!(wire[i] == '\r' && i + 1 < wire.size() && wire[i + 1] == '\n')) out += wire[i];
    return out;
}

std::vector<std::string> names_of(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
    return out;
}

std::string original_of(const std::string& path, LineEndings form) {
    std::string out;
    read_original(path, form, [&](std::string_view piece) { out.append(piece); });
    return out;
}

// Writes `wire` in the given pieces and commits it; returns the store path.
std::string put(MessageStore& store, const std::vector<std::string_view>& pieces,
                LineEndings& form) {
    auto pending = store.begin("work", "");
    for (auto piece : pieces) pending->write(piece);
    pending->finish();
    form = pending->line_endings();
    store.sync_pending();
    return store.commit(*pending, "work", "", 1, 0, {});
}

}  // namespace

TEST_CASE("the codec: LF form and back, split at every offset", "[store][line_endings]") {
    for (const auto& c : kCases) {
        INFO(c.name);
        for (std::size_t split = 0; split <= c.wire.size(); ++split) {
            INFO("split at " << split);
            const std::string_view wire(c.wire);
            CrlfToLf scanner;
            scanner.scan(wire.substr(0, split));
            scanner.scan(wire.substr(split));
            const bool lf = scanner.pure_at_end() && scanner.pairs() > 0;
            CHECK(lf == (c.form == LineEndings::Lf));
            if (!scanner.pure_at_end()) continue;
            // Converted in two pieces the way the store flushes: an unconsumed
            // final CR is carried into the next piece.
            std::string stored;
            std::string rest(wire.substr(0, split));
            rest.erase(0, CrlfToLf::convert(rest, stored));
            rest.append(wire.substr(split));
            rest.erase(0, CrlfToLf::convert(rest, stored));
            CHECK(rest.empty());
            CHECK(stored == lf_form(c.wire));
            CHECK(stored.find('\r') == std::string::npos);
            std::string back;
            lf_to_crlf(std::string_view(stored).substr(0, split / 2), back);
            lf_to_crlf(std::string_view(stored).substr(split / 2), back);
            CHECK(back == c.wire);
        }
    }
}

TEST_CASE("append_lf checks and converts in one pass, split at every two offsets",
          "[store][line_endings]") {
    for (const auto& c : kCases) {
        INFO(c.name);
        for (std::size_t a = 0; a <= c.wire.size(); ++a) {
            for (std::size_t b = a; b <= c.wire.size(); ++b) {
                INFO("split at " << a << " and " << b);
                const std::string_view wire(c.wire);
                CrlfToLf codec;
                std::string stored;
                bool pure = true;
                for (auto piece : {wire.substr(0, a), wire.substr(a, b - a), wire.substr(b)})
                    pure = codec.append_lf(piece, stored) && pure;
                CHECK(pure == codec.pure());
                const bool lf = codec.pure() && !codec.held_cr() && codec.pairs() > 0;
                CHECK(lf == (c.form == LineEndings::Lf));
                if (!codec.pure()) continue;
                // A final lone CR is held back: the LF form of all before it.
                const std::string before_cr(wire.substr(0, wire.size() - (codec.held_cr() ? 1 : 0)));
                CHECK(stored == lf_form(before_cr));
                CHECK(stored.find('\r') == std::string::npos);
            }
        }
    }
}

TEST_CASE("the store writes pure CRLF with LF and reads back the wire bytes",
          "[store][line_endings]") {
    for (const auto& c : kCases) {
        INFO(c.name);
        for (std::size_t split = 0; split <= c.wire.size(); ++split) {
            INFO("split at " << split);
            TempDir dir;
            auto store = open_maildir_store(dir.path());
            const std::string_view wire(c.wire);
            LineEndings form;
            const auto file = put(*store, {wire.substr(0, split), wire.substr(split)}, form);
            CHECK(form == c.form);
            const std::string path = store->absolute(file);
            CHECK(read_all(path) == (form == LineEndings::Lf ? lf_form(c.wire) : c.wire));
            CHECK(original_of(path, form) == c.wire);
            const auto digest = digest_original(path, form);
            CHECK(digest.size == c.wire.size());
            CHECK(digest.sha256 == imapkeep::util::sha256_hex(c.wire));
        }
    }
}

TEST_CASE("a bare CR or LF after the first flush rewrites the file byte for byte",
          "[store][line_endings]") {
    // Well past the store's write buffer, so LF bytes are on disk when the
    // impurity arrives; each tail also puts a lone CR at a chunk's end.
    std::string prefix;
    while (prefix.size() < kPastTheWriteBuffer) prefix += "a line of text\r\n";
    const std::vector<std::pair<const char*, std::string>> tails = {
        {"bare LF", "x\r\ny\nz\r\n"},
        {"bare CR", "x\r\ny\rz\r\n"},
        {"lone CR at the end", "x\r\ny\r"},
        {"CR CR LF", "x\r\r\n"},
    };
    for (const auto& [name, tail] : tails) {
        INFO(name);
        const std::string wire = prefix + tail;
        for (std::size_t chunk : {std::size_t{4096}, std::size_t{4095}, wire.size()}) {
            INFO("chunk " << chunk);
            TempDir dir;
            auto store = open_maildir_store(dir.path());
            std::vector<std::string_view> pieces;
            for (std::size_t pos = 0; pos < wire.size(); pos += chunk)
                pieces.push_back(std::string_view(wire).substr(pos, chunk));
            LineEndings form;
            const auto file = put(*store, pieces, form);
            CHECK(form == LineEndings::Wire);
            CHECK(read_all(store->absolute(file)) == wire);
            // The LF copy it replaced is gone: tmp/ is empty after the commit.
            CHECK(fs::is_empty(dir / "mail/work/tmp"));
            CHECK(store->clean_tmp("work") == 0);
        }
    }
}

TEST_CASE("a large pure-CRLF message is stored with LF in bounded writes",
          "[store][line_endings]") {
    std::string wire;
    while (wire.size() < kPastTheWriteBuffer) wire += "0123456789\r\n";
    wire += "\r\n";
    TempDir dir;
    auto store = open_maildir_store(dir.path());
    std::vector<std::string_view> pieces;
    // A CR at the end of every piece: the pair is split across two writes.
    for (std::size_t pos = 0; pos < wire.size(); pos += 11)
        pieces.push_back(std::string_view(wire).substr(pos, 11));
    LineEndings form;
    const auto file = put(*store, pieces, form);
    CHECK(form == LineEndings::Lf);
    CHECK(read_all(store->absolute(file)) == lf_form(wire));
    CHECK(original_of(store->absolute(file), form) == wire);
}

TEST_CASE("lf_line_endings = false stores every message byte for byte", "[store][line_endings]") {
    TempDir dir;
    MaildirOptions options;
    options.lf_line_endings = false;
    auto store = open_maildir_store(dir.path(), options);
    LineEndings form;
    const std::string wire = "Subject: x\r\n\r\nbody\r\n";
    const auto file = put(*store, {wire}, form);
    CHECK(form == LineEndings::Wire);
    CHECK(read_all(store->absolute(file)) == wire);
}

TEST_CASE("line endings names round-trip and nothing else parses", "[store][line_endings]") {
    for (auto form : {LineEndings::Wire, LineEndings::Lf})
        CHECK(parse_line_endings(line_endings_name(form)) == form);
    CHECK(line_endings_name(LineEndings::Wire) == "wire");
    CHECK(line_endings_name(LineEndings::Lf) == "lf");
    CHECK_FALSE(parse_line_endings("LF"));
    CHECK_FALSE(parse_line_endings("crlf"));
    CHECK_FALSE(parse_line_endings(""));
}

TEST_CASE("read_original reports a missing file", "[store][line_endings]") {
    TempDir dir;
    for (auto form : {LineEndings::Wire, LineEndings::Lf})
        CHECK_THROWS_AS(digest_original(dir / "nothing", form), MessageMissing);
}

TEST_CASE("a failure while rewriting byte for byte loses nothing and leaves no file behind",
          "[store][line_endings]") {
    std::string prefix;
    while (prefix.size() < kPastTheWriteBuffer) prefix += "a line of text\r\n";
    const std::string tail = "bare\nLF\r\n";
    for (auto op : {imapkeep::test::FsOp::Write, imapkeep::test::FsOp::Create,
                    imapkeep::test::FsOp::Unlink}) {
        INFO(imapkeep::test::fs_op_name(op));
        TempDir dir;
        auto fs = std::make_shared<imapkeep::test::FaultFileSystem>();
        MaildirOptions options;
        options.file_system = fs;
        auto store = open_maildir_store(dir.path(), options);
        auto pending = store->begin("work", "");
        pending->write(prefix);
        REQUIRE(fs::file_size(names_of(dir / "mail/work/tmp").front()) > 0);  // LF bytes on disk
        fs->fail(op);
        if (op == imapkeep::test::FsOp::Unlink) {
            // The copy is whole: the message goes on; the old file is left to clean_tmp().
            pending->write(tail);
            pending->finish();
            CHECK(pending->line_endings() == LineEndings::Wire);
            store->sync_pending();
            const auto file = store->commit(*pending, "work", "", 1, 0, {});
            CHECK(read_all(store->absolute(file)) == prefix + tail);
            CHECK(store->clean_tmp("work") == 1);
        } else {
            CHECK_THROWS_AS(pending->write(tail), StoreError);
            pending->discard();
            CHECK(store->clean_tmp("work") == 0);
        }
        CHECK(fs::is_empty(dir / "mail/work/tmp"));
    }
}
