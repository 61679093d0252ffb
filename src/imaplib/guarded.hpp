// IMAP4::guarded, shared by the files that implement IMAP4: runs a call into
// the client and turns what it throws into error / abort / readonly, and
// rethrows an exception stashed while the client was reading (an unexpected
// line, or one thrown by an authobject).
#pragma once

#include <imapkeep/imaplib.hpp>

#include <type_traits>

namespace imaplib {

template <class F>
auto IMAP4::guarded(F&& f) -> decltype(f()) {
    try {
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            check_stash();
        } else {
            auto result = f();
            check_stash();
            return result;
        }
    } catch (const error&) {
        throw;
    } catch (...) {
        rethrow_mapped(std::current_exception());
    }
}

}  // namespace imaplib
