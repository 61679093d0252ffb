// A token endpoint in memory for the OAuth2 tests: answers each POST from a
// queue of canned responses (the last one repeats) and records every request.
#pragma once

#include "cli/http_post.hpp"

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cli_test {

struct FakeEndpoint {
    struct Request {
        std::string url;
        imapkeep::cli::FormFields form;
        std::string field(const std::string& name) const {
            for (const auto& [k, v] : form)
                if (k == name) return v;
            return "";
        }
    };
    std::mutex mutex;
    std::deque<imapkeep::cli::HttpResponse> replies;
    std::vector<Request> requests;
    bool unreachable = false;

    void reply(long status, std::string body) { replies.push_back({status, std::move(body)}); }

    static imapkeep::cli::HttpPost poster(const std::shared_ptr<FakeEndpoint>& self) {
        return [self](const std::string& url, const imapkeep::cli::FormFields& form) {
            std::lock_guard lock(self->mutex);
            self->requests.push_back({url, form});
            if (self->unreachable) throw imapkeep::cli::HttpError(url + ": Could not resolve host");
            imapkeep::cli::HttpResponse r = self->replies.front();
            if (self->replies.size() > 1) self->replies.pop_front();
            return r;
        };
    }
};

inline std::string token_json(const std::string& access, int expires_in, const std::string& refresh = "") {
    std::string j = "{\"access_token\":\"" + access + "\",\"token_type\":\"Bearer\",\"expires_in\":" +
                    std::to_string(expires_in);
    if (!refresh.empty()) j += ",\"refresh_token\":\"" + refresh + "\"";
    return j + "}";
}

}  // namespace cli_test
