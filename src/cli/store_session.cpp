#include "cli/store_session.hpp"

#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <system_error>

#include "cli/catalog_place.hpp"
#include "cli/message_store_place.hpp"

namespace imapkeep::cli {

namespace {

namespace fs = std::filesystem;

// Errors a second try will not fix: the store or catalog itself is wrong, a
// human must act (exit 2). Anything else (a full disk, I/O errors, a busy
// database) is worth another run (75).
bool permanent(const std::error_code& code) {
    switch (code.value()) {
        case EROFS:
        case EACCES:
        case EPERM:
        case ENOTDIR:
        case EISDIR:
        case EEXIST:
        case ELOOP:
        case ENAMETOOLONG:
            return true;
        default:
            return false;
    }
}

bool permanent(const std::string& store_error) {
    for (const char* text :
         {"file is not a database", "malformed", "readonly database", "newer than this",
          "Read-only file system", "Permission denied", "Not a directory"})
        if (store_error.find(text) != std::string::npos) return true;
    return false;
}

// A failure no later run cures by itself: a catalog server that refused the
// settings (a database or role it does not have), or a store that is not one.
bool lasting(const std::exception& e) {
    if (const auto* unreachable = dynamic_cast<const store::CatalogUnreachable*>(&e))
        return !unreachable->transient();
    return permanent(std::string(e.what()));
}

// The store directory: a symbolic link is followed (the store may live on
// another disk), but it must lead to a directory or to nothing yet.
void check_store_path(const Config& config) {
    const std::string& path = config.store_path;
    const std::string where = config.file + ": store.path: ";
    std::error_code ec;
    auto link = fs::symlink_status(path, ec);
    if (fs::is_symlink(link) && !fs::exists(path, ec))
        throw ConfigError(where + path + " is a symbolic link to " +
                          fs::read_symlink(path, ec).string() + ", which does not exist");
    auto target = fs::status(path, ec);
    if (fs::exists(target) && !fs::is_directory(target))
        throw ConfigError(where + path + " is not a directory" +
                          (fs::is_regular_file(target) ? " (it is a regular file)" : ""));
}

// The catalog (by `open`) and the message files of an opened or locked store.
// Told to io.err and false on a passing failure; ConfigError on a lasting one.
template <typename Open>
bool open_catalog_and_files(const Config& config, StoreSession& session, Io& io, Open open,
                            bool read_only) {
    try {
        session.catalog = open();
        session.messages = open_message_store(config, read_only);
    } catch (const ConfigError&) {
        throw;
    } catch (const std::exception& e) {
        if (lasting(e))
            throw ConfigError("cannot open the store " + config.store_path + ": " + e.what());
        io.err << "imapkeep: cannot open the store " << config.store_path << " (catalog "
               << catalog_name(config) << "): " << e.what() << "\n";
        return false;
    }
    return true;
}

}  // namespace

void check_catalog_file(const std::string& catalog_path) {
    std::ifstream in(catalog_path, std::ios::binary);
    if (!in) return;  // not there yet, or unreadable: opening it says why
    std::array<unsigned char, 100> header{};
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    const auto got = in.gcount();
    if (got == 0) return;                            // SQLite makes an empty file a new database
    static const char kMagic[] = "SQLite format 3";  // and its NUL: 16 bytes
    if (got < static_cast<std::streamsize>(header.size()) ||
        !std::equal(kMagic, kMagic + sizeof kMagic, header.begin()))
        throw ConfigError(
            catalog_path +
            " is not an imapkeep catalog (not an SQLite database; damaged or written by "
            "something else): move it away to start a new backup, or put back a copy");
    // SQLite's header holds PRAGMA user_version at offset 60, big-endian: read
    // before opening, so a newer catalog is not touched at all.
    const std::uint32_t version = std::uint32_t(header[60]) << 24 |
                                  std::uint32_t(header[61]) << 16 | std::uint32_t(header[62]) << 8 |
                                  std::uint32_t(header[63]);
    const auto known = static_cast<std::uint32_t>(store::catalog_schema_version());
    if (version > known)
        throw ConfigError(
            catalog_path + ": catalog schema version " + std::to_string(version) +
            " is newer than this imapkeep knows (" + std::to_string(known) +
            "): it was written by a newer imapkeep; upgrade to use it (the catalog was "
            "left unchanged)");
}

std::unique_ptr<StoreSession> open_store(const Config& config, Io& io,
                                         const std::function<void()>& locked) {
    check_store_path(config);
    auto session = std::make_unique<StoreSession>();
    try {
        session->lock = std::make_unique<StoreLock>(config.store_path);
    } catch (const LockBusy& e) {
        io.err << "imapkeep: " << e.what() << "\n";
        return nullptr;
    } catch (const std::system_error& e) {
        if (permanent(e.code())) throw ConfigError(config.file + ": store.path: " + e.what());
        io.err << "imapkeep: " << e.what() << "\n";
        return nullptr;
    }
    if (locked) locked();
    session->open_catalog = catalog_opener(config);
    if (!open_catalog_and_files(config, *session, io, session->open_catalog, false)) return nullptr;
    return session;
}

std::unique_ptr<StoreSession> open_store_snapshot(const Config& config, Io& io,
                                                  const std::function<void()>& locked) {
    check_store_path(config);
    auto session = std::make_unique<StoreSession>();
    if (locked) locked();
    // session->open_catalog stays empty: parallel workers would open the
    // catalog itself, not the snapshot.
    if (!open_catalog_and_files(
            config, *session, io, [&] { return open_catalog_snapshot(config); }, true))
        return nullptr;
    return session;
}

}  // namespace imapkeep::cli
