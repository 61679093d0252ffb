// The store as one command uses it: the lock first (a backup running meanwhile
// would move files under our feet), then the catalog and the message files.
#pragma once

#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/lock.hpp"

#include <imapkeep/store/catalog.hpp>
#include <imapkeep/store/message_store.hpp>

#include <functional>
#include <memory>
#include <string>

namespace imapkeep::cli {

struct StoreSession {
    std::unique_ptr<StoreLock> lock;
    // Another connection to the catalog, for a backup's parallel workers;
    // unset for a snapshot (its workers would open the real file).
    std::function<std::unique_ptr<store::Catalog>()> open_catalog;
    std::unique_ptr<store::Catalog> catalog;
    std::unique_ptr<store::MessageStore> messages;
};

// Locks and opens config.store_path. A store that cannot work as it is (not a
// directory, read-only, not writable, a catalog that is not one or is newer
// than this build) throws ConfigError naming the path: exit 2, a human must
// act. A passing failure (lock busy, disk full, I/O error) is told to io.err
// and returns nullptr; the exit code is then kExitTempFail.
// A store.path that is a symbolic link is followed (it must lead to a
// directory, or to nothing yet). `locked`, when set, is called once the lock
// is held, before the catalog opens (a run starts its first connection then).
std::unique_ptr<StoreSession> open_store(const Config& config, Io& io,
                                         const std::function<void()>& locked = {});

// The store as a dry run sees it: no lock (it changes nothing, so it cannot
// disturb a running backup), an in-memory copy of the catalog (a new empty one
// when there is no store yet), and the message files read in place. Nothing is
// created or written anywhere. Errors as open_store; `locked` is called
// before the catalog is read.
std::unique_ptr<StoreSession> open_store_snapshot(const Config& config, Io& io,
                                                  const std::function<void()>& locked = {});

// Refuses, without opening it, a catalog file that is not an SQLite database
// or whose schema version is newer than this build's: ConfigError naming the
// file and both versions. A missing or empty file passes (a new catalog).
void check_catalog_file(const std::string& catalog_path);

}  // namespace imapkeep::cli
