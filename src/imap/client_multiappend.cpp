// MULTIAPPEND (RFC 3502): append = "APPEND" SP mailbox 1*append-message
#include <imapkeep/imap/client.hpp>
#include <sstream>

namespace imapkeep::imap {

Client::Tag Client::submit_multiappend(const std::string& mailbox, std::vector<AppendMessage> messages) {
    return submit_multiappend(mailbox_name(mailbox), std::move(messages));
}

Client::Tag Client::submit_multiappend(const MailboxName& mailbox, std::vector<AppendMessage> messages) {
    if (messages.empty()) throw Error("MULTIAPPEND needs at least one message");
    if (messages.size() > 1 && !has_capability("MULTIAPPEND"))
        throw Error("the server does not offer MULTIAPPEND");
    std::vector<wire::Arg> args{wire::Arg::mailbox(mailbox.wire())};
    for (auto& m : messages) add_append_message(args, std::move(m));
    return submit("APPEND", args);
}

std::vector<AppendResult> Client::finish_multiappend(const Tag& tag, std::size_t count) {
    auto c = wait(tag);
    expect_ok("APPEND", c);
    std::vector<AppendResult> results(count);
    // resp-code-apnd = "APPENDUID" SP nz-number SP append-uid, where append-uid
    // is a uid-set for a MULTIAPPEND (RFC 4315 §4), in the messages' order.
    if (!c.code || c.code->name != "APPENDUID") return results;
    std::istringstream in(c.code->raw);
    std::uint64_t uidvalidity = 0;
    std::string set;
    if (!(in >> uidvalidity >> set)) return results;
    // The set is checked against the batch before it is listed (invariant 4):
    // "1:4294967295" for three messages is wrong, not 4294967295 UIDs to hold.
    // Quirk(various): a malformed or mismatched APPENDUID costs only the UIDs;
    // the messages were appended, so failing the command would invite a
    // second, duplicate APPEND.
    UidSet uid_set;
    try {
        uid_set = UidSet::parse(set);
    } catch (const std::invalid_argument&) {
        return results;
    }
    if (uid_set.size() != count) return results;
    auto uids = uid_set.to_vector(count);
    for (std::size_t i = 0; i < count; ++i) {
        results[i].uidvalidity = UidValidity(static_cast<std::uint32_t>(uidvalidity));
        results[i].uid = uids[i];
    }
    return results;
}

}  // namespace imapkeep::imap
