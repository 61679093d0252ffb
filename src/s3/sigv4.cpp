#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <imapkeep/s3/sigv4.hpp>
#include <imapkeep/util/sha256.hpp>
#include <stdexcept>

namespace imapkeep::s3 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// "Trim leading and trailing spaces, convert sequential spaces to a single space."
std::string normalize_value(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        out += c;
    }
    return out;
}

// The YYYYMMDD part of an x-amz-date.
std::string_view date_of(std::string_view amz_date) {
    if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z')
        throw std::invalid_argument("SigV4: x-amz-date is not YYYYMMDDTHHMMSSZ");
    return amz_date.substr(0, 8);
}

std::string hex_bytes(const unsigned char* data, std::size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kHex[data[i] >> 4];
        out[2 * i + 1] = kHex[data[i] & 0x0f];
    }
    return out;
}

std::string authorization(std::string_view access_key, std::string_view scope,
                          std::string_view signed_headers, std::string_view signature) {
    std::string out(kAlgorithm);
    out.append(" Credential=").append(access_key).append("/").append(scope);
    out.append(", SignedHeaders=").append(signed_headers);
    out.append(", Signature=").append(signature);
    return out;
}

SignedParts sign_with_key(const SignRequest& request, std::string_view access_key,
                          const Digest& key, const SigningScope& scope, std::string_view amz_date) {
    SignedParts parts;
    parts.canonical_request = canonical_request(request);
    parts.string_to_sign = string_to_sign(amz_date, scope, parts.canonical_request);
    parts.signature = hex(hmac_sha256(key.data(), key.size(), parts.string_to_sign));
    const auto signed_headers = canonical_headers(request.headers).second;
    parts.authorization = authorization(access_key, credential_scope(date_of(amz_date), scope),
                                        signed_headers, parts.signature);
    return parts;
}

}  // namespace

std::string uri_encode(std::string_view raw, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(raw.size());
    for (char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        }
    }
    return out;
}

std::string canonical_uri(std::string_view raw_path) {
    if (raw_path.empty() || raw_path.front() != '/')
        throw std::invalid_argument("SigV4: the path must start with \"/\"");
    return uri_encode(raw_path, true);
}

std::string canonical_query(const NameValues& raw_query) {
    NameValues encoded;
    encoded.reserve(raw_query.size());
    for (const auto& [name, value] : raw_query)
        encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out += '&';
        out.append(name).append("=").append(value);
    }
    return out;
}

std::pair<std::string, std::string> canonical_headers(const NameValues& headers) {
    NameValues normalized;
    normalized.reserve(headers.size());
    for (const auto& [name, value] : headers)
        normalized.emplace_back(lower(normalize_value(name)), normalize_value(value));
    // Stable: values of a repeated name keep the order they were given in.
    std::stable_sort(normalized.begin(), normalized.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string lines, names;
    for (std::size_t i = 0; i < normalized.size(); ++i) {
        const bool repeat = i > 0 && normalized[i].first == normalized[i - 1].first;
        if (repeat) {
            lines.pop_back();  // the previous line's "\n"
            lines.append(",").append(normalized[i].second).append("\n");
            continue;
        }
        lines.append(normalized[i].first).append(":").append(normalized[i].second).append("\n");
        if (!names.empty()) names += ';';
        names += normalized[i].first;
    }
    return {lines, names};
}

std::string canonical_request(const SignRequest& request) {
    const auto [lines, names] = canonical_headers(request.headers);
    if ((";" + names + ";").find(";host;") == std::string::npos)
        throw std::invalid_argument("SigV4: the host header must be signed");
    std::string out = request.method;
    out.append("\n").append(canonical_uri(request.path));
    out.append("\n").append(canonical_query(request.query));
    out.append("\n").append(lines);
    out.append("\n").append(names);
    out.append("\n").append(request.payload_sha256);
    return out;
}

std::string credential_scope(std::string_view date, const SigningScope& scope) {
    std::string out(date);
    out.append("/").append(scope.region).append("/").append(scope.service).append("/aws4_request");
    return out;
}

std::string string_to_sign(std::string_view amz_date, const SigningScope& scope,
                           std::string_view canonical_request) {
    std::string out(kAlgorithm);
    out.append("\n").append(amz_date);
    out.append("\n").append(credential_scope(date_of(amz_date), scope));
    out.append("\n").append(util::sha256_hex(canonical_request));
    return out;
}

Digest hmac_sha256(const unsigned char* key, std::size_t key_size, std::string_view data) {
    Digest out{};
    unsigned int size = 0;
    if (!HMAC(EVP_sha256(), key, static_cast<int>(key_size),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
              &size) ||
        size != out.size())
        throw std::runtime_error("SigV4: HMAC-SHA256 failed");
    return out;
}

Digest signing_key(std::string_view secret_key, std::string_view date, const SigningScope& scope) {
    const std::string first = "AWS4" + std::string(secret_key);
    Digest key =
        hmac_sha256(reinterpret_cast<const unsigned char*>(first.data()), first.size(), date);
    key = hmac_sha256(key.data(), key.size(), scope.region);
    key = hmac_sha256(key.data(), key.size(), scope.service);
    return hmac_sha256(key.data(), key.size(), "aws4_request");
}

std::string hex(const Digest& digest) { return hex_bytes(digest.data(), digest.size()); }

std::string amz_date(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

SignedParts sign(const SignRequest& request, const Credentials& credentials,
                 const SigningScope& scope, std::string_view amz_date) {
    const Digest key = signing_key(credentials.secret_key, date_of(amz_date), scope);
    return sign_with_key(request, credentials.access_key, key, scope, amz_date);
}

Signer::Signer(Credentials credentials, SigningScope scope)
    : m_credentials(std::move(credentials)), m_scope(std::move(scope)) {}

SignedParts Signer::sign(const SignRequest& request, std::string_view amz_date) const {
    return sign_with_key(request, m_credentials.access_key, key_for(date_of(amz_date)), m_scope,
                         amz_date);
}

Digest Signer::key_for(std::string_view date) const {
    std::lock_guard lock(m_mutex);
    if (m_key_date != date) {
        m_key = signing_key(m_credentials.secret_key, date, m_scope);
        m_key_date = date;
    }
    return m_key;
}

}  // namespace imapkeep::s3
