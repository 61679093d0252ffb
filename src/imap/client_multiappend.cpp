// MULTIAPPEND (RFC 3502): append = "APPEND" SP mailbox 1*append-message
#include <imapkeep/imap/client.hpp>
#include <sstream>

namespace imapkeep::imap {

Client::Tag Client::submit_multiappend(const std::string& mailbox, std::vector<AppendMessage> messages) {
    if (messages.empty()) throw Error("MULTIAPPEND needs at least one message");
    if (messages.size() > 1 && !has_capability("MULTIAPPEND"))
        throw Error("the server does not offer MULTIAPPEND");
    std::vector<wire::Arg> args{wire::Arg::astring(encode_mailbox(mailbox))};
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
    std::vector<Uid> uids;
    try {
        uids = UidSet::parse(set).to_vector();
    } catch (const std::invalid_argument&) {
        return results;  // Quirk(various): a malformed APPENDUID costs only the UIDs
    }
    if (uids.size() != count) return results;
    for (std::size_t i = 0; i < count; ++i) {
        results[i].uidvalidity = UidValidity(static_cast<std::uint32_t>(uidvalidity));
        results[i].uid = uids[i];
    }
    return results;
}

}  // namespace imapkeep::imap
