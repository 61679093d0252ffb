// The Maildir++ MessageStore (message_store.hpp). Layout and naming rules are in
// maildir_names.hpp; this file does the I/O and the durability ordering:
// data durable (fsync now, or per batch: one syncfs, else an fsync per file)
// -> rename -> directory fsync -> caller's catalog commit.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <imapkeep/store/line_endings.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "store/buffer_pool.hpp"
#include "store/dir_sync.hpp"
#include "store/maildir_names.hpp"
#include "store/parallel_each.hpp"
#include "store/read_only_fs.hpp"
#include "store/renamed_files.hpp"
#include "store/posix_fs.hpp"
#include <imapkeep/store/file_system.hpp>

namespace imapkeep::store {
namespace {

class MaildirStore;

class MaildirPending final : public PendingMessage {
  public:
    MaildirPending(MaildirStore& store, std::string tmp_dir, std::string name, int fd,
                   bool lf_line_endings)
        : m_store(store),
          m_tmp_dir(std::move(tmp_dir)),
          m_name(std::move(name)),
          m_fd(fd),
          m_lf(lf_line_endings),
          m_synced(std::make_shared<std::atomic<bool>>(false)) {
        take_buffer();
    }
    ~MaildirPending() override { discard(); }

    void write(std::string_view chunk) override;
    static constexpr std::size_t kWriteBuffer = 256 * 1024;
    std::uint64_t size() const override { return m_size; }
    LineEndings line_endings() const override {
        if (m_state == State::Writing) throw StoreError("line_endings() before finish()");
        return m_form;
    }
    std::string sha256_hex() const override {
        if (m_state == State::Writing) throw StoreError("sha256_hex() before finish()");
        return m_digest;
    }
    void set_internaldate(std::int64_t epoch) override {
        if (m_state != State::Writing) throw StoreError("set_internaldate() after finish()");
        m_internaldate = epoch;
    }
    void finish() override;
    void discard() noexcept override;

    std::string tmp_path() const { return m_tmp_dir + "/" + m_name; }
    // In finish order, for the batch sync (MaildirStore::sync_pending).
    std::uint64_t sequence() const { return m_sequence; }

  private:
    friend class MaildirStore;
    enum class State { Writing, Finished, Committed, Discarded };

    MaildirStore& m_store;
    std::string m_tmp_dir;  // absolute
    std::string m_name;     // unique base name
    void flush();
    void write_fully(std::string_view bytes);
    void give_up_lf();
    void rewrite_as_wire();
    bool gather_lf(std::string_view chunk);
    void take_buffer();
    void give_buffer() noexcept;

    int m_fd;
    // Bytes not yet written, in the file's form (LF while m_lf), about
    // kWriteBuffer at most.
    std::string m_buffer;
    util::Sha256 m_hash;     // of the wire bytes
    std::uint64_t m_size = 0;  // wire bytes
    // While true the file gets the LF form (line_endings.hpp): the store wants
    // it and every wire byte so far is pure CRLF.
    bool m_lf;
    CrlfToLf m_crlf;
    std::uint64_t m_file_size = 0;  // bytes written to the file so far
    LineEndings m_form = LineEndings::Wire;
    std::string m_digest;
    State m_state = State::Writing;
    std::optional<std::int64_t> m_internaldate;
    std::uint64_t m_sequence = 0;
    // Shared with the store's sync queue, which may fsync the file first.
    std::shared_ptr<std::atomic<bool>> m_synced;
};

class MaildirStore final : public MessageStore {
  public:
    MaildirStore(std::string root, const MaildirOptions& options)
        : m_root(std::move(root)),
          m_options(options),
          m_fs(options.file_system ? options.file_system : posix_file_system()) {
        while (m_root.size() > 1 && m_root.back() == '/') m_root.pop_back();
        if (m_root.empty()) throw StoreError("store root is empty");
        if (options.read_only) {
            m_fs = read_only_file_system(m_fs);  // a dry run: nothing to sync, nothing made
            return;
        }
        make_dirs(*m_fs, m_root);
        // Open before the first write: syncfs reports the write-back errors
        // that happened since its descriptor was opened.
        if (m_options.defer_fsync && m_fs->can_sync_file_system()) m_root_fd = m_fs->open_dir(m_root);
    }

    ~MaildirStore() override {
        // Files never synced were never committed either: just release them.
        for (auto& q : m_queue)
            if (q.fd >= 0) close_quietly(q.fd, q.path);
        if (m_root_fd >= 0) close_quietly(m_root_fd, m_root);
    }

    std::string folder_for(const std::string& mailbox, const std::string& delimiter) override {
        return folder_for_mailbox(mailbox, delimiter);
    }

    std::unique_ptr<PendingMessage> begin(const std::string& account,
                                          const std::string& folder) override {
        const std::string dir = ensure_maildir("mail", account, folder);
        const std::string tmp_dir = m_root + "/" + dir + "/tmp";
        auto [name, fd] = create_tmp(tmp_dir);
        return std::make_unique<MaildirPending>(*this, tmp_dir, std::move(name), fd,
                                                m_options.lf_line_endings);
    }

    // A new file in `tmp_dir` under a unique name, known to clean_tmp() as live.
    std::pair<std::string, int> create_tmp(const std::string& tmp_dir) {
        // O_EXCL: a name clash (clock stepped back, pid reused) retries, never overwrites.
        for (int attempt = 0; attempt < 100; ++attempt) {
            std::string name = unique_name(std::time(nullptr));
            const std::string path = tmp_dir + "/" + name;
            const int fd = m_fs->create_exclusive(path);
            if (fd < 0) continue;
            std::lock_guard lock(m_mutex);
            m_live_tmp.insert(path);
            return {std::move(name), fd};
        }
        throw StoreError("cannot find a unique file name in " + tmp_dir);
    }

    void sync_committed() override {
        m_dir_sync.sync([&](const std::string& dir) {
            // A folder removed or renamed since needs nothing: remove_folder and
            // rename_folder fsync the parent that recorded it.
            if (m_fs->is_dir(dir)) m_fs->fsync_dir(dir);
        });
    }

    void sync_pending() override {
        if (batch_sync()) {
            sync_batch();
            return;
        }
        std::vector<Queued> queue;
        {
            std::lock_guard lock(m_mutex);
            queue.swap(m_queue);
        }
        std::set<std::string> dirs;
        try {
            for (auto& q : queue) {
                // A file gone since (discarded, or committed, which fsyncs) needs nothing.
                sync_queued(q);
                dirs.insert(q.dir);
            }
            for (const auto& dir : dirs) m_fs->fsync_dir(dir);
        } catch (...) {
            // commit() fsyncs any file left unsynced, so nothing is lost; keep
            // the rest queued for the next attempt anyway.
            std::lock_guard lock(m_mutex);
            for (auto& q : queue)
                if (!q.synced->load()) m_queue.push_back(std::move(q));
            throw;
        }
    }

    std::string commit(PendingMessage& message, const std::string& account,
                       const std::string& folder, std::uint32_t uid, std::int64_t internaldate,
                       const std::vector<std::string>& flags) override {
        auto* pending = dynamic_cast<MaildirPending*>(&message);
        if (!pending || &pending->m_store != this)
            throw StoreError("commit(): message was not begun by this store");
        if (pending->m_state != MaildirPending::State::Finished)
            throw StoreError("commit(): message is not finished (or already committed)");
        const std::string dir = ensure_maildir("mail", account, folder);
        const std::string from = pending->tmp_path();

        // mtime is INTERNALDATE for Dovecot, mutt and notmuch (RFC 3501 §2.3.3).
        // It must be as durable as the bytes: set before the data fsync.
        bool durable = pending->m_synced->load() ||
                       (batch_sync() && pending->sequence() < m_durable.load());
        if (pending->m_internaldate != internaldate) {
            m_fs->set_mtime(from, internaldate);
            durable = false;
        }
        if (!durable) {
            if (!m_fs->fsync_file(from)) throw StoreError("commit(): tmp file vanished: " + from);
            pending->m_synced->store(true);
        }

        const std::string name =
            with_info(pending->m_name + ",U=" + std::to_string(uid), maildir_flag_suffix(flags));
        const std::string relative = dir + "/cur/" + name;
        if (!m_fs->rename(from, m_root + "/" + relative))
            throw StoreError("commit(): tmp file vanished: " + from);
        pending->m_state = MaildirPending::State::Committed;
        forget_tmp(from);
        if (m_options.defer_fsync) {
            m_dir_sync.mark(m_root + "/" + dir + "/cur");
        } else {
            m_fs->fsync_dir(m_root + "/" + dir + "/cur");
        }
        return relative;
    }

    std::string set_flags(const std::string& file, const std::vector<std::string>& flags) override {
        StorePath p = parse_store_path(file);
        StorePath to = p;
        to.name = with_info(p.name, maildir_flag_suffix(flags));
        move(p, to);
        return to.relative();
    }

    std::string move_to_attic(const std::string& file) override {
        StorePath p = parse_store_path(file);
        StorePath to = p;
        // Already in the attic: a killed run moved it; record it and go on.
        p.tree = "mail";
        to.tree = "attic";
        ensure_maildir(to.tree, to.account, to.folder);
        move(p, to);
        return to.relative();
    }

    std::string move_to_folder(const std::string& file, const std::string& account,
                               const std::string& folder) override {
        StorePath p = parse_store_path(file);
        StorePath to = p;
        to.account = account;
        to.folder = folder;
        ensure_maildir(to.tree, to.account, to.folder);
        move(p, to);
        return to.relative();
    }

    std::string link_into_folder(const std::string& file, const std::string& account,
                                 const std::string& folder) override {
        const StorePath from = parse_store_path(file);
        StorePath to = from;
        to.account = account;
        to.folder = folder;
        if (from.tree != "mail") throw StoreError("only a live file can be linked: " + file);
        ensure_maildir(to.tree, to.account, to.folder);
        return link_durably(from, to);  // a name there already: an earlier run's link
    }

    std::string link_as_new(const std::string& file, const std::string& account, const std::string& folder,
                            std::uint32_t uid, const std::vector<std::string>& flags) override {
        const StorePath from = parse_store_path(file);
        StorePath to = from;
        to.tree = "mail";  // an attic file taken back lands in the live tree
        to.account = account;
        to.folder = folder;
        to.sub = "cur";
        to.name = with_info(unique_name(std::time(nullptr)) + ",U=" + std::to_string(uid), maildir_flag_suffix(flags));
        check_account(to.account);
        check_folder(to.folder);
        ensure_maildir(to.tree, to.account, to.folder);
        return link_durably(from, to);
    }

    std::string link_under_new_name(const std::string& file) override {
        const StorePath from = parse_store_path(file);
        StorePath to = from;
        to.name = unique_name(std::time(nullptr)) + from.name.substr(unique_part(from.name).size());
        return link_durably(from, to);
    }

    void remove(const std::string& file) override {
        const StorePath p = find_in_place(parse_store_path(file));
        m_fs->unlink(m_root + "/" + p.relative());
        // Also when it was already gone: the run that unlinked it may have died
        // before this fsync.
        const std::string dir = m_root + "/" + p.dir();
        if (m_fs->is_dir(dir)) m_fs->fsync_dir(dir);
    }

    // `p`, or when it is missing a file of its folder and tree with its unique
    // name (other flags or U=, the other of cur/ and new/), else `p`. Never the
    // other tree or folder: a removal replayed after the file went must not
    // reach an attic copy, or a live file, that a row of its own names.
    StorePath find_in_place(StorePath p) {
        if (m_fs->exists(m_root + "/" + p.relative())) return p;
        const std::string base(unique_part(p.name));
        for (const char* sub : {"cur", "new"}) {
            StorePath candidate = p;
            candidate.sub = sub;
            for (const auto& name : m_fs->list_dir(m_root + "/" + candidate.dir())) {
                if (unique_part(name) != base) continue;
                candidate.name = name;
                return candidate;
            }
        }
        return p;
    }

    std::string locate(const std::string& file) override {
        const StorePath p = parse_store_path(file);
        if (m_fs->exists(m_root + "/" + p.relative())) return file;
        // After a crash: same unique name, any flags or U=, cur/ or new/, in
        // its own tree first; a live file may also have gone to the attic (a
        // killed move_to_attic), an attic file never comes back to the live
        // tree under its name (link_as_new gives a new one).
        const std::string base(unique_part(p.name));
        const std::vector<const char*> trees = p.tree == "mail"
                                                   ? std::vector<const char*>{"mail", "attic"}
                                                   : std::vector<const char*>{"attic"};
        for (const char* tree : trees) {
            for (const char* sub : {"cur", "new"}) {
                StorePath candidate = p;
                candidate.tree = tree;
                candidate.sub = sub;
                for (const auto& name : m_fs->list_dir(m_root + "/" + candidate.dir())) {
                    if (unique_part(name) != base) continue;
                    candidate.name = name;
                    return candidate.relative();
                }
            }
        }
        return file;
    }

    std::string path_in_folder(const std::string& file, const std::string& account,
                               const std::string& folder) const override {
        StorePath p = parse_store_path(file);
        check_account(account);
        check_folder(folder);
        p.account = account;
        p.folder = folder;
        return p.relative();
    }

    void rename_folder(const std::string& account, const std::string& from,
                       const std::string& to) override {
        check_account(account);
        check_folder(from);
        check_folder(to);
        if (to.empty()) throw StoreError("rename_folder(): cannot rename a folder to INBOX");
        if (from == to) return;
        const std::string account_dir = m_root + "/mail/" + account;
        const std::string source = from.empty() ? account_dir : account_dir + "/" + from;
        const std::string target = account_dir + "/" + to;
        if (!from.empty() && !m_fs->is_dir(source)) {
            // Done by an earlier run, which may have died before the fsync.
            if (m_fs->is_dir(target)) m_fs->fsync_dir(account_dir);
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_known_dirs.erase("mail/" + account + "/" + from);
            m_known_dirs.erase("mail/" + account + "/" + to);
        }
        if (!from.empty() && !m_fs->exists(target)) {
            if (!m_fs->rename(source, target)) return;
            m_fs->fsync_dir(account_dir);
            return;
        }
        // INBOX (the account root cannot move) or a target that exists: merge.
        ensure_maildir("mail", account, to);
        for (const char* sub : {"cur", "new"}) {
            for (const auto& name : m_fs->list_dir(source + "/" + sub))
                m_fs->rename(source + "/" + sub + "/" + name, target + "/" + sub + "/" + name);
            // Even with nothing left to move: an earlier run may have moved it all.
            m_fs->fsync_dir(target + "/" + sub);
            if (m_fs->is_dir(source + "/" + sub)) m_fs->fsync_dir(source + "/" + sub);
        }
        if (!from.empty()) remove_folder(account, from);
    }

    bool remove_folder(const std::string& account, const std::string& folder) override {
        check_account(account);
        check_folder(folder);
        if (folder.empty()) return false;
        const std::string base = m_root + "/mail/" + account + "/" + folder;
        if (!m_fs->is_dir(base)) return true;
        if (!m_fs->list_dir(base + "/cur").empty() || !m_fs->list_dir(base + "/new").empty())
            return false;
        for (const auto& name : m_fs->list_dir(base + "/tmp")) m_fs->unlink(base + "/tmp/" + name);
        for (const auto& entry : m_fs->list_dir(base)) {
            const std::string path = base + "/" + entry;
            if (m_fs->is_dir(path)) {
                m_fs->remove_dir(path);
            } else {
                // maildirfolder, and index files a mail reader may have left.
                m_fs->unlink(path);
            }
        }
        m_fs->remove_dir(base);
        {
            std::lock_guard lock(m_mutex);
            m_known_dirs.erase("mail/" + account + "/" + folder);
        }
        m_fs->fsync_dir(m_root + "/mail/" + account);
        return true;
    }

    std::size_t remove_unknown_files(const std::string& account, const std::string& folder,
                                     const std::vector<std::string>& known) override {
        check_account(account);
        check_folder(folder);
        std::set<std::string> keep;
        for (const auto& file : known) keep.emplace(unique_part(parse_store_path(file).name));
        std::size_t removed = 0;
        const std::string dir = "mail/" + account + (folder.empty() ? "" : "/" + folder);
        for (const char* sub : {"/cur", "/new", "/tmp"}) {
            const std::string path = m_root + "/" + dir + sub;
            for (const auto& name : m_fs->list_dir(path)) {
                // The name decides first: a stat only for the few not in the catalog.
                if (keep.count(std::string(unique_part(name))) || m_fs->is_dir(path + "/" + name))
                    continue;
                if (m_fs->unlink(path + "/" + name)) ++removed;
            }
            if (removed) m_fs->fsync_dir(path);
        }
        return removed;
    }

    void create_folder(const std::string& account, const std::string& folder) override {
        ensure_maildir("mail", account, folder);
    }

    std::vector<std::pair<std::string, std::string>> renamed_files(
        const std::string& account, const std::string& folder,
        const std::vector<std::string>& known) override {
        check_account(account);
        check_folder(folder);
        FolderListing listing;
        listing.folder_dir = "mail/" + account + (folder.empty() ? "" : "/" + folder);
        listing.cur = m_fs->list_dir(m_root + "/" + listing.folder_dir + "/cur");
        listing.new_ = m_fs->list_dir(m_root + "/" + listing.folder_dir + "/new");
        return match_renamed(listing, known);
    }

    FolderFiles folder_files(const std::string& account, const std::string& folder) override {
        check_account(account);
        check_folder(folder);
        const std::string folder_dir = "mail/" + account + (folder.empty() ? "" : "/" + folder);
        FolderFiles files;
        std::string relative;
        for (const char* sub : {"/cur/", "/new/"}) {
            const std::string prefix = folder_dir + sub;
            m_fs->scan_dir(m_root + "/" + prefix.substr(0, prefix.size() - 1),
                           [&](std::string_view name) {
                               relative.assign(prefix).append(name);
                               files.add(relative);
                           });
        }
        files.seal();
        return files;
    }

    std::string set_uid(const std::string& file, std::uint32_t uid) override {
        StorePath p = parse_store_path(file);
        StorePath to = p;
        to.name = with_uid(p.name, uid);
        move(p, to);
        return to.relative();
    }

    std::string absolute(const std::string& file) const override {
        return m_root + "/" + parse_store_path(file).relative();
    }
    void distrust(const MessageRef&) override {}
    // A path this store refuses is no link to anything here.
    LinkState link_state(const std::string& link, const std::string& file) const override {
        std::string link_path;
        try {
            link_path = absolute(link);
        } catch (const StoreError&) {
            return LinkState::Other;
        }
        std::error_code ec;
        if (!std::filesystem::exists(link_path, ec)) return LinkState::Missing;
        return std::filesystem::equivalent(link_path, absolute(file), ec) ? LinkState::Copy
                                                                         : LinkState::Other;
    }

    using MessageStore::open_read;
    // Opens first and looks around only when that fails: the common case
    // costs one open(2), not a stat() and an open().
    std::unique_ptr<MessageSource> open_read(const MessageRef& message, ReadLookup lookup) override {
        const std::string file(message.file);
        try {
            return open_file_source(absolute(file), message.line_endings, file);
        } catch (const MessageMissing&) {
            if (lookup == ReadLookup::Exact) throw;
        }
        const std::string found = locate(file);
        if (found == file) throw MessageMissing("no message file " + absolute(file));
        return open_file_source(absolute(found), message.line_endings, found);
    }

    std::size_t clean_tmp(const std::string& account) override {
        check_account(account);
        std::size_t removed = 0;
        for (const char* tree : {"mail", "attic"}) {
            const std::string account_dir = m_root + "/" + tree + "/" + account;
            std::vector<std::string> tmp_dirs = {account_dir + "/tmp"};
            for (const auto& entry : m_fs->list_dir(account_dir))
                if (entry.front() == '.' && m_fs->is_dir(account_dir + "/" + entry))
                    tmp_dirs.push_back(account_dir + "/" + entry + "/tmp");
            for (const auto& dir : tmp_dirs) removed += clean_tmp_dir(dir);
        }
        return removed;
    }

    std::size_t clean_folder_tmp(const std::string& account, const std::string& folder) override {
        return clean_tmp_dir(folder_path(account, folder) + "/tmp");
    }

    std::string folder_stamp(const std::string& account, const std::string& folder) override {
        const auto stamp = raw_stamp(account, folder);
        const auto settle = std::chrono::nanoseconds(m_options.stamp_settle).count();
        return stamp && stamp->latest_ns < now_ns() - settle ? stamp->text : "";
    }

    std::string folder_stamp_after_writes(const std::string& account, const std::string& folder) override {
        const auto first = raw_stamp(account, folder);
        if (!first || first->whole_seconds) return "";
        if (!coarse_clock_passed(first->latest_ns)) return "";
        const auto second = raw_stamp(account, folder);
        return second && second->text == first->text ? first->text : "";
    }

    bool folder_unchanged(const std::string& account, const std::string& folder,
                          const std::string& stamp) override {
        if (stamp.empty()) return false;
        const auto now = raw_stamp(account, folder);
        return now && now->text == stamp;
    }

    const std::string& root() const override { return m_root; }

    // Called by MaildirPending.
    bool defer_fsync() const { return m_options.defer_fsync; }
    BufferPool& buffers() { return m_buffers; }
    // Deferred durability per batch (instead of an fsync per file as each
    // file is finished): one syncfs, or for a few files an fsync each, all
    // at once (sync_batch).
    bool batch_sync() const { return m_root_fd >= 0; }
    // A finished file of a batch: its descriptor is kept for sync_batch's
    // fsync while there is room, else closed (close() reports deferred write
    // errors on some file systems, NFS), and the batch then takes a syncfs.
    void hold_for_batch(const std::string& path, const std::string& dir,
                        std::shared_ptr<std::atomic<bool>> synced, int fd) {
        {
            std::lock_guard lock(m_mutex);
            if (m_queued_fds < kMaxQueuedFds) {
                m_queue.push_back({path, dir, std::move(synced), fd});
                ++m_queued_fds;
                return;
            }
            m_batch_overflow = true;
        }
        m_fs->close(fd, path);
    }
    // Numbers a message whose bytes and time are all written.
    std::uint64_t finished_one() { return m_finished.fetch_add(1); }
    FileSystem& fs() { return *m_fs; }
    void close_quietly(int fd, const std::string& path) noexcept {
        try {
            m_fs->close(fd, path);
        } catch (const StoreError&) {
            // Only for files that will never be committed.
        }
    }
    // Takes ownership of `fd`. At most kMaxQueuedFds stay open: past that the
    // oldest is synced and closed at once, so a large batch cannot exhaust the
    // descriptor limit.
    void queue_sync(const std::string& path, const std::string& dir,
                    std::shared_ptr<std::atomic<bool>> synced, int fd) {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({path, dir, std::move(synced), fd});
        if (++m_queued_fds <= kMaxQueuedFds) return;
        for (auto& q : m_queue) {
            if (q.fd < 0) continue;
            sync_queued(q);
            break;
        }
    }
    // Removes the files of one tmp/ directory that no PendingMessage of this
    // store is writing.
    std::size_t clean_tmp_dir(const std::string& dir) {
        std::size_t removed = 0;
        for (const auto& name : m_fs->list_dir(dir)) {
            const std::string path = dir + "/" + name;
            {
                std::lock_guard lock(m_mutex);
                if (m_live_tmp.count(path)) continue;
            }
            if (!m_fs->is_dir(path) && m_fs->unlink(path)) ++removed;
        }
        return removed;
    }

    // TREE "mail": the absolute Maildir of a live folder.
    std::string folder_path(const std::string& account, const std::string& folder) {
        check_account(account);
        check_folder(folder);
        return m_root + "/mail/" + account + (folder.empty() ? "" : "/" + folder);
    }

    void forget_tmp(const std::string& path) {
        std::lock_guard lock(m_mutex);
        m_live_tmp.erase(path);
    }

  private:
    struct Queued {
        std::string path;
        std::string dir;
        std::shared_ptr<std::atomic<bool>> synced;
        int fd = -1;  // open until synced
    };
    static constexpr int kMaxQueuedFds = 64;
    static constexpr std::size_t kSyncThreads = 16;

    // Makes every file finished so far durable. A few files (all of them
    // still open) get an fsync each, run together: syncfs would also wait
    // for whatever else the file system holds unwritten (other programs'
    // files, the mail server's own when it runs here), which made the 34 new
    // messages of a 1% changed run wait 44 ms. More than that: one syncfs.
    void sync_batch() {
        std::vector<Queued> queue;
        bool overflow = false;
        {
            std::lock_guard lock(m_mutex);
            queue.swap(m_queue);
            m_queued_fds -= static_cast<int>(queue.size());
            overflow = std::exchange(m_batch_overflow, false);
        }
        try {
            if (overflow) {
                sync_file_system();
                for (auto& q : queue) q.synced->store(true);
            } else {
                fsync_together(queue);
            }
        } catch (...) {
            // commit() fsyncs any file left unsynced, so nothing is lost.
            for (auto& q : queue)
                if (q.fd >= 0) close_quietly(std::exchange(q.fd, -1), q.path);
            if (overflow) {
                std::lock_guard lock(m_mutex);
                m_batch_overflow = true;
            }
            throw;
        }
        for (auto& q : queue) m_fs->close(std::exchange(q.fd, -1), q.path);
    }

    void fsync_together(std::vector<Queued>& queue) {
        parallel_each(queue.size(), kSyncThreads, [&](std::size_t i) {
            if (!queue[i].synced->load()) m_fs->fsync(queue[i].fd, queue[i].path);
            queue[i].synced->store(true);
        });
        std::set<std::string> dirs;
        for (const auto& q : queue) dirs.insert(q.dir);
        for (const auto& dir : dirs) m_fs->fsync_dir(dir);
    }

    // One syncfs makes every message finished before it durable. Messages
    // numbered below `upto` were finished before the call, whichever thread
    // wrote them; a pass of another thread still in flight is not waited for:
    // this one covers the same files.
    void sync_file_system() {
        const std::uint64_t upto = m_finished.load();
        if (upto <= m_durable.load()) return;
        m_fs->sync_file_system(m_root_fd, m_root);
        std::uint64_t durable = m_durable.load();
        while (durable < upto && !m_durable.compare_exchange_weak(durable, upto)) {
        }
    }

    // fsync + close one queued file (m_mutex held, or the entry owned alone).
    void sync_queued(Queued& q) {
        if (q.fd >= 0) {
            const int fd = q.fd;
            q.fd = -1;
            --m_queued_fds;
            try {
                if (!q.synced->load()) m_fs->fsync(fd, q.path);
            } catch (...) {
                close_quietly(fd, q.path);
                throw;
            }
            m_fs->close(fd, q.path);
            q.synced->store(true);
        } else if (!q.synced->load() && m_fs->fsync_file(q.path)) {
            q.synced->store(true);
        }
    }

    // Creates TREE/ACCOUNT/{cur,new,tmp} and, for a sub-folder, FOLDER/{cur,new,tmp}
    // plus the "maildirfolder" marker Maildir++ readers expect. The directory
    // entries are fsynced in their parent so a later file rename inside them
    // cannot outlive the directory itself. Returns TREE/ACCOUNT[/FOLDER].
    struct RawStamp {
        std::string text;
        std::int64_t latest_ns = 0;
        bool whole_seconds = true;  // every time a whole second: a coarse file system
    };
    // One stat of each of cur/, new/ and tmp/; nullopt when one is missing.
    std::optional<RawStamp> raw_stamp(const std::string& account, const std::string& folder) {
        const std::string base = folder_path(account, folder);
        RawStamp stamp;
        stamp.text = "1";  // the format's version
        for (const char* sub : {"/cur", "/new", "/tmp"}) {
            const auto v = m_fs->dir_version(base + sub);
            if (!v) return std::nullopt;
            stamp.text += " " + std::to_string(v->device) + ":" + std::to_string(v->inode) + ":" +
                          std::to_string(v->changed_ns);
            stamp.latest_ns = std::max(stamp.latest_ns, v->changed_ns);
            if (v->changed_ns % 1'000'000'000 != 0) stamp.whole_seconds = false;
        }
        return stamp;
    }
    // Linux stamps a directory change with the coarse clock
    // (CLOCK_REALTIME_COARSE, which moves once a tick: 1-10 ms), truncated to
    // the file system's granularity. Once that clock is past `latest` by more
    // than any sub-second granularity, a later change can only carry a later
    // time, so a stamp taken now vouches for the folder. Waits for that, at
    // most one tick in practice (it waited a fixed 10 ms before: issue 10);
    // false if the clock does not get there (stepped back).
    static bool coarse_clock_passed(std::int64_t latest_ns) {
        constexpr std::int64_t kGranularityNs = 1'000'000;
        constexpr int kMaxPolls = 200;  // 100 ms
        for (int poll = 0; poll < kMaxPolls; ++poll) {
            timespec now{};
            ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
            if (now.tv_sec * 1'000'000'000LL + now.tv_nsec > latest_ns + kGranularityNs) return true;
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        return false;
    }

    // A hard link, durable at the next sync_committed() (or at once, without
    // deferred fsyncs). Returns the link's relative path.
    std::string link_durably(const StorePath& from, const StorePath& to) {
        m_fs->link(m_root + "/" + from.relative(), m_root + "/" + to.relative());
        if (m_options.defer_fsync)
            m_dir_sync.mark(m_root + "/" + to.dir());
        else
            m_fs->fsync_dir(m_root + "/" + to.dir());
        return to.relative();
    }

    static std::int64_t now_ns() {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    std::string ensure_maildir(const std::string& tree, const std::string& account,
                               const std::string& folder) {
        check_account(account);
        check_folder(folder);
        const std::string account_rel = tree + "/" + account;
        const std::string rel = folder.empty() ? account_rel : account_rel + "/" + folder;
        if (known_dir(rel)) return rel;
        if (!known_dir(account_rel)) {
            // Workers that reach a new tree together: one makes it durable.
            std::lock_guard lock(m_tree_mutex);
            if (!known_dir(account_rel)) {
                make_account_tree(tree, account);
                remember_dir(account_rel);
            }
        }
        if (!folder.empty()) make_maildir(rel, m_root + "/" + account_rel, true);
        remember_dir(rel);
        return rel;
    }

    bool known_dir(const std::string& rel) {
        std::lock_guard lock(m_mutex);
        return m_known_dirs.count(rel) > 0;
    }
    void remember_dir(const std::string& rel) {
        std::lock_guard lock(m_mutex);
        m_known_dirs.insert(rel);
    }

    // An account's tree holds INBOX at its root, where a maildirfolder marker
    // would make Maildir++ readers take it for a sub-folder; its marker lives
    // in the store's private STORE/.durable/ instead, written once the tree
    // and its entries in the parents are durable. A lost marker costs only
    // the fsyncs again.
    void make_account_tree(const std::string& tree, const std::string& account) {
        const std::string account_rel = tree + "/" + account;
        const std::string marker = m_root + "/.durable/" + tree + "." + account;
        const std::string dir = m_root + "/" + account_rel;
        if (m_fs->exists(marker) && m_fs->is_dir(dir + "/cur") && m_fs->is_dir(dir + "/new") &&
            m_fs->is_dir(dir + "/tmp"))
            return;
        m_fs->make_dir(m_root + "/" + tree);
        m_fs->fsync_dir(m_root);
        make_maildir(account_rel, m_root + "/" + tree, false);
        m_fs->make_dir(m_root + "/.durable");
        m_fs->touch(marker);
    }

    // Always fsyncs, also when everything was there: a killed run may have
    // created the directories and died before making them durable. Costs two
    // fsyncs of clean directories once per folder and store object.
    // A folder's maildirfolder marker is written only once the folder is
    // durable (its directories fsynced, and its entry in the parent): a
    // marker there proves an earlier run finished this, so opening the folder
    // again costs four stats, not four mkdirs and two device flushes per run.
    // A run killed before the marker leaves it missing: done again here.
    void make_maildir(const std::string& rel, const std::string& parent, bool marker) {
        const std::string dir = m_root + "/" + rel;
        if (marker && m_fs->exists(dir + "/maildirfolder") && m_fs->is_dir(dir + "/cur") &&
            m_fs->is_dir(dir + "/new") && m_fs->is_dir(dir + "/tmp"))
            return;
        m_fs->make_dir(dir);
        for (const char* sub : {"cur", "new", "tmp"}) m_fs->make_dir(dir + "/" + sub);
        m_fs->fsync_dir(dir);
        m_fs->fsync_dir(parent);
        if (marker) m_fs->touch(dir + "/maildirfolder");
    }

    // Renames a store file. When the source is gone but the target exists, an
    // earlier run did the rename before crashing: that counts as done, and the
    // directories are fsynced all the same (that run may have died before).
    void move(const StorePath& from, const StorePath& to) {
        const std::string source = m_root + "/" + from.relative();
        const std::string target = m_root + "/" + to.relative();
        // Same name (nothing to change, or replayed on its own result): only
        // the fsync is left to do. A missing file is the caller's to report.
        if (source != target && !m_fs->rename(source, target) && !m_fs->exists(target))
            throw StoreError("no such message file: " + from.relative());
        if (m_options.defer_fsync) {
            m_dir_sync.mark(m_root + "/" + to.dir());
            if (from.dir() != to.dir()) m_dir_sync.mark(m_root + "/" + from.dir());
            return;
        }
        m_fs->fsync_dir(m_root + "/" + to.dir());
        if (from.dir() != to.dir()) m_fs->fsync_dir(m_root + "/" + from.dir());
    }

    std::string m_root;
    MaildirOptions m_options;
    std::shared_ptr<FileSystem> m_fs;
    std::mutex m_mutex;  // guards the three members below
    std::set<std::string> m_known_dirs;
    std::mutex m_tree_mutex;  // held while an account's tree is made (make_account_tree)
    std::set<std::string> m_live_tmp;
    std::vector<Queued> m_queue;
    DirSync m_dir_sync;  // dirs with renames not yet fsynced
    std::atomic<int> m_queued_fds{0};       // descriptors held by queued entries
    bool m_batch_overflow = false;          // a finished file not in m_queue (guarded by m_mutex)
    int m_root_fd = -1;                      // for syncfs; -1: an fsync per file
    std::atomic<std::uint64_t> m_finished{0};  // messages finished so far
    std::atomic<std::uint64_t> m_durable{0};   // the first that many are durable
    BufferPool m_buffers;  // MaildirPending's write buffers, kept between messages
};

void MaildirPending::write(std::string_view chunk) {
    if (m_state != State::Writing) throw StoreError("write() after finish()");
    m_hash.update(chunk);
    m_size += chunk.size();
    // Chunks arrive as the network delivers them (often a few KiB): gather them
    // so a message costs a handful of write()s, with memory still bounded.
    if (m_buffer.size() + chunk.size() > kWriteBuffer) flush();
    if (m_lf && gather_lf(chunk)) return;
    if (chunk.size() >= kWriteBuffer) {
        flush();
        write_fully(chunk);  // nothing gathered: no copy needed
        return;
    }
    // The buffer comes from the store's pool, with the capacity an earlier
    // message gave it (take_buffer).
    m_buffer.append(chunk);
    if (m_buffer.size() >= kWriteBuffer) flush();
}

// The LF form of `chunk` goes into the buffer in the same pass that checks it
// (CrlfToLf::append_lf): no copy of the wire bytes, no second scan at flush.
// False when `chunk` shows a bare CR or LF: the buffer then holds wire bytes
// again, up to `chunk`, which is the caller's to gather.
bool MaildirPending::gather_lf(std::string_view chunk) {
    const std::size_t before = m_buffer.size();
    const bool held_cr = m_crlf.held_cr();
    if (m_crlf.append_lf(chunk, m_buffer)) {
        if (m_buffer.size() >= kWriteBuffer) flush();
        return true;
    }
    m_buffer.resize(before);
    give_up_lf();
    if (held_cr) m_buffer.push_back('\r');  // the CR the LF form held back
    return false;
}

void MaildirPending::flush() {
    if (m_buffer.empty()) return;
    write_fully(m_buffer);
    m_buffer.clear();
}

void MaildirPending::write_fully(std::string_view bytes) {
    if (bytes.empty()) return;
    m_store.fs().write(m_fd, bytes, tmp_path());
    m_file_size += bytes.size();
}

// A bare CR or LF: the message is stored byte for byte. What was written and
// what is gathered are the LF form of a pure-CRLF prefix; both go back to its
// wire bytes (a CR held back by CrlfToLf is the caller's to add).
void MaildirPending::give_up_lf() {
    m_lf = false;
    if (!m_buffer.empty()) {
        std::string wire = m_store.buffers().take();
        lf_to_crlf(m_buffer, wire);
        m_buffer.swap(wire);
        m_store.buffers().give(wire);
    }
    if (m_file_size > 0) rewrite_as_wire();
}

// The file holds the LF form of a pure-CRLF prefix: its wire bytes go into a
// fresh tmp file that takes its place. Rare (a bare CR or LF after the first
// kWriteBuffer bytes), and read back through the one reader of stored files.
void MaildirPending::rewrite_as_wire() {
    const std::string old_path = tmp_path();
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    auto created = m_store.create_tmp(m_tmp_dir);
    std::string name = std::move(created.first);
    const int fd = created.second;
    const std::string new_path = m_tmp_dir + "/" + name;
    std::uint64_t written = 0;
    auto drop_new = [&] {
        m_store.close_quietly(fd, new_path);
        m_store.fs().unlink(new_path);
        m_store.forget_tmp(new_path);
    };
    try {
        read_original(old_path, LineEndings::Lf, [&](std::string_view wire) {
            m_store.fs().write(fd, wire, new_path);
            written += wire.size();
        });
    } catch (const StoreError& e) {
        drop_new();
        throw StoreError(std::string("cannot rewrite a message byte for byte: ") + e.what());
    } catch (...) {
        drop_new();
        throw;
    }
    m_store.close_quietly(m_fd, old_path);
    m_name = std::move(name);
    m_fd = fd;
    m_file_size = written;
    m_store.forget_tmp(old_path);
    try {
        m_store.fs().unlink(old_path);
    } catch (const StoreError&) {
        // No longer this message's file: clean_tmp() removes it on the next run.
    }
}

void MaildirPending::finish() {
    if (m_state != State::Writing) throw StoreError("finish() called twice");
    if (m_lf && m_crlf.held_cr()) {  // it ends with a lone CR
        give_up_lf();
        m_buffer.push_back('\r');
    }
    flush();
    m_form = m_lf && m_crlf.pairs() > 0 ? LineEndings::Lf : LineEndings::Wire;
    give_buffer();  // finished messages wait for commit without it
    m_digest = m_hash.hex_digest();
    if (m_internaldate) m_store.fs().set_mtime(m_fd, *m_internaldate, tmp_path());
    const int fd = m_fd;
    m_fd = -1;
    if (m_store.batch_sync()) {
        // The next sync_pending() makes it durable with the rest of its batch.
        // Numbered before it is queued: a batch that takes a syncfs marks
        // every queued file synced, and its syncfs covers only the files
        // numbered when it began (sync_file_system skips when another syncfs
        // covered those already). A file that fails to close is numbered but
        // never Finished, so never committed.
        m_sequence = m_store.finished_one();
        m_store.hold_for_batch(tmp_path(), m_tmp_dir, m_synced, fd);
        m_state = State::Finished;
        return;
    }
    if (m_store.defer_fsync()) {
        // The descriptor goes to the sync queue: fsync through it later spares
        // reopening every file (an open costs more than the fsync itself).
        m_state = State::Finished;
        m_store.queue_sync(tmp_path(), m_tmp_dir, m_synced, fd);
        return;
    }
    try {
        m_store.fs().fsync(fd, tmp_path());
    } catch (...) {
        m_store.close_quietly(fd, tmp_path());
        throw;
    }
    m_synced->store(true);
    // close() reports deferred write errors on some file systems (NFS).
    m_store.fs().close(fd, tmp_path());
    m_state = State::Finished;
}

void MaildirPending::take_buffer() { m_buffer = m_store.buffers().take(); }

// Touches the store only while the buffer has room to give: a finished
// message (the only kind commit() takes) gave it back already.
void MaildirPending::give_buffer() noexcept {
    if (m_buffer.capacity() > std::string().capacity()) m_store.buffers().give(m_buffer);
}

void MaildirPending::discard() noexcept {
    give_buffer();
    if (m_state == State::Committed || m_state == State::Discarded) return;
    if (m_fd >= 0) m_store.close_quietly(m_fd, tmp_path());
    m_fd = -1;
    try {
        m_store.fs().unlink(tmp_path());
    } catch (const StoreError&) {
        // clean_tmp() removes it on the next run.
    }
    m_store.forget_tmp(tmp_path());
    m_state = State::Discarded;
}

}  // namespace

void describe_stored(const PendingMessage& message, MessageRecord& row) {
    row.size = message.size();
    row.sha256 = message.sha256_hex();
    row.line_endings = message.line_endings();
}

std::unique_ptr<MessageStore> open_maildir_store(const std::string& store_root,
                                                 const MaildirOptions& options) {
    return std::make_unique<MaildirStore>(store_root, options);
}

}  // namespace imapkeep::store
