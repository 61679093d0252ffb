// Modified UTF-7 (RFC 3501 §5.1.3) codecs: decoding never crashes, and valid
// UTF-8 survives encode then decode unchanged; whatever decodes re-encodes to
// the same text (the encoding is canonical).
#include <imapkeep/util/utf7.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"

using imapkeep::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    if (auto decoded = imapkeep::util::utf7_decode(input))
        check(imapkeep::util::utf7_encode(*decoded) == input, "decoded text re-encodes to itself");
    try {
        auto encoded = imapkeep::util::utf7_encode(input);
        auto back = imapkeep::util::utf7_decode(encoded);
        // NUL encodes but is refused on decode (a NUL can never be in a name).
        if (input.find('\0') == std::string::npos) check(back && *back == input, "round trip");
    } catch (const std::invalid_argument&) {
        // not UTF-8: nothing to round-trip
    }
    return 0;
}
