#include "s3/http_session.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <imapkeep/s3/errors.hpp>
#include <imapkeep/util/on_demand_library.hpp>
#include <stdexcept>

#include "s3/libcurl.hpp"

namespace imapkeep::s3::detail {

namespace {

struct HeaderListDeleter {
    void operator()(curl_slist* list) const { libcurl().curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// The state of one request while curl runs it; curl's callbacks get a pointer.
struct Transfer {
    const HttpRequest& request;
    CURL* curl;
    HttpReply reply;
    std::uint64_t sent = 0;  // body bytes handed to curl since the last rewind
    std::exception_ptr failure;
    bool too_long = false;
};

long status_of(CURL* curl) {
    long status = 0;
    libcurl().curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

size_t on_read(char* out, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const HttpBody& body = t->request.body;
    try {
        const std::uint64_t left = body.size - t->sent;
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>({size * count, left, kPiece}));
        if (want == 0) return 0;
        const std::size_t got = body.source->read(out, want);
        if (got == 0) throw std::runtime_error(t->request.what + ": the upload source ended early");
        t->sent += got;
        return got;
    } catch (...) {
        t->failure = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto* t = static_cast<Transfer*>(user);
    const HttpBody& body = t->request.body;
    if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > body.size)
        return CURL_SEEKFUNC_CANTSEEK;
    try {
        if (body.source) body.source->seek(body.offset + static_cast<std::uint64_t>(offset));
        t->sent = static_cast<std::uint64_t>(offset);
        return CURL_SEEKFUNC_OK;
    } catch (...) {
        t->failure = std::current_exception();
        return CURL_SEEKFUNC_FAIL;
    }
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    const long status = status_of(t->curl);
    try {
        if (status >= 200 && status < 300 && t->request.sink) {
            (*t->request.sink)(std::string_view(data, n));
            t->reply.sunk += n;
            return n;
        }
    } catch (...) {
        t->failure = std::current_exception();
        return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
    }
    if (t->reply.body.size() + n > kMaxKeptBody) {
        t->too_long = true;
        return 0;
    }
    t->reply.body.append(data, n);
    return n;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return "";
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// Header lines of each response; a status line starts a new response (a
// "100 Continue" comes before the real one).
size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        t->reply.headers.clear();
        return line.size();
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return line.size();
    std::string name = trim(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    t->reply.headers[name] = trim(line.substr(colon + 1));
    return line.size();
}

}  // namespace

bool is_transient_curl_code(int code) {
    switch (static_cast<CURLcode>(code)) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_AGAIN:
            return true;
        default:
            return false;
    }
}

struct HttpSession::Impl {
    HttpOptions options;
    CURL* curl = nullptr;
    char error[CURL_ERROR_SIZE] = {};

    void set_common(Transfer& t, curl_slist* headers);
    void set_method(Transfer& t);
};

HttpSession::HttpSession(HttpOptions options) : m_impl(std::make_unique<Impl>()) {
    m_impl->options = std::move(options);
    try {
        m_impl->curl = libcurl().curl_easy_init();
    } catch (const util::LibraryMissing& e) {
        throw S3Error(std::string("S3: ") + e.what(), kNetworkError, 0, false);
    }
    if (!m_impl->curl) throw std::runtime_error("S3: cannot start libcurl");
}

HttpSession::~HttpSession() { libcurl().curl_easy_cleanup(m_impl->curl); }

void HttpSession::Impl::set_common(Transfer& t, curl_slist* headers) {
    const LibCurl& api = libcurl();
    CURL* c = curl;
    api.curl_easy_setopt(c, CURLOPT_URL, t.request.url.c_str());
    api.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    api.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    // Keys are opaque: "a/../b" and "./x" are names, not paths to simplify.
    api.curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    api.curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) {
        api.curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
        api.curl_easy_setopt(c, CURLOPT_CAPATH, static_cast<char*>(nullptr));
    }
    api.curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                         static_cast<long>(options.connect_timeout.count()));
    // A peer that vanished without a reset: fail once nothing moved for this long.
    api.curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    api.curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                         static_cast<long>(options.stall_timeout.count()));
    api.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    api.curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    api.curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    api.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    api.curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    api.curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    api.curl_easy_setopt(c, CURLOPT_USERAGENT, "imapkeep");
}

void HttpSession::Impl::set_method(Transfer& t) {
    const LibCurl& api = libcurl();
    CURL* c = curl;
    const std::string& method = t.request.method;
    if (method == "GET") {
        api.curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        api.curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method == "DELETE") {
        api.curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        // PUT and POST both send their body (maybe empty) through the read callback.
        api.curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        api.curl_easy_setopt(
            c, CURLOPT_INFILESIZE_LARGE,
            static_cast<curl_off_t>(t.request.body.source ? t.request.body.size : 0));
        api.curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        api.curl_easy_setopt(c, CURLOPT_READDATA, &t);
        api.curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        api.curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
        if (method != "PUT") api.curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
}

HttpReply HttpSession::perform(const HttpRequest& request) {
    CURL* c = m_impl->curl;
    libcurl().curl_easy_reset(c);  // keeps the open connections
    m_impl->error[0] = '\0';
    Transfer t{request, c, {}, 0, nullptr, false};
    HeaderList headers;
    for (const auto& h : request.headers) {
        curl_slist* grown = libcurl().curl_slist_append(headers.get(), h.c_str());
        if (!grown) throw std::bad_alloc();
        (void)headers.release();
        headers.reset(grown);
    }
    if (request.body.source) request.body.source->seek(request.body.offset);
    m_impl->set_common(t, headers.get());
    m_impl->set_method(t);
    const CURLcode rc = libcurl().curl_easy_perform(c);
    t.reply.status = status_of(c);
    if (t.failure) std::rethrow_exception(t.failure);
    if (t.too_long)
        throw S3Error(request.what + ": the reply is longer than 8 MiB", "ReplyTooLong",
                      t.reply.status, false);
    // A server may refuse an upload before it has all of it, and close: its
    // answer says more than curl's "send failure".
    if (rc != CURLE_OK && !(t.reply.status >= 400 && !t.reply.body.empty())) {
        const std::string reason =
            m_impl->error[0] ? m_impl->error : libcurl().curl_easy_strerror(rc);
        throw S3Error(request.what + ": " + reason, kNetworkError, 0, is_transient_curl_code(rc));
    }
    return std::move(t.reply);
}

}  // namespace imapkeep::s3::detail
