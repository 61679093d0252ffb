#include <imapkeep/transport/deflate.hpp>
#include <imapkeep/transport/fault.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

using imapkeep::transport::ScriptedStream;
using imapkeep::transport::Stream;
using imapkeep::transport::StreamPtr;
using imapkeep::transport::TransportError;
using imapkeep::transport::wrap_deflate;

namespace {

// One direction of an in-memory connection.
struct Pipe {
    std::string bytes;
    std::size_t pos = 0;
};

// An end of an in-memory duplex connection: writes go to `out`, reads come
// from `in`; reading an empty pipe is EOF (the tests never block).
class MemoryEnd final : public Stream {
public:
    MemoryEnd(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out) : m_in(std::move(in)), m_out(std::move(out)) {}
    std::size_t read_some(std::span<char> buffer) override {
        std::size_t n = std::min(buffer.size(), m_in->bytes.size() - m_in->pos);
        std::copy_n(m_in->bytes.data() + m_in->pos, n, buffer.data());
        m_in->pos += n;
        return n;
    }
    void write_all(std::string_view data) override { m_out->bytes.append(data); }
    void close() noexcept override {}
    void set_read_timeout(std::optional<std::chrono::milliseconds>) override {}
    std::string describe() const override { return "memory"; }

private:
    std::shared_ptr<Pipe> m_in;
    std::shared_ptr<Pipe> m_out;
};

std::string read_exactly(Stream& s, std::size_t size, std::size_t buffer_size) {
    std::string out;
    std::vector<char> buf(buffer_size);
    while (out.size() < size) {
        std::size_t want = std::min(buffer_size, size - out.size());
        std::size_t n = s.read_some(std::span<char>(buf.data(), want));
        if (n == 0) break;
        out.append(buf.data(), n);
    }
    return out;
}

// Independent raw inflate of a whole buffer, as a peer would do it.
std::string raw_inflate(const std::string& compressed) {
    z_stream z{};
    REQUIRE(inflateInit2(&z, -15) == Z_OK);
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    z.avail_in = static_cast<uInt>(compressed.size());
    char buf[4096];
    int rc;
    do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_SYNC_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
    return out;
}

std::string raw_deflate(const std::string& plain) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, static_cast<uLong>(plain.size())) + 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_SYNC_FLUSH) == Z_OK);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

std::string random_text(std::size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    static const std::string words[] = {"FETCH ", "UID ", "FLAGS (\\Seen) ", "BODY[] ", "\r\n", "* ", "{1234}"};
    std::string out;
    while (out.size() < size) {
        if (rng() % 4 == 0) {
            out += static_cast<char>(rng());
        } else {
            out += words[rng() % 7];
        }
    }
    out.resize(size);
    return out;
}

}  // namespace

TEST_CASE("deflate round trip both ways through in-memory streams", "[transport][deflate]") {
    auto a_to_b = std::make_shared<Pipe>();
    auto b_to_a = std::make_shared<Pipe>();
    StreamPtr client = wrap_deflate(std::make_unique<MemoryEnd>(b_to_a, a_to_b));
    StreamPtr server = wrap_deflate(std::make_unique<MemoryEnd>(a_to_b, b_to_a));
    CHECK(client->describe() == "deflate over memory");

    struct Case {
        std::string data;
        std::size_t read_buffer;
    };
    const std::vector<Case> cases = {
        {"a001 NOOP\r\n", 1},
        {"a002 UID FETCH 1:* (FLAGS)\r\n", 4096},
        {"", 16},
        {random_text(1 << 20, 1), 7},
        {random_text(300000, 2), 65536},
        {std::string(100000, '\0'), 1000},
    };
    for (const auto& c : cases) {
        INFO(c.data.size() << " bytes, buffer " << c.read_buffer);
        client->write_all(c.data);
        CHECK(read_exactly(*server, c.data.size(), c.read_buffer) == c.data);
        server->write_all(c.data);
        CHECK(read_exactly(*client, c.data.size(), c.read_buffer) == c.data);
    }
    // Nothing left over on either side.
    char buf[8];
    CHECK(client->read_some(buf) == 0);
    CHECK(server->read_some(buf) == 0);
}

TEST_CASE("deflate flushes every write so a peer can decode it at once", "[transport][deflate]") {
    auto out = std::make_shared<Pipe>();
    StreamPtr s = wrap_deflate(std::make_unique<MemoryEnd>(std::make_shared<Pipe>(), out));
    std::string expected;
    for (std::string command : {"a1 CAPABILITY\r\n", "a2 NOOP\r\n", "a3 LOGOUT\r\n"}) {
        s->write_all(command);
        expected += command;
        // A sync flush ends with an empty stored block: 00 00 ff ff.
        REQUIRE(out->bytes.size() >= 4);
        CHECK(out->bytes.substr(out->bytes.size() - 4) == std::string("\0\0\xff\xff", 4));
        CHECK(raw_inflate(out->bytes) == expected);
    }
}

TEST_CASE("deflate reads independently compressed data split at every size", "[transport][deflate]") {
    std::string plain = random_text(5000, 3);
    std::string compressed = raw_deflate(plain);
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{333}, compressed.size()}) {
        INFO("chunk " << chunk);
        StreamPtr s = wrap_deflate(std::make_unique<ScriptedStream>(compressed, ScriptedStream::Responder{}, chunk));
        CHECK(read_exactly(*s, plain.size() + 1, 100) == plain);
    }
}

TEST_CASE("deflate pending() reports buffered data", "[transport][deflate]") {
    std::string compressed = raw_deflate("one\r\ntwo\r\n");
    StreamPtr s = wrap_deflate(std::make_unique<ScriptedStream>(compressed));
    CHECK(s->pending() == 0);
    CHECK(read_exactly(*s, 5, 5) == "one\r\n");
    CHECK(s->pending() > 0);
    CHECK(read_exactly(*s, 5, 5) == "two\r\n");
}

TEST_CASE("deflate rejects corrupt input with an Io error", "[transport][deflate]") {
    // 0xff starts a block of reserved type 3.
    StreamPtr s = wrap_deflate(std::make_unique<ScriptedStream>(std::string("\xff\xff\xff\xff", 4)));
    char buf[16];
    try {
        s->read_some(buf);
        FAIL("corrupt data was accepted");
    } catch (const TransportError& e) {
        CHECK(e.kind() == TransportError::Kind::Io);
    }
}
