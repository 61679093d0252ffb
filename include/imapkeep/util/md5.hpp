// HMAC-MD5 for CRAM-MD5 (RFC 2195). Throws std::runtime_error when MD5 is not
// available (FIPS providers).
#pragma once
#include <string>
#include <string_view>
namespace imapkeep::util {
std::string hmac_md5_hex(std::string_view key, std::string_view data);
}
