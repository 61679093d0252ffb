#include "cli/store_session.hpp"

#include <imapkeep/store/sqlite_catalog.hpp>

namespace imapkeep::cli {

std::unique_ptr<StoreSession> open_store(const Config& config, Io& io) {
    auto session = std::make_unique<StoreSession>();
    try {
        session->lock = std::make_unique<StoreLock>(config.store_path);
    } catch (const LockBusy& e) {
        io.err << "imapkeep: " << e.what() << "\n";
        return nullptr;
    }
    session->catalog_path = config.store_path + "/catalog.sqlite";
    try {
        session->catalog = store::open_sqlite_catalog(session->catalog_path);
        session->messages = store::open_maildir_store(config.store_path);
    } catch (const std::exception& e) {
        io.err << "imapkeep: cannot open the store " << config.store_path << ": " << e.what() << "\n";
        return nullptr;
    }
    return session;
}

}  // namespace imapkeep::cli
