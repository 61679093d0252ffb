// doctor's store checks: the path, who can write and read it, free space, the
// lock and the catalog. Read-only: nothing here creates or changes a file.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <imapkeep/fleet/account_registry.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>

#include "cli/catalog_place.hpp"
#include "cli/doctor.hpp"
#include "cli/lock.hpp"
#include "cli/message_store_place.hpp"
#include "cli/permissions.hpp"
#include "cli/report.hpp"
#include "cli/store_session.hpp"

namespace imapkeep::cli {

namespace {

constexpr const char* kPath = "store: path";
constexpr const char* kAccess = "store: permissions";
constexpr const char* kSpace = "store: free space";
constexpr const char* kLock = "store: lock";
constexpr const char* kCatalog = "store: catalog";
constexpr const char* kObjects = "store: s3";

// The store, or the nearest folder above it that exists (where the first run
// will create it).
std::string existing_ancestor(const std::string& path) {
    std::filesystem::path p(path);
    std::error_code ec;
    while (!p.empty() && !std::filesystem::exists(p, ec)) {
        if (p == p.parent_path()) break;
        p = p.parent_path();
    }
    return p.empty() ? "/" : p.string();
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

CheckResult store_access(const std::string& store_path) {
    struct stat st {};
    if (::stat(store_path.c_str(), &st) != 0)
        return ok(kAccess, "not created yet (it will be mode 0700)");
    if (::access(store_path.c_str(), R_OK | W_OK | X_OK) != 0)
        return fail(kAccess, store_path + ": " + std::strerror(errno) + " for this user",
                    "run doctor and backup as the store's owner, or chown it");
    if (auto exposed = exposure_warning("", store_path))
        return warn(kAccess, store_path + " is readable by other users (it holds mail)",
                    "chmod 700 " + store_path);
    return ok(kAccess, "writable by this user, private (mode " + octal_mode(st.st_mode) + ")");
}

CheckResult free_space(const std::string& store_path) {
    const std::string where = existing_ancestor(store_path);
    struct statvfs vfs {};
    if (::statvfs(where.c_str(), &vfs) != 0)
        return warn(kSpace, where + ": " + std::strerror(errno),
                    "check the file system the store is on");
    return free_space_check(static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize, where);
}

LockFacts lock_facts(const std::string& store_path, const std::optional<store::RunRecord>& last) {
    LockFacts facts;
    facts.holder = lock_holder(store_path);
    if (last && !last->finished_at && last->status == "running") {
        facts.last_run_unfinished = true;
        facts.last_run_started = iso8601_utc(last->started_at);
    }
    return facts;
}

struct CatalogRead {
    CatalogFacts facts;
    std::optional<store::RunRecord> last_backup;
};

// check_catalog_file() first (a newer or foreign file is not even opened),
// then a read-only copy in memory: the last backup run, for the lock check.
CatalogRead read_catalog(const std::string& catalog_path) {
    CatalogRead read;
    read.facts.known_version = store::catalog_schema_version();
    std::error_code ec;
    if (!std::filesystem::exists(catalog_path, ec)) return read;
    read.facts.exists = true;
    try {
        check_catalog_file(catalog_path);
        read.facts.version = store::sqlite_catalog_file_version(catalog_path);
        auto catalog = store::open_sqlite_catalog_snapshot(catalog_path);
        read.last_backup = catalog->last_run("backup");
    } catch (const std::exception& e) {
        read.facts.error = e.what();
    }
    return read;
}

// Whether `run` is a fleet worker's whose lease is still held: a run in
// progress, not an interrupted one (fleet/lease.hpp "A run record left open").
// A registry that cannot be read says nothing: the run counts as interrupted.
bool fleet_run_in_progress(const Config& config, const store::RunRecord& run) {
    try {
        std::int64_t now_ms = 0;
        for (const auto& a : fleet::read_fleet_accounts({config.catalog_postgres, config.catalog_schema}, &now_ms))
            if (a.run_id == run.id) return a.lease_owner && a.lease_until_ms && *a.lease_until_ms >= now_ms;
    } catch (const std::exception&) {
    }
    return false;
}

// A PostgreSQL catalog: connecting (and migrating, as every command does) is
// the check.
CatalogRead read_postgres_catalog(const Config& config) {
    CatalogRead read;
    read.facts.known_version = store::catalog_schema_version();
    read.facts.postgres = catalog_name(config);
    try {
        auto catalog = open_catalog(config);
        read.facts.exists = true;
        read.facts.version = read.facts.known_version;
        read.last_backup = catalog->last_run("backup");
        // A worker's run holds no store lock: its live lease is what says it runs.
        if (read.last_backup && !read.last_backup->finished_at && fleet_run_in_progress(config, *read.last_backup))
            read.last_backup.reset();
    } catch (const std::exception& e) {
        read.facts.error = read.facts.postgres + ": " + e.what();
    }
    return read;
}

}  // namespace

CheckResult store_path_check(const std::string& store_path) {
    struct stat st {};
    if (::stat(store_path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return ok(kPath, store_path);
        return fail(kPath, store_path + " is not a directory", "set store.path to a directory");
    }
    if (errno != ENOENT)
        return fail(kPath, store_path + ": " + std::strerror(errno),
                    "check the path and its parents");
    const std::string parent = existing_ancestor(store_path);
    struct stat pst {};
    if (::stat(parent.c_str(), &pst) != 0 || !S_ISDIR(pst.st_mode))
        return fail(kPath, store_path + " cannot be created: " + parent + " is not a directory",
                    "set store.path to a directory");
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        return fail(kPath,
                    store_path + " cannot be created: " + parent + " is not writable by this user",
                    "create it (mkdir -m 700 " + store_path + ") as a user who may, and chown it");
    return ok(kPath,
              store_path + " (not there yet; the first backup creates it in " + parent + ")");
}

CheckResult free_space_check(std::uint64_t bytes_free, const std::string& where) {
    const std::string detail = human_bytes(bytes_free) + " free on " + where;
    if (bytes_free < kLowFreeSpaceBytes)
        return warn(kSpace, detail + " (below " + human_bytes(kLowFreeSpaceBytes) + ")",
                    "free some space or move the store: a full disk stops the backup mid-run");
    return ok(kSpace, detail);
}

CheckResult lock_check(const LockFacts& facts) {
    if (facts.holder) {
        std::string who =
            *facts.holder > 0 ? "pid " + std::to_string(*facts.holder) : "a process (pid unknown)";
        return warn(kLock, "held by " + who + ": a run is in progress",
                    "another backup now would exit 75; wait for it to finish");
    }
    if (facts.last_run_unfinished)
        return warn(
            kLock, "free; the last backup (started " + facts.last_run_started + ") was interrupted",
            "run imapkeep backup: it resumes where that run stopped");
    return ok(kLock, "free");
}

CheckResult catalog_check(const CatalogFacts& facts) {
    if (!facts.error.empty())
        return fail(kCatalog, facts.error, "see the message; the catalog was not changed");
    if (!facts.postgres.empty())
        return ok(kCatalog, facts.postgres + ": connects, schema version " + std::to_string(facts.version));
    if (!facts.exists) return ok(kCatalog, "none yet (the first backup creates it)");
    return ok(kCatalog, "opens read-only, schema version " + std::to_string(facts.version) +
                            " (this imapkeep: " + std::to_string(facts.known_version) + ")");
}

namespace {

// A "postgres+s3" store's bucket: one listing of at most one key under the
// prefix proves the endpoint answers, the keys sign and the bucket is there.
// Read-only, like every check here.
CheckResult s3_check(const Config& config) {
    const std::string where = message_store_name(config);
    try {
        s3::S3Client client(s3_client_config(config));
        client.list_page(config.s3.bucket, config.s3.prefix, "", 1);
        return ok(kObjects, where + ": reachable, the bucket lists");
    } catch (const s3::S3Error& e) {
        const std::string& code = e.code();
        std::string hint = "see the message";
        if (code == "NoSuchBucket") hint = "create the bucket, or fix store.s3.bucket";
        if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "AccessDenied" ||
            code == "Forbidden")
            hint = "check store.s3.access_key and the secret key (and the bucket's permissions)";
        if (code == s3::kNetworkError) hint = "check store.s3.endpoint and the network";
        return fail(kObjects, where + ": " + e.what(), hint);
    } catch (const std::exception& e) {  // the secret key's command or file, a bad endpoint
        return fail(kObjects, where + ": " + e.what(),
                    "check store.s3.endpoint and secret_key_command / secret_key_file");
    }
}

}  // namespace

std::vector<CheckResult> check_store(const Config& config) {
    const std::string& path = config.store_path;
    std::vector<CheckResult> out{store_path_check(path)};
    if (out.back().status == CheckStatus::Fail) return out;
    out.push_back(store_access(path));
    out.push_back(free_space(path));
    CatalogRead catalog = catalog_in_postgres(config) ? read_postgres_catalog(config)
                                                      : read_catalog(sqlite_catalog_path(config));
    out.push_back(lock_check(lock_facts(path, catalog.last_backup)));
    out.push_back(catalog_check(catalog.facts));
    if (messages_in_s3(config)) out.push_back(s3_check(config));
    return out;
}

}  // namespace imapkeep::cli
