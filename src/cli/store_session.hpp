// The store as one command uses it: the lock first (a backup running meanwhile
// would move files under our feet), then the catalog and the message files.
#pragma once

#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/lock.hpp"

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>

#include <memory>
#include <string>

namespace imapkeep::cli {

struct StoreSession {
    std::unique_ptr<StoreLock> lock;
    std::string catalog_path;
    std::unique_ptr<store::Catalog> catalog;
    std::unique_ptr<store::MessageStore> messages;
};

// Locks and opens config.store_path. On failure (lock busy, store unreadable)
// it tells io.err why and returns nullptr; the exit code is then kExitTempFail.
std::unique_ptr<StoreSession> open_store(const Config& config, Io& io);

}  // namespace imapkeep::cli
