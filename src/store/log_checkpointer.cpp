#include "store/log_checkpointer.hpp"

#include "store/sqlite_db.hpp"

namespace imapkeep::store {

namespace {

void checkpoint(const std::string& path) noexcept {
    try {
        SqliteDb db(path);
        // A connection learns that the file is in WAL mode (and opens the
        // log) at its first read; a checkpoint before that finds no log.
        db.pragma_int("user_version");
        db.keep_log_at_close();  // its close must not checkpoint or delete the log
        db.checkpoint_log();
    } catch (...) {
        // Only time is lost: the frames stay in the log until a later checkpoint.
    }
}

}  // namespace

LogCheckpointer::~LogCheckpointer() {
    if (m_thread.joinable()) m_thread.join();
}

void LogCheckpointer::start_once(const std::string& path) {
    std::call_once(m_started, [&] { m_thread = std::thread(checkpoint, path); });
}

}  // namespace imapkeep::store
