// Flags and dates the target did not keep on APPEND (restore_fixup.hpp).
#include "archive/restore_fixup.hpp"

#include <imapkeep/util/imap_date.hpp>
#include <map>
#include <stdexcept>

#include "archive/restore_flags.hpp"
#include "archive/target_index.hpp"

namespace imapkeep::archive::detail {

namespace {

constexpr std::uint64_t kFlagChunk = 1000;  // UIDs per UID FETCH (FLAGS INTERNALDATE)

struct Seen {
    std::vector<std::string> flags;
    std::optional<std::int64_t> date;
};

void fail(RestoreMailboxReport& report, const store::MessageRecord& m, std::string reason) {
    report.failures.push_back({m.uidvalidity, m.uid, std::move(reason)});
}

// Without UIDPLUS: the new UIDs are found by what the messages are.
void find_missing_uids(imap::Client& client, std::vector<AppendedMessage>& appended,
                       std::optional<Uid> uidnext_before, const UidSet& known) {
    std::vector<WantedMessage> wanted;
    std::vector<AppendedMessage*> which;
    for (auto& a : appended) {
        if (a.uid) continue;
        wanted.push_back({a.message->sha256, a.message->size});
        which.push_back(&a);
    }
    if (wanted.empty()) return;
    UidSet within;
    within.add_range(uidnext_before.value_or(Uid(1)), Uid(0xFFFFFFFFu));
    auto found = find_in_target(client, wanted, within, known);
    for (std::size_t i = 0; i < which.size(); ++i) which[i]->uid = found[i];
}

std::map<std::uint32_t, Seen> fetch_flags(imap::Client& client, const UidSet& uids) {
    std::map<std::uint32_t, Seen> out;
    for (const auto& chunk : uids.chunked(kFlagChunk)) {
        client.uid_fetch(chunk, imap::FetchItems().uid().flags().internaldate(), [&](imap::FetchData& fd) {
            if (!fd.uid || !uids.contains(*fd.uid)) return;
            auto& seen = out[fd.uid->value];
            if (fd.flags) seen.flags = *fd.flags;
            if (auto d =
                    fd.internaldate ? util::parse_imap_datetime(*fd.internaldate) : std::nullopt)
                seen.date = d->epoch;
        });
    }
    return out;
}

std::string flag_list(const std::vector<std::string>& flags) {
    std::string out;
    for (const auto& f : flags) out += (out.empty() ? "" : " ") + f;
    return "(" + out + ")";
}

// The UID STORE that adds the missing flags; "" when done, else why not.
std::string store_missing(imap::Client& client, const UidSet& uids, const std::vector<std::string>& missing) {
    std::optional<imap::StoreFlags> change;
    try {
        change = imap::StoreFlags::add(missing).silent();
    } catch (const std::invalid_argument& e) {
        // Callers send only flags_for_target()'s atoms; a caller that did not
        // costs its messages, not the connection.
        return "the target lost the flags " + flag_list(missing) + ", which cannot be sent (" + e.what() + ")";
    }
    try {
        client.uid_store(uids, *change);
        return "";
    } catch (const imap::CommandFailed& e) {
        return "the target lost the flags " + flag_list(missing) + " and refused to set them: " +
               e.completion().text;
    }
}

}  // namespace

std::vector<store::Id> fix_up_appended(imap::Client& client, std::vector<AppendedMessage>& appended,
                                       std::optional<Uid> uidnext_before, const UidSet& known,
                                       RestoreMailboxReport& report) {
    std::vector<store::Id> checked;
    if (appended.empty()) return checked;
    UidSet taken = known;
    for (const auto& a : appended)
        if (a.uid) taken.add(*a.uid);
    find_missing_uids(client, appended, uidnext_before, taken);
    UidSet uids;
    for (const auto& a : appended)
        if (a.uid) uids.add(*a.uid);
    const auto seen = fetch_flags(client, uids);
    // Messages missing the same flags get one STORE.
    std::map<std::vector<std::string>, std::vector<const AppendedMessage*>> stores;
    for (const auto& a : appended) {
        auto it = a.uid ? seen.find(a.uid->value) : seen.end();
        if (it == seen.end()) {
            fail(report, *a.message, "appended, but not found on the target to check its flags");
            continue;
        }
        checked.push_back(a.message->id);
        if (it->second.date && *it->second.date != a.message->internaldate) ++report.dates_not_kept;
        auto missing = missing_flags(a.flags, it->second.flags);
        if (!missing.empty()) stores[missing].push_back(&a);
    }
    for (const auto& [missing, messages] : stores) {
        UidSet set;
        for (const auto* a : messages) set.add(*a->uid);
        auto why = store_missing(client, set, missing);
        if (why.empty()) {
            report.flags_fixed += messages.size();
            continue;
        }
        for (const auto* a : messages) fail(report, *a->message, why);
    }
    return checked;
}

}  // namespace imapkeep::archive::detail
