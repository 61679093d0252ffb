// A backup run against the in-process model server, into a scratch store:
// the common ground of the sync transcript tests.
#pragma once

#include <fstream>
#include <imapkeep/store/message_reader.hpp>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

#include "support/model_server.hpp"
#include "support/scratch_store.hpp"

namespace imapkeep::testing {

struct ModelFixture {
    ModelServer server;
    TempDir dir;
    Store store{dir.path};
    sync::AccountConfig account;
    // What backup() runs with.
    sync::BackupOptions options;

    ModelFixture() {
        account.name = "acct";
        account.connect = server.connect_options();
        account.connections = 2;
        // Every connection the account allows opens, however little the work
        // (the model's mailboxes are small): these tests are about what
        // concurrent workers do. Tests of the connection count set it.
        account.connection_cost = {};
    }

    sync::AccountReport backup(std::uint64_t stop_after = 0) {
        auto run_options = options;
        run_options.stop_after_steps = stop_after;
        return store.backup(account, run_options);
    }

    std::optional<store::MailboxRecord> record(const std::string& mailbox) {
        auto id = store.catalog->find_account(account.name);
        if (!id) return std::nullopt;
        auto r = store.catalog->find_mailbox(*id, mailbox);
        if (r && r->deleted_at) return std::nullopt;
        return r;
    }

    // uid -> the message bytes the store gives back (open_read: the server's
    // bytes, whatever the file's line endings, read under the row's own key)
    // of the live catalog rows of `mailbox` (current UIDVALIDITY); "" for a
    // message that cannot be read.
    std::map<std::uint32_t, std::string> stored(const std::string& mailbox) {
        std::map<std::uint32_t, std::string> out;
        auto r = record(mailbox);
        if (!r) return out;
        for (const auto& m : store.catalog->messages(r->id)) {
            std::string bytes;
            try {
                auto source = store.messages->open_read(store::message_ref(m), store::ReadLookup::Exact);
                store::for_each_piece(*source, [&](std::string_view piece) { bytes.append(piece); });
            } catch (const store::StoreError&) {
                bytes.clear();
            }
            out[m.uid] = bytes;
        }
        return out;
    }

    // uid -> the bytes of the file itself, as a mail reader sees them.
    std::map<std::uint32_t, std::string> files(const std::string& mailbox) {
        std::map<std::uint32_t, std::string> out;
        auto r = record(mailbox);
        if (!r) return out;
        for (const auto& m : store.catalog->messages(r->id)) {
            std::ifstream in(store.messages->absolute(m.file), std::ios::binary);
            std::stringstream bytes;
            bytes << in.rdbuf();
            out[m.uid] = bytes.str();
        }
        return out;
    }

    // What the server holds, in the same shape.
    std::map<std::uint32_t, std::string> on_server(const std::string& mailbox) {
        std::map<std::uint32_t, std::string> out;
        for (const auto& [uid, m] : server.mailbox(mailbox).messages) out[uid] = m.body;
        return out;
    }
};

inline std::string message(const std::string& id, const std::string& text = "hello") {
    std::string body = "From: a@example.org\r\nSubject: " + id + "\r\n";
    if (!id.empty()) body += "Message-ID: <" + id + "@example.org>\r\n";
    return body + "\r\n" + text + "\r\n";
}

// The report of the mailbox `name`, or nullptr.
inline const sync::MailboxReport* find_report(const sync::AccountReport& r, const std::string& name) {
    for (const auto& m : r.mailboxes)
        if (m.name == name) return &m;
    return nullptr;
}

inline bool report_ok(const sync::AccountReport& report) {
    if (report.connect_failed) return false;
    for (const auto& m : report.mailboxes)
        if (m.failed()) return false;
    return true;
}

inline std::string errors_of(const sync::AccountReport& report) {
    std::string out = report.error;
    for (const auto& m : report.mailboxes)
        for (const auto& e : m.errors) out += m.name + ": " + e + "\n";
    return out;
}

}  // namespace imapkeep::testing
