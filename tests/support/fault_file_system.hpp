// A FileSystem for tests (DESIGN.md "Tests": a fault layer like leveldb's Env).
// It forwards to a real one (POSIX by default) and can, per operation kind and
// path substring:
//   - fail():       throw StoreError before doing anything (a full disk, EIO);
//   - fail_after(): do the step, then throw (the process "dies" right after it);
//   - hold():       block the calling thread on a Gate until the test releases it,
//                   so two workers can be interleaved deterministically.
// Every completed mutating step is appended to log() as "<op> <path>" (rename:
// "rename <from> -> <to>"), with note() for the test's own markers, so a test
// can assert the order of writes, fsyncs and renames.
//
// It also models a power cut: a file whose data or time was written since its
// last fsync (or the last sync_file_system, which makes every file durable) is
// not durable, and a rename of such a file is recorded in undurable_renames():
// after a crash the new name could survive while the bytes do not.
// without_sync_file_system() makes the layer report no syncfs (an older kernel).
//
// Header-only so any test binary (tests/store, tests/sync) can use it:
//   #include "support/fault_file_system.hpp"
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/file_system.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace imapkeep::test {

enum class FsOp {
    Create,
    Touch,
    Write,
    Fsync,
    Close,
    SetMtime,
    FsyncFile,
    FsyncDir,
    Rename,
    Link,
    Unlink,
    MakeDir,
    RemoveDir,
    SyncFs
};

inline const char* fs_op_name(FsOp op) {
    switch (op) {
        case FsOp::Create:
            return "create";
        case FsOp::Touch:
            return "touch";
        case FsOp::Write:
            return "write";
        case FsOp::Fsync:
            return "fsync";
        case FsOp::Close:
            return "close";
        case FsOp::SetMtime:
            return "set_mtime";
        case FsOp::FsyncFile:
            return "fsync_file";
        case FsOp::FsyncDir:
            return "fsync_dir";
        case FsOp::Rename:
            return "rename";
        case FsOp::Link:
            return "link";
        case FsOp::Unlink:
            return "unlink";
        case FsOp::MakeDir:
            return "make_dir";
        case FsOp::RemoveDir:
            return "remove_dir";
        case FsOp::SyncFs:
            return "syncfs";
    }
    return "?";
}

// A one-shot latch between a held file-system call and the test.
class Gate {
  public:
    // Blocks until a thread is held at the gate.
    void wait_arrived() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_arrived; });
    }
    bool arrived() {
        std::lock_guard lock(m_mutex);
        return m_arrived;
    }
    void release() {
        std::lock_guard lock(m_mutex);
        m_released = true;
        m_cv.notify_all();
    }
    // Called by the held thread.
    void arrive_and_wait() {
        std::unique_lock lock(m_mutex);
        m_arrived = true;
        m_cv.notify_all();
        m_cv.wait(lock, [&] { return m_released; });
    }

  private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_arrived = false;
    bool m_released = false;
};

class FaultFileSystem final : public store::FileSystem {
  public:
    explicit FaultFileSystem(std::shared_ptr<store::FileSystem> base = store::posix_file_system())
        : m_base(std::move(base)) {}

    // The matching operations number skip+1 .. skip+times throw before acting.
    void fail(FsOp op, std::string needle = "", int skip = 0, int times = 1) {
        add_rule(Rule::Kind::FailBefore, op, std::move(needle), skip, times);
    }
    // Same, but the operation is done first, then throws.
    void fail_after(FsOp op, std::string needle = "", int skip = 0, int times = 1) {
        add_rule(Rule::Kind::FailAfter, op, std::move(needle), skip, times);
    }
    // The first matching operation waits on the returned gate before acting
    // (and then fails without acting when `then_fail`).
    std::shared_ptr<Gate> hold(FsOp op, std::string needle = "", bool then_fail = false) {
        auto gate = std::make_shared<Gate>();
        std::lock_guard lock(m_mutex);
        m_rules.push_back({Rule::Kind::Hold, op, std::move(needle), 0, 1, gate, then_fail});
        return gate;
    }
    void clear_rules() {
        std::lock_guard lock(m_mutex);
        m_rules.clear();
    }

    // The store sees no sync_file_system (as on Linux before 5.8).
    void without_sync_file_system() { m_no_syncfs = true; }

    // Renames of files whose data was not durable (see the header comment).
    std::vector<std::string> undurable_renames() const {
        std::lock_guard lock(m_mutex);
        return m_undurable_renames;
    }

    std::vector<std::string> log() const {
        std::lock_guard lock(m_mutex);
        return m_log;
    }
    void note(const std::string& entry) {
        std::lock_guard lock(m_mutex);
        m_log.push_back(entry);
    }
    void clear_log() {
        std::lock_guard lock(m_mutex);
        m_log.clear();
        m_reads.clear();
    }
    // Position of the first log entry equal to `entry`, or -1.
    long index_of(const std::string& entry) const {
        std::lock_guard lock(m_mutex);
        auto it = std::find(m_log.begin(), m_log.end(), entry);
        return it == m_log.end() ? -1 : static_cast<long>(it - m_log.begin());
    }
    // How many operations of a kind completed.
    // Directories read with list_dir() since the last clear_log() or
    // clear_reads(): reads are not steps, so they are kept apart from log().
    std::vector<std::string> listed() const {
        std::lock_guard lock(m_mutex);
        const std::string prefix = "list_dir ";
        std::vector<std::string> paths;
        for (const auto& e : m_reads)
            if (e.rfind(prefix, 0) == 0) paths.push_back(e.substr(prefix.size()));
        return paths;
    }

    int count(FsOp op) const {
        std::lock_guard lock(m_mutex);
        const std::string prefix = std::string(fs_op_name(op)) + " ";
        return static_cast<int>(std::count_if(
            m_log.begin(), m_log.end(), [&](const auto& e) { return e.rfind(prefix, 0) == 0; }));
    }

    int create_exclusive(const std::string& path) override {
        return step(FsOp::Create, path, [&] {
            const int fd = m_base->create_exclusive(path);
            if (fd >= 0) written(path);
            return fd;
        });
    }
    void touch(const std::string& path) override {
        step(FsOp::Touch, path, [&] { m_base->touch(path); });
    }
    void write(int fd, std::string_view bytes, const std::string& path) override {
        step(FsOp::Write, path, [&] {
            written(path);
            m_base->write(fd, bytes, path);
        });
    }
    void fsync(int fd, const std::string& path) override {
        step(FsOp::Fsync, path, [&] {
            m_base->fsync(fd, path);
            synced(path);
        });
    }
    void close(int fd, const std::string& path) override {
        step(FsOp::Close, path, [&] { m_base->close(fd, path); });
    }
    void set_mtime(int fd, std::int64_t epoch, const std::string& path) override {
        step(FsOp::SetMtime, path, [&] {
            written(path);
            m_base->set_mtime(fd, epoch, path);
        });
    }
    void set_mtime(const std::string& path, std::int64_t epoch) override {
        step(FsOp::SetMtime, path, [&] {
            written(path);
            m_base->set_mtime(path, epoch);
        });
    }
    bool fsync_file(const std::string& path) override {
        return step(FsOp::FsyncFile, path, [&] {
            const bool found = m_base->fsync_file(path);
            synced(path);
            return found;
        });
    }
    void fsync_dir(const std::string& path) override {
        step(FsOp::FsyncDir, path, [&] { m_base->fsync_dir(path); });
    }
    bool can_sync_file_system() override { return !m_no_syncfs && m_base->can_sync_file_system(); }
    int open_dir(const std::string& path) override { return m_base->open_dir(path); }
    void sync_file_system(int fd, const std::string& path) override {
        step(FsOp::SyncFs, path, [&] {
            m_base->sync_file_system(fd, path);
            std::lock_guard lock(m_mutex);
            m_undurable.clear();
        });
    }
    bool rename(const std::string& from, const std::string& to) override {
        return step(FsOp::Rename, from + " -> " + to, [&] {
            const bool done = m_base->rename(from, to);
            if (done) renamed(from, to);
            return done;
        });
    }
    bool link(const std::string& from, const std::string& to) override {
        return step(FsOp::Link, from + " -> " + to, [&] { return m_base->link(from, to); });
    }
    bool unlink(const std::string& path) override {
        return step(FsOp::Unlink, path, [&] {
            synced(path);
            return m_base->unlink(path);
        });
    }
    bool make_dir(const std::string& path) override {
        return step(FsOp::MakeDir, path, [&] { return m_base->make_dir(path); });
    }
    void remove_dir(const std::string& path) override {
        step(FsOp::RemoveDir, path, [&] { m_base->remove_dir(path); });
    }
    std::vector<std::string> list_dir(const std::string& path) override {
        read("list_dir", path);
        return m_base->list_dir(path);
    }
    bool is_dir(const std::string& path) override {
        read("is_dir", path);
        return m_base->is_dir(path);
    }
    bool exists(const std::string& path) override {
        read("exists", path);
        return m_base->exists(path);
    }

    // Reads take no rules and stay out of log(); they are only counted, so a
    // test can bound the listings and stats a run makes: "list_dir <path>",
    // "is_dir <path>", "exists <path>", "dir_version <path>".
    std::vector<std::string> reads() const {
        std::lock_guard lock(m_mutex);
        return m_reads;
    }
    void clear_reads() {
        std::lock_guard lock(m_mutex);
        m_reads.clear();
    }
    // Reads of that kind ("list_dir", "is_dir", "exists", "dir_version") whose path contains `needle`.
    int count_reads(const std::string& kind, const std::string& needle = "") const {
        std::lock_guard lock(m_mutex);
        const std::string prefix = kind + " ";
        return static_cast<int>(std::count_if(m_reads.begin(), m_reads.end(), [&](const auto& e) {
            return e.rfind(prefix, 0) == 0 && e.find(needle, prefix.size()) != std::string::npos;
        }));
    }

    std::optional<store::DirVersion> dir_version(const std::string& path) override {
        read("dir_version", path);
        return m_base->dir_version(path);
    }

  private:
    struct Rule {
        enum class Kind { FailBefore, FailAfter, Hold } kind;
        FsOp op;
        std::string needle;
        int skip = 0;
        int times = 1;
        std::shared_ptr<Gate> gate;
        bool then_fail = false;
    };

    void add_rule(Rule::Kind kind, FsOp op, std::string needle, int skip, int times) {
        std::lock_guard lock(m_mutex);
        m_rules.push_back({kind, op, std::move(needle), skip, times, nullptr, false});
    }

    // The rule that fires for this call, consuming one use of it.
    std::optional<Rule> match(FsOp op, const std::string& subject) {
        std::lock_guard lock(m_mutex);
        for (auto it = m_rules.begin(); it != m_rules.end(); ++it) {
            if (it->op != op || subject.find(it->needle) == std::string::npos) continue;
            if (it->skip > 0) {
                --it->skip;
                continue;
            }
            Rule fired = *it;
            if (--it->times <= 0) m_rules.erase(it);
            return fired;
        }
        return std::nullopt;
    }

    template <typename F>
    auto step(FsOp op, const std::string& subject, F&& action) -> decltype(action()) {
        const auto rule = match(op, subject);
        const std::string entry = std::string(fs_op_name(op)) + " " + subject;
        if (rule && rule->kind == Rule::Kind::Hold) rule->gate->arrive_and_wait();
        if (rule && (rule->kind == Rule::Kind::FailBefore || rule->then_fail)) {
            note("failed " + entry);
            throw store::StoreError("injected failure: " + entry);
        }
        if constexpr (std::is_void_v<decltype(action())>) {
            action();
            finish(entry, rule);
        } else {
            auto result = action();
            finish(entry, rule);
            return result;
        }
    }

    void finish(const std::string& entry, const std::optional<Rule>& rule) {
        note(entry);
        if (rule && rule->kind == Rule::Kind::FailAfter)
            throw store::StoreError("injected failure after: " + entry);
    }

    void read(const char* kind, const std::string& path) {
        std::lock_guard lock(m_mutex);
        m_reads.push_back(std::string(kind) + " " + path);
    }

    // The power-cut model.
    void written(const std::string& path) {
        std::lock_guard lock(m_mutex);
        m_undurable.insert(path);
    }
    void synced(const std::string& path) {
        std::lock_guard lock(m_mutex);
        m_undurable.erase(path);
    }
    void renamed(const std::string& from, const std::string& to) {
        std::lock_guard lock(m_mutex);
        if (!m_undurable.erase(from)) return;
        m_undurable.insert(to);
        m_undurable_renames.push_back(from + " -> " + to);
    }

    std::shared_ptr<store::FileSystem> m_base;
    std::atomic<bool> m_no_syncfs{false};
    std::set<std::string> m_undurable;
    std::vector<std::string> m_undurable_renames;
    mutable std::mutex m_mutex;
    std::vector<Rule> m_rules;
    std::vector<std::string> m_log;
    std::vector<std::string> m_reads;
};

}  // namespace imapkeep::test
