#include "store/catalog_write_lock.hpp"

#include <filesystem>
#include <imapkeep/store/catalog.hpp>
#include <map>

#include "store/sqlite_db.hpp"

namespace imapkeep::store {

std::shared_ptr<CatalogWriteLock> CatalogWriteLock::for_file(const std::string& path) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<CatalogWriteLock>> registry;
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    const std::string key = ec ? path : canonical.string();
    std::lock_guard guard(registry_mutex);
    if (auto existing = registry[key].lock()) return existing;
    auto made = std::make_shared<CatalogWriteLock>(key);
    registry[key] = made;
    return made;
}

CatalogWriteLock::CatalogWriteLock(const std::string& path)
    : m_checkpointer([path, db = std::shared_ptr<SqliteDb>()](CheckpointMode mode) mutable {
          if (!db) {
              auto opened = std::make_shared<SqliteDb>(path);
              // Its close must not checkpoint or remove the log either.
              opened->keep_log_at_close();
              // A connection finds the log when it first reads the database.
              if (opened->pragma_text("journal_mode") != "wal")
                  throw StoreError("catalog " + path + ": not in WAL mode");
              db = std::move(opened);
          }
          // No busy handler: a restart gives up rather than hold the
          // workers' commits while it waits for another writer or reader.
          return db->checkpoint(mode);
      }) {}

bool CatalogWriteLock::acquire(std::chrono::milliseconds timeout) {
    {
        std::lock_guard guard(m_owner_mutex);
        if (m_owner == std::this_thread::get_id())
            throw StoreError(
                "catalog: this thread already writes to the catalog through another connection");
    }
    if (!m_mutex.try_lock_for(timeout)) return false;
    std::lock_guard guard(m_owner_mutex);
    m_owner = std::this_thread::get_id();
    return true;
}

bool CatalogWriteLock::wait_for_other_holder(std::chrono::milliseconds timeout) {
    {
        std::lock_guard guard(m_owner_mutex);
        // This thread's own BEGIN IMMEDIATE, blocked by a lock-less writer.
        if (m_owner == std::this_thread::get_id()) return false;
    }
    if (m_mutex.try_lock()) {
        m_mutex.unlock();
        return false;
    }
    if (m_mutex.try_lock_for(timeout)) m_mutex.unlock();
    return true;
}

void CatalogWriteLock::release() noexcept {
    {
        std::lock_guard guard(m_owner_mutex);
        m_owner = std::thread::id();
    }
    m_mutex.unlock();
}

}  // namespace imapkeep::store
