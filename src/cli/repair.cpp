#include "cli/repair.hpp"

#include <ctime>
#include <filesystem>
#include <imapkeep/imap/connect.hpp>
#include <imapkeep/wire/framer.hpp>
#include <map>
#include <memory>
#include <optional>

namespace imapkeep::cli {

namespace {

// A FETCH body streamed straight into a store tmp/ file.
class PendingSink : public wire::LiteralSink {
  public:
    explicit PendingSink(std::unique_ptr<store::PendingMessage> pending)
        : m_pending(std::move(pending)) {}
    ~PendingSink() override {
        if (m_pending) m_pending->discard();
    }
    void write(std::string_view chunk) override { m_pending->write(chunk); }
    void finish() override {}
    std::unique_ptr<store::PendingMessage> take() { return std::move(m_pending); }

  private:
    std::unique_ptr<store::PendingMessage> m_pending;
};

struct Damaged {
    store::VerifyProblem problem;
    store::MessageRecord message;
};

// UID FETCH uid BODY.PEEK[] into a pending file; nullptr when the server
// sent no body (the UID is gone).
std::unique_ptr<store::PendingMessage> fetch_body(imap::Client& client,
                                                  store::MessageStore& messages,
                                                  const std::string& account,
                                                  const std::string& folder, std::uint32_t uid) {
    std::unique_ptr<PendingSink> sink;
    std::unique_ptr<store::PendingMessage> body;
    client.set_body_sink_factory([&](std::string_view, std::uint64_t) -> wire::LiteralSink* {
        sink = std::make_unique<PendingSink>(messages.begin(account, folder));
        return sink.get();
    });
    try {
        UidSet one;
        one.add(Uid{uid});
        client.uid_fetch(one, imap::FetchItems().uid().body_peek(), [&](imap::FetchData& d) {
            if (!d.uid || d.uid->value != uid) return;
            if (d.body_sink && sink) {
                body = sink->take();
            } else if (d.has_body) {
                // Quirk(various): a small or empty body may come as a quoted string.
                body = messages.begin(account, folder);
                body->write(d.body);
            }
        });
    } catch (...) {
        client.set_body_sink_factory({});
        if (body) body->discard();
        throw;
    }
    client.set_body_sink_factory({});
    return body;
}

// Writes the fetched copy as a backup writes a new message, records it, and
// only then removes the damaged file.
RepairOutcome write_copy(store::PendingMessage& body, const Damaged& d,
                         const store::MailboxRecord& mailbox, const std::string& account,
                         store::Catalog& catalog, store::MessageStore& messages) {
    const auto& m = d.message;
    RepairOutcome outcome{d.problem.file, false, "", "", ""};
    body.set_internaldate(m.internaldate);
    body.finish();
    if (body.size() != m.size || body.sha256_hex() != m.sha256) {
        body.discard();
        outcome.reason =
            "the server's copy differs from the backup (" + std::to_string(body.size()) +
            " bytes, SHA-256 " + body.sha256_hex().substr(0, 12) + "...; the backup has " +
            std::to_string(m.size) + " bytes, " + m.sha256.substr(0, 12) + "...): left as it is";
        return outcome;
    }
    // The damaged bytes may sit under the very key this copy goes to (S3's
    // content-addressed objects): they are written again, not kept.
    messages.distrust(store::message_ref(m));
    messages.sync_pending();
    // A kill before the catalog update leaves the copy unreferenced: the next
    // backup's orphan sweep of this folder removes it (Catalog::files_pending).
    catalog.set_files_pending(mailbox.id, true);
    outcome.new_file =
        messages.commit(body, account, mailbox.folder, m.uid, m.internaldate, m.flags);
    messages.sync_committed();
    catalog.begin();
    try {
        catalog.update_flags(m.id, m.flags, m.modseq, outcome.new_file, std::time(nullptr));
        catalog.set_line_endings(m.id, body.line_endings());
        catalog.commit();
    } catch (...) {
        catalog.rollback();
        throw;
    }
    for (const auto& old : {d.problem.file, d.problem.actual_file}) {
        if (old.empty() || old == outcome.new_file) continue;
        std::error_code ec;
        if (std::filesystem::exists(messages.absolute(old), ec)) messages.remove(old);
    }
    outcome.repaired = true;
    return outcome;
}

RepairOutcome repair_one(imap::Client& client, const Damaged& d,
                         const store::MailboxRecord& mailbox, const std::string& account,
                         store::Catalog& catalog, store::MessageStore& messages) {
    auto body = fetch_body(client, messages, account, mailbox.folder, d.message.uid);
    if (!body)
        return {
            d.problem.file, false, "",
            "the server no longer has UID " + std::to_string(d.message.uid) + " of " + mailbox.name,
            ""};
    return write_copy(*body, d, mailbox, account, catalog, messages);
}

// Every message of one mailbox, over one EXAMINE.
void repair_mailbox(imap::Client& client, const store::MailboxRecord& mailbox,
                    const std::vector<Damaged>& damaged, const std::string& account,
                    store::Catalog& catalog, store::MessageStore& messages,
                    std::vector<RepairOutcome>& out) {
    auto fail_all = [&](const std::string& reason) {
        for (const auto& d : damaged) out.push_back({d.problem.file, false, "", reason, ""});
    };
    if (mailbox.deleted_at)
        return fail_all("the mailbox " + mailbox.name + " was deleted on the server");
    imap::SelectData selected;
    try {
        selected = client.select(mailbox.name, true);
    } catch (const imap::CommandFailed& e) {
        return fail_all("cannot examine " + mailbox.name + " on the server: " + e.what());
    }
    for (const auto& d : damaged) {
        if (d.message.expunged_at) {
            out.push_back({d.problem.file, false, "",
                           "the server no longer has UID " + std::to_string(d.message.uid) +
                               " of " + mailbox.name + " (expunged; this is the attic's copy)",
                           ""});
            continue;
        }
        if (selected.uidvalidity.value != d.message.uidvalidity) {
            out.push_back({d.problem.file, false, "",
                           "the UIDs of " + mailbox.name + " changed on the server (UIDVALIDITY " +
                               std::to_string(selected.uidvalidity.value) + ", the backup has " +
                               std::to_string(d.message.uidvalidity) + ")",
                           ""});
            continue;
        }
        out.push_back(repair_one(client, d, mailbox, account, catalog, messages));
    }
}

}  // namespace

std::vector<RepairOutcome> repair_files(const sync::AccountConfig& account, store::Id account_id,
                                        store::Catalog& catalog, store::MessageStore& messages,
                                        const std::vector<store::VerifyProblem>& problems) {
    std::vector<RepairOutcome> out;
    std::map<store::Id, store::MailboxRecord> mailboxes;
    for (auto& mb : catalog.mailboxes(account_id, true)) mailboxes.emplace(mb.id, std::move(mb));
    std::map<store::Id, std::vector<Damaged>> by_mailbox;
    for (const auto& p : problems) {
        auto message = catalog.message_by_id(p.message_id);
        if (!message || !mailboxes.count(message->mailbox_id)) {
            out.push_back({p.file, false, "", "not in the catalog any more", ""});
            continue;
        }
        by_mailbox[message->mailbox_id].push_back({p, *message});
    }
    if (by_mailbox.empty()) return out;
    auto client = imap::connect_and_login(account.connect);
    for (const auto& [id, damaged] : by_mailbox) {
        std::size_t first = out.size();
        repair_mailbox(*client, mailboxes.at(id), damaged, account.name, catalog, messages, out);
        for (std::size_t i = first; i < out.size(); ++i)
            out[i].where = "UID " + std::to_string(damaged[i - first].message.uid) + " of " +
                           mailboxes.at(id).name;
    }
    client->logout();
    return out;
}

}  // namespace imapkeep::cli
