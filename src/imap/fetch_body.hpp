// The one place that decides which FETCH data is a message body (RFC 3501
// §7.4.2 BODY[] / BODY[]<origin> / RFC822, RFC 3516 BINARY[]): the framer's
// sink chooser asks it while the literal is still arriving, and the typed
// FETCH result asks it once the response is whole. Both must agree, or a
// streamed body would be read back as an empty buffered section.
#pragma once

#include <string_view>

namespace imapkeep::imap {

// `att` is a fetch-att name as the server sent it, any case ("body[]<0>").
bool is_body_att(std::string_view att);

// Whether the literal announced at the end of `response_so_far` (the
// framer's text so far, e.g. "* 3 FETCH (UID 7 BODY[] {1234}") is the value of
// a body fetch-att.
bool is_body_literal(std::string_view response_so_far);

}  // namespace imapkeep::imap
