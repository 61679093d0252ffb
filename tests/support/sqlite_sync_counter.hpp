// Counts the syncs SQLite asks of the file system (xSync: an fsync or
// fdatasync each, the directory's included), whichever connection of the
// process makes them: a VFS registered as the default in front of the real
// one. Install it before the connections to count are opened.
//
// Header-only: #include "support/sqlite_sync_counter.hpp"
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>

namespace imapkeep::test {

class SqliteSyncCounter {
  public:
    // Registers the counting VFS as the process default (once; idempotent).
    static void install() {
        static const bool kInstalled = [] {
            s_real = sqlite3_vfs_find(nullptr);
            if (!s_real) throw std::runtime_error("no default SQLite VFS");
            s_vfs = *s_real;
            s_vfs.zName = "imapkeep-sync-counter";
            s_vfs.szOsFile = static_cast<int>(sizeof(File)) + s_real->szOsFile;
            s_vfs.xOpen = open;
            if (sqlite3_vfs_register(&s_vfs, 1) != SQLITE_OK)
                throw std::runtime_error("cannot register the counting VFS");
            return true;
        }();
        (void)kInstalled;
    }
    static int syncs() { return s_syncs.load(); }
    // Syncs of a main database file (not its log): in WAL mode only a
    // checkpoint makes them. Process-wide, and those this thread made.
    static int database_syncs() { return s_database_syncs.load(); }
    static int database_syncs_on_this_thread() { return t_database_syncs; }
    // Runs `hook` before each sync of a main database file (a checkpoint's),
    // on the thread that syncs, until an empty one replaces it.
    static void before_database_sync(std::function<void()> hook) {
        std::lock_guard lock(s_hook_mutex);
        s_hook = std::move(hook);
    }
    static void reset() {
        s_syncs = 0;
        s_database_syncs = 0;
        t_database_syncs = 0;
    }

  private:
    struct File {
        sqlite3_file base;
        sqlite3_file* real;  // right after this struct, s_real->szOsFile bytes
        bool database;       // the main database file
    };

    static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

    static int open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
        auto* file = reinterpret_cast<File*>(f);
        file->real = reinterpret_cast<sqlite3_file*>(file + 1);
        file->database = (flags & SQLITE_OPEN_MAIN_DB) != 0;
        const int rc = s_real->xOpen(s_real, name, file->real, flags, out_flags);
        // SQLite calls xClose only when xOpen set pMethods.
        file->base.pMethods = file->real->pMethods ? &kMethods : nullptr;
        return rc;
    }

    static int close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
    static int read(sqlite3_file* f, void* p, int n, sqlite3_int64 at) {
        return real(f)->pMethods->xRead(real(f), p, n, at);
    }
    static int write(sqlite3_file* f, const void* p, int n, sqlite3_int64 at) {
        return real(f)->pMethods->xWrite(real(f), p, n, at);
    }
    static int truncate(sqlite3_file* f, sqlite3_int64 size) {
        return real(f)->pMethods->xTruncate(real(f), size);
    }
    static int sync(sqlite3_file* f, int flags) {
        ++s_syncs;
        if (reinterpret_cast<File*>(f)->database) {
            ++s_database_syncs;
            ++t_database_syncs;
            run_hook();
        }
        return real(f)->pMethods->xSync(real(f), flags);
    }
    static int file_size(sqlite3_file* f, sqlite3_int64* size) {
        return real(f)->pMethods->xFileSize(real(f), size);
    }
    static int lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
    static int unlock(sqlite3_file* f, int level) {
        return real(f)->pMethods->xUnlock(real(f), level);
    }
    static int check_reserved(sqlite3_file* f, int* out) {
        return real(f)->pMethods->xCheckReservedLock(real(f), out);
    }
    static int file_control(sqlite3_file* f, int op, void* arg) {
        return real(f)->pMethods->xFileControl(real(f), op, arg);
    }
    static int sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
    static int device(sqlite3_file* f) {
        return real(f)->pMethods->xDeviceCharacteristics(real(f));
    }
    static int shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
        return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
    }
    static int shm_lock(sqlite3_file* f, int offset, int n, int flags) {
        return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
    }
    static void shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
    static int shm_unmap(sqlite3_file* f, int remove) {
        return real(f)->pMethods->xShmUnmap(real(f), remove);
    }
    static int fetch(sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
        return real(f)->pMethods->xFetch(real(f), at, n, out);
    }
    static int unfetch(sqlite3_file* f, sqlite3_int64 at, void* p) {
        return real(f)->pMethods->xUnfetch(real(f), at, p);
    }

    static void run_hook() {
        std::function<void()> hook;
        {
            std::lock_guard lock(s_hook_mutex);
            hook = s_hook;
        }
        if (hook) hook();
    }

    static inline const sqlite3_io_methods kMethods = {
        3,        close,       read,           write,        truncate,    sync,   file_size,
        lock,     unlock,      check_reserved, file_control, sector_size, device, shm_map,
        shm_lock, shm_barrier, shm_unmap,      fetch,        unfetch};
    static inline sqlite3_vfs* s_real = nullptr;
    static inline sqlite3_vfs s_vfs{};
    static inline std::atomic<int> s_syncs{0};
    static inline std::atomic<int> s_database_syncs{0};
    static inline thread_local int t_database_syncs = 0;
    static inline std::mutex s_hook_mutex;
    static inline std::function<void()> s_hook;
};

}  // namespace imapkeep::test
