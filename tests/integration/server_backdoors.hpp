// Mailboxes an IMAP client cannot create, made on the test Cyrus's own storage
// the way a local tool, an older server version or a migration could have
// left them: what a backup must still take whole and keep apart.
//
// Cyrus 3.6 keys its spool by the mailbox's unique id, so a mailbox's name is
// only the key of its mailboxes.db record. Renaming that key with cyr_dbtool
// (as the cyrus user) gives a mailbox whose name is any bytes, which Cyrus
// lists as they are (a literal for 8-bit or control bytes) and opens.
//
// (Dovecot has no such door: a Maildir++ directory with a control character
// or raw 8-bit bytes is listed re-encoded as valid modified UTF-7, and then
// SELECT and APPEND answer "Mailbox doesn't exist".)
//
// Needs the test Cyrus of scripts/test-env/up.sh on this machine and root.
#pragma once

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "integration/backup_support.hpp"

namespace imapkeep::testing {

// Runs Cyrus's cyr_dbtool on the test Cyrus's mailboxes.db as the cyrus user
// with `args` (raw bytes, no shell). Returns its exit code; stdout in `out`.
inline int cyr_dbtool(const std::vector<std::string>& args, std::string* out = nullptr) {
    auto conf = env("IMAPKEEP_TEST_CYRUS_CONF");
    const passwd* cyrus = ::getpwnam("cyrus");
    if (!conf || !cyrus || ::geteuid() != 0) return -1;
    const std::string db =
        (std::filesystem::path(*conf).parent_path() / "lib" / "mailboxes.db").string();
    std::vector<std::string> argv = {"/usr/lib/cyrus/bin/cyr_dbtool", "-C", *conf, db, "twoskip"};
    argv.insert(argv.end(), args.begin(), args.end());
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return -1;
    const uid_t uid = cyrus->pw_uid;
    const gid_t gid = cyrus->pw_gid;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipe_fds[1], 1);
        ::close(pipe_fds[0]);
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The mailboxes.db key of `user`'s mailbox with these levels (Cyrus 3.6:
// "N", then the internal name with 0x1F between levels).
inline std::string cyrus_record_key(const std::string& user,
                                    const std::vector<std::string>& levels) {
    std::string key = "Nuser\x1f" + user;
    for (const auto& level : levels) key += "\x1f" + level;
    return key;
}

// Renames `user`'s mailbox `from` to `to` (levels, raw bytes) in mailboxes.db.
inline std::string cyrus_rename_record(const std::string& user,
                                       const std::vector<std::string>& from,
                                       const std::vector<std::string>& to) {
    std::string value;
    if (cyr_dbtool({"get", cyrus_record_key(user, from)}, &value) != 0 || value.empty())
        return "cyr_dbtool could not read the record (needs root and IMAPKEEP_TEST_CYRUS_CONF)";
    if (cyr_dbtool({"set", cyrus_record_key(user, to), value}) != 0) return "cyr_dbtool set failed";
    if (cyr_dbtool({"delete", cyrus_record_key(user, from)}) != 0)
        return "cyr_dbtool delete failed";
    return "";
}

}  // namespace imapkeep::testing
