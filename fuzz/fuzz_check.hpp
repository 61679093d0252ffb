// How a fuzz target reports a broken invariant: a message and abort(), which
// libFuzzer records as a crash with its reproducer.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace imapkeep::fuzz {

inline void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace imapkeep::fuzz
