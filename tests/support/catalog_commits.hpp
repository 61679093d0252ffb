// Counts the write transactions committed to a SQLite catalog, whichever
// connection made them: start() checkpoints and empties the write-ahead log,
// commits() then counts the WAL frames that end a transaction (a non-zero
// "database size after commit" field, https://sqlite.org/fileformat.html#the_write_ahead_log).
// Valid while the WAL is not checkpointed in between: keep one connection to
// the catalog open (so no close checkpoints it) and stay far below the
// auto-checkpoint size (1000 pages).
//
// Header-only: #include "support/catalog_commits.hpp"
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace imapkeep::test {

class CatalogCommits {
  public:
    explicit CatalogCommits(std::string catalog_path) : m_path(std::move(catalog_path)) {}

    // Moves everything in the WAL into the database and truncates the WAL.
    void start() {
        sqlite3* db = nullptr;
        if (sqlite3_open(m_path.c_str(), &db) != SQLITE_OK) {
            sqlite3_close(db);
            throw std::runtime_error("cannot open " + m_path);
        }
        sqlite3_busy_timeout(db, 10000);
        // The pragma reads the database first (a bare checkpoint call on a
        // connection that has not yet seen it is a no-op) and returns one row:
        // busy, frames in the log, frames checkpointed.
        int busy = -1;
        const int rc = sqlite3_exec(
            db, "PRAGMA wal_checkpoint(TRUNCATE)",
            [](void* out, int, char** values, char**) {
                *static_cast<int*>(out) = values[0] ? std::atoi(values[0]) : -1;
                return 0;
            },
            &busy, nullptr);
        sqlite3_close(db);
        if (rc != SQLITE_OK || busy != 0) throw std::runtime_error("cannot checkpoint " + m_path);
    }

    // Transactions committed since start().
    int commits() const {
        std::ifstream in(m_path + "-wal", std::ios::binary);
        if (!in) return 0;
        std::vector<unsigned char> wal((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
        if (wal.size() < 32) return 0;
        const std::uint32_t page_size = be32(wal, 8);
        const std::uint32_t salt1 = be32(wal, 16), salt2 = be32(wal, 20);
        int n = 0;
        for (std::size_t at = 32; at + 24 + page_size <= wal.size(); at += 24 + page_size) {
            // A frame of an older generation of the log is not part of it.
            if (be32(wal, at + 8) != salt1 || be32(wal, at + 12) != salt2) break;
            if (be32(wal, at + 4) != 0) ++n;
        }
        return n;
    }

  private:
    static std::uint32_t be32(const std::vector<unsigned char>& b, std::size_t at) {
        return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 |
               std::uint32_t(b[at + 2]) << 8 | std::uint32_t(b[at + 3]);
    }

    std::string m_path;
};

}  // namespace imapkeep::test
