#include "cli/exit_codes.hpp"

namespace imapkeep::cli {

int exit_code_for(const std::vector<sync::AccountReport>& reports) {
    bool never_connected = false, partial = false, budget = false;
    for (const auto& account : reports) {
        if (account.budget_reached || account.messages_left() > 0) budget = true;
        if (account.connect_failed) {
            never_connected = true;
        } else if (!account.error.empty()) {
            // Connected, then lost the account (e.g. LIST failed, connection
            // dropped): the mailboxes not reached are not backed up.
            partial = true;
        }
        for (const auto& mailbox : account.mailboxes)
            if (mailbox.failed()) partial = true;
        // The user asked for mail that was not backed up.
        if (!account.unmatched_patterns.empty()) partial = true;
    }
    if (never_connected) return kExitConnect;
    if (budget) return kExitTempFail;
    if (partial) return kExitPartial;
    return kExitOk;
}

int exit_code_for(const archive::RestoreReport& report) {
    if (report.connect_failed) return kExitConnect;
    if (report.budget_reached) return kExitTempFail;
    return report.failed() ? kExitPartial : kExitOk;
}

int worse_exit_code(int a, int b) {
    auto rank = [](int code) {
        switch (code) {
        case kExitOk: return 0;
        case kExitPartial: return 1;
        case kExitTempFail: return 2;
        case kExitConnect: return 3;
        default: return 4;
        }
    };
    return rank(a) >= rank(b) ? a : b;
}

std::string run_status_for(int exit_code) {
    switch (exit_code) {
    case kExitOk: return "ok";
    case kExitPartial: return "partial";
    default: return "failed";
    }
}

}  // namespace imapkeep::cli
