// Whether the servers of scripts/test-env/up.sh are here, for tests that need
// them. Under the test command (scripts/test.sh exports
// IMAPKEEP_TEST_REQUIRE_SERVERS=1) a missing server FAILS the test: nothing
// passes by skipping. Run by hand without the servers, the test is skipped
// visibly: a "SKIPPED: ..." warning naming what is missing.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <initializer_list>
#include <string>

namespace imapkeep::testing {

inline bool servers_required() {
    const char* v = std::getenv("IMAPKEEP_TEST_REQUIRE_SERVERS");
    return v && *v && std::string(v) != "0";
}

// True when every variable is set. Otherwise FAILs (test command) or warns
// "SKIPPED" and returns false (the caller returns).
inline bool test_env_has(std::initializer_list<const char*> variables, const std::string& what) {
    std::string missing;
    for (const char* name : variables) {
        const char* v = std::getenv(name);
        if (!v || !*v) missing += (missing.empty() ? "" : ", ") + std::string(name);
    }
    if (missing.empty()) return true;
    if (servers_required()) FAIL(what << " is required under the test command but " << missing << " is unset");
    WARN("SKIPPED: needs " << what << " (" << missing << " unset; run scripts/test-env/up.sh)");
    return false;
}

inline bool have_dovecot_env() { return test_env_has({"IMAPKEEP_TEST_IMAP_PORT"}, "the test Dovecot"); }

}  // namespace imapkeep::testing
