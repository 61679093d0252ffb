#include "archive/target_settle.hpp"

#include <thread>

namespace imapkeep::archive::detail {

namespace {

struct Counts {
    std::uint32_t messages = 0;
    std::uint32_t uidnext = 0;
    bool operator==(const Counts&) const = default;
};

Counts counts_of(imap::Client& client, const std::string& mailbox) {
    auto s = client.status(mailbox, {imap::StatusItem::Messages, imap::StatusItem::UidNext});
    return {s.messages.value_or(0), s.uidnext ? s.uidnext->value : 0};
}

}  // namespace

bool wait_until_settled(imap::Client& client, const std::string& mailbox, std::chrono::milliseconds quiet,
                        std::chrono::milliseconds max) {
    const auto deadline = std::chrono::steady_clock::now() + max;
    auto before = counts_of(client, mailbox);
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(quiet);
        auto now = counts_of(client, mailbox);
        if (now == before) return true;
        before = now;
    }
    return false;
}

}  // namespace imapkeep::archive::detail
