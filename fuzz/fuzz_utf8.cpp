// printable_utf8 on any bytes: the result is valid UTF-8 (it passes through
// printable_utf8 unchanged) and holds no control character but TAB.
#include <imapkeep/util/utf8.hpp>

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"

using imapkeep::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const std::string out = imapkeep::util::printable_utf8(input);
    check(imapkeep::util::printable_utf8(out) == out, "the output is printable UTF-8 already");
    for (char c : out) {
        const auto u = static_cast<unsigned char>(c);
        check(!((u < 0x20 && c != '\t') || u == 0x7F), "no control characters");
    }
    return 0;
}
