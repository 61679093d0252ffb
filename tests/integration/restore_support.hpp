// Shared pieces of the restore integration tests: reading a restored tree back,
// and tests/support/imap_proxy.py in front of Dovecot for servers that behave
// differently (flags dropped on APPEND, no UIDPLUS, ...).
#pragma once

#include "integration/backup_support.hpp"

#include <imapkeep/archive/restore.hpp>
#include <imapkeep/imap/client.hpp>
#include <imapkeep/store/flags.hpp>
#include <imapkeep/util/imap_date.hpp>
#include <imapkeep/util/sha256.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace imapkeep::testing {

// An account over one connection, for backups into and restores from a test store.
inline sync::AccountConfig one_connection_account(const std::string& name, imap::ConnectOptions connect,
                                                  std::vector<std::string> mailboxes) {
    sync::AccountConfig a;
    a.name = name;
    a.connect = std::move(connect);
    a.mailboxes = std::move(mailboxes);
    a.connections = 1;
    return a;
}

// A message as the target holds it, comparable with the catalog's view.
struct TargetMessage {
    std::string sha256;
    std::vector<std::string> flags;  // normalized, sorted
    std::int64_t date = 0;
    auto key() const { return std::tie(sha256, flags, date); }
    bool operator<(const TargetMessage& o) const { return key() < o.key(); }
    bool operator==(const TargetMessage& o) const { return key() == o.key(); }
};

inline std::vector<TargetMessage> fetch_messages(imap::Client& c, const std::string& mailbox) {
    std::vector<TargetMessage> out;
    auto sel = c.select(mailbox, true);
    if (sel.exists > 0) {
        UidSet all;
        all.add_range(Uid(1), Uid(0xFFFFFFFFu));
        c.uid_fetch(all, imap::FetchItems().uid().flags().internaldate().body_peek(), [&](imap::FetchData& fd) {
            auto d = util::parse_imap_datetime(fd.internaldate.value_or(""));
            out.push_back({util::sha256_hex(fd.body),
                           store::normalize_flags(fd.flags.value_or(std::vector<std::string>{})),
                           d ? d->epoch : -1});
        });
    }
    c.unselect();
    std::sort(out.begin(), out.end());
    return out;
}

// What the catalog says `source_mailbox` holds now, in the same form.
inline std::vector<TargetMessage> catalog_messages(store::Catalog& catalog, const std::string& account,
                                                   const std::string& source_mailbox) {
    std::vector<TargetMessage> out;
    auto id = catalog.find_account(account);
    if (!id) throw std::runtime_error("no account " + account);
    auto mb = catalog.find_mailbox(*id, source_mailbox);
    if (!mb) throw std::runtime_error("no mailbox " + source_mailbox);
    for (const auto& m : catalog.messages(mb->id)) out.push_back({m.sha256, m.flags, m.internaldate});
    std::sort(out.begin(), out.end());
    return out;
}

inline std::multiset<std::string> shas(const std::vector<TargetMessage>& messages) {
    std::multiset<std::string> out;
    for (const auto& m : messages) out.insert(m.sha256);
    return out;
}

inline void delete_tree(imap::Client& c, const std::string& root) {
    const std::string d = hierarchy_delimiter(c);
    auto entries = c.list("", root + "*");
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name > b.name; });
    for (const auto& e : entries) {
        if (e.name != root && !e.name.starts_with(root + d)) continue;
        try {
            c.delete_mailbox(e.name);
        } catch (const imap::CommandFailed&) {
        }
    }
}

inline std::uint64_t total(const archive::RestoreReport& r, std::uint64_t archive::RestoreMailboxReport::*field) {
    std::uint64_t n = 0;
    for (const auto& m : r.mailboxes) n += m.*field;
    return n;
}

inline std::string describe(const archive::RestoreReport& r) {
    std::string s = r.error;
    for (const auto& m : r.mailboxes) {
        if (!m.error.empty()) s += " | " + m.source + ": " + m.error;
        for (const auto& f : m.failures) s += " | " + m.source + " UID " + std::to_string(f.uid) + ": " + f.reason;
    }
    return s;
}

// tests/support/imap_proxy.py between the test and a server, with `rewrites`
// (its command-line options). Stopped when this goes away.
class ImapProxy {
public:
    explicit ImapProxy(const std::vector<std::string>& rewrites, ServerKind kind = ServerKind::Dovecot)
        : m_kind(kind) {
        int out[2];
        if (::pipe(out) != 0) throw std::runtime_error("pipe");
        std::vector<std::string> args = {"python3", IMAPKEEP_SOURCE_DIR "/tests/support/imap_proxy.py", "--upstream",
                                         env("IMAPKEEP_TEST_HOST").value_or("127.0.0.1") + ":" +
                                             env(server_port_variable(kind)).value_or("143")};
        args.insert(args.end(), rewrites.begin(), rewrites.end());
        m_pid = ::fork();
        if (m_pid == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execvp("python3", argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        FILE* f = ::fdopen(out[0], "r");
        char line[64] = {};
        bool ok = std::fgets(line, sizeof line, f) != nullptr && std::sscanf(line, "PORT %d", &m_port) == 1;
        std::fclose(f);
        if (!ok) {
            stop();
            throw std::runtime_error("imap_proxy.py did not start");
        }
    }
    ~ImapProxy() { stop(); }
    ImapProxy(const ImapProxy&) = delete;
    ImapProxy& operator=(const ImapProxy&) = delete;

    int port() const { return m_port; }
    imap::ConnectOptions options(int user) const {
        auto o = server_options(m_kind, user);
        o.port = m_port;
        return o;
    }

private:
    void stop() {
        if (m_pid <= 0) return;
        ::kill(m_pid, SIGTERM);
        ::waitpid(m_pid, nullptr, 0);
        m_pid = -1;
    }
    ServerKind m_kind;
    pid_t m_pid = -1;
    int m_port = 0;
};

}  // namespace imapkeep::testing
