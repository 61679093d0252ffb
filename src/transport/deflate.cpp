#include <imapkeep/transport/deflate.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace imapkeep::transport {
namespace {

using Kind = TransportError::Kind;

// RFC 4978 §4: "raw" DEFLATE without zlib header or checksum, i.e. zlib's
// negative windowBits; 15 = the 32 KiB window the RFC allows at most.
constexpr int kRawWindowBits = -15;
constexpr std::size_t kChunk = 16 * 1024;

class DeflateStream final : public Stream {
public:
    explicit DeflateStream(StreamPtr inner) : m_inner(std::move(inner)), m_in(kChunk), m_out(kChunk) {
        if (deflateInit2(&m_deflate, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kRawWindowBits, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            throw TransportError(Kind::Io, "deflate: cannot initialise compressor");
        }
        if (inflateInit2(&m_inflate, kRawWindowBits) != Z_OK) {
            deflateEnd(&m_deflate);
            throw TransportError(Kind::Io, "deflate: cannot initialise decompressor");
        }
    }
    ~DeflateStream() override {
        close();
        deflateEnd(&m_deflate);
        inflateEnd(&m_inflate);
    }
    DeflateStream(const DeflateStream&) = delete;
    DeflateStream& operator=(const DeflateStream&) = delete;

    std::size_t read_some(std::span<char> buffer) override {
        check_open();
        if (buffer.empty()) return 0;
        while (true) {
            if (m_inflate.avail_in > 0 || m_output_held) {
                std::size_t n = inflate_into(buffer);
                if (n > 0) return n;
            }
            if (m_stream_end) return 0;
            // Keep input zlib did not take (it normally takes all of it
            // before asking for more) ahead of the new bytes.
            std::size_t kept = m_inflate.avail_in;
            if (kept > 0) std::memmove(m_in.data(), m_inflate.next_in, kept);
            if (kept == m_in.size()) m_in.resize(m_in.size() * 2);
            std::size_t got = m_inner->read_some(std::span<char>(m_in.data() + kept, m_in.size() - kept));
            if (got == 0) return 0;
            m_inflate.next_in = reinterpret_cast<Bytef*>(m_in.data());
            m_inflate.avail_in = static_cast<uInt>(kept + got);
        }
    }

    void write_all(std::string_view data) override {
        check_open();
        // zlib counts in uInt; feed very large writes in pieces.
        constexpr std::size_t kMaxPiece = 1u << 30;
        while (data.size() > kMaxPiece) {
            compress(data.substr(0, kMaxPiece), Z_NO_FLUSH);
            data.remove_prefix(kMaxPiece);
        }
        // Z_SYNC_FLUSH ends on a byte boundary with an empty stored block, so
        // the peer can decompress everything written so far right away.
        compress(data, Z_SYNC_FLUSH);
    }

    void close() noexcept override {
        m_closed_flag = true;
        m_inner->close();
    }
    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override {
        m_inner->set_read_timeout(timeout);
    }
    std::size_t pending() const override {
        return m_inflate.avail_in + (m_output_held ? 1 : 0) + m_inner->pending();
    }
    int native_handle() const override { return m_inner->native_handle(); }
    std::string describe() const override { return "deflate over " + m_inner->describe(); }

private:
    void compress(std::string_view data, int flush) {
        m_deflate.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        m_deflate.avail_in = static_cast<uInt>(data.size());
        do {
            m_deflate.next_out = reinterpret_cast<Bytef*>(m_out.data());
            m_deflate.avail_out = static_cast<uInt>(m_out.size());
            int rc = deflate(&m_deflate, flush);
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                throw TransportError(Kind::Io, "deflate: compression failed");
            }
            std::size_t produced = m_out.size() - m_deflate.avail_out;
            if (produced > 0) m_inner->write_all(std::string_view(m_out.data(), produced));
        } while (m_deflate.avail_out == 0 || m_deflate.avail_in > 0);
    }

    std::size_t inflate_into(std::span<char> buffer) {
        m_inflate.next_out = reinterpret_cast<Bytef*>(buffer.data());
        m_inflate.avail_out = static_cast<uInt>(std::min<std::size_t>(buffer.size(), 1u << 30));
        uInt before = m_inflate.avail_out;
        int rc = inflate(&m_inflate, Z_SYNC_FLUSH);
        std::size_t produced = before - m_inflate.avail_out;
        if (rc == Z_STREAM_END) {
            // The peer ended its DEFLATE stream; RFC 4978 has no way to go
            // back to plain text, so nothing more can follow.
            m_stream_end = true;
            m_inflate.avail_in = 0;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throw TransportError(Kind::Io, std::string("deflate: corrupt compressed data from ") +
                                               m_inner->describe() + ": " +
                                               (m_inflate.msg ? m_inflate.msg : "unknown error"));
        }
        // A full output buffer may leave decompressed bytes inside zlib even
        // when all input has been consumed.
        m_output_held = m_inflate.avail_out == 0;
        return produced;
    }

    void check_open() const {
        if (m_closed_flag) throw TransportError(Kind::Closed, describe() + " is closed");
    }

    StreamPtr m_inner;
    z_stream m_deflate{};
    z_stream m_inflate{};
    std::vector<char> m_in;
    std::vector<char> m_out;
    bool m_output_held = false;
    bool m_stream_end = false;
    bool m_closed_flag = false;
};

}  // namespace

StreamPtr wrap_deflate(StreamPtr inner) {
    if (!inner) throw TransportError(Kind::Io, "wrap_deflate: no stream to wrap");
    return std::make_unique<DeflateStream>(std::move(inner));
}

}  // namespace imapkeep::transport
