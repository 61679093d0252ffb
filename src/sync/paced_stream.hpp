// A stream whose reads go through the run's byte rate limit
// (max_bytes_per_second): installed under TLS, so it counts what the
// provider counts, and it paces each read, so a large message trickles in
// instead of stalling the server for minutes after it.
#pragma once

#include <imapkeep/transport/stream.hpp>

#include "sync/pacer.hpp"

namespace imapkeep::sync {

transport::StreamPtr paced_stream(transport::StreamPtr inner, Pacer& pacer);

}  // namespace imapkeep::sync
