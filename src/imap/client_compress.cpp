// COMPRESS=DEFLATE (RFC 4978 §3): the stream is swapped for a compressing one
// right after the tagged OK, the same moment STARTTLS swaps in TLS.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/transport/deflate.hpp>

namespace imapkeep::imap {

bool Client::compress() {
    if (!has_capability("COMPRESS=DEFLATE")) return false;
    auto c = run("COMPRESS", {wire::Arg::atom("DEFLATE")});
    // [COMPRESSIONACTIVE] (RFC 4978 §4): already on, e.g. negotiated by a proxy.
    if (!c.ok()) {
        if (c.code && c.code->name == "COMPRESSIONACTIVE") return true;
        throw CommandFailed("COMPRESS", c);
    }
    if (m_framer.buffered() > 0 || m_framer.has_frame() || m_stream->pending() > 0)
        fail("COMPRESS refused: uncompressed data arrived after the tagged OK");
    m_stream = transport::wrap_deflate(std::move(m_stream));
    return true;
}

}  // namespace imapkeep::imap
