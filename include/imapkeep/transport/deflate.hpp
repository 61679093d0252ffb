// COMPRESS=DEFLATE (RFC 4978): raw DEFLATE (RFC 1951, no zlib header) in both
// directions over an existing stream, started after a tagged OK to COMPRESS.
#pragma once

#include <imapkeep/transport/stream.hpp>

namespace imapkeep::transport {

// Takes ownership of `inner`. Each write_all is compressed and ended with a
// sync flush (RFC 4978 §4), so the server sees every command at once. Corrupt
// compressed input -> TransportError(Io); EOF of `inner` reads as 0.
// pending() is non-zero while compressed input is buffered (it may not all
// decompress to data), which is what STARTTLS-style "bytes left over" checks need.
StreamPtr wrap_deflate(StreamPtr inner);

}  // namespace imapkeep::transport
