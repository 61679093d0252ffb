// Where a store object spools the messages it receives: a directory of its
// own under the spool root ("run-XXXXXX"), locked (flock) while the store
// lives, so several processes (fleet workers on one host) can share the root.
// Each received message is a named file there, closed once finished (as
// many open descriptors as messages being written, not as messages waiting
// for their batch's upload), and unlinked once uploaded or discarded. A
// killed process leaves its directory unlocked: the next store opened on the
// root removes it (clean_stale).
#pragma once

#include <atomic>
#include <cstddef>
#include <string>

namespace imapkeep::store::s3store {

class SpoolDir {
  public:
    // Creates root (if missing) and this store's directory in it, and removes
    // stale ones. Throws StoreError.
    explicit SpoolDir(const std::string& root);
    // Removes this store's directory and what is left in it.
    ~SpoolDir();
    SpoolDir(const SpoolDir&) = delete;
    SpoolDir& operator=(const SpoolDir&) = delete;

    // A new file name in this store's directory (absolute), never handed out before.
    std::string new_file();
    // Removes the directories of processes that are gone (their lock is
    // free). Returns how many files they held.
    std::size_t clean_stale();

  private:
    std::string m_root;
    std::string m_dir;
    int m_lock = -1;
    std::atomic<unsigned long> m_counter{0};
};

// A message being received into a SpoolDir file: buffered writes, closed by
// finish(); the file is unlinked when this is destroyed.
class SpooledMessage {
  public:
    // Throws StoreError when the file cannot be made.
    explicit SpooledMessage(std::string path);
    ~SpooledMessage();
    SpooledMessage(const SpooledMessage&) = delete;
    SpooledMessage& operator=(const SpooledMessage&) = delete;

    void write(std::string_view bytes);
    // Writes out the buffer and closes the file. Throws StoreError.
    void finish();
    const std::string& path() const { return m_path; }

  private:
    void write_fully(std::string_view bytes);

    std::string m_path;
    int m_fd = -1;
    std::string m_buffer;
};

}  // namespace imapkeep::store::s3store
