#include "store/read_only_fs.hpp"

#include <imapkeep/store/message_store.hpp>

namespace imapkeep::store {

namespace {

class ReadOnlyFileSystem final : public FileSystem {
  public:
    explicit ReadOnlyFileSystem(std::shared_ptr<FileSystem> inner) : m_inner(std::move(inner)) {}

    int create_exclusive(const std::string& path) override { refuse("create", path); }
    void touch(const std::string& path) override { refuse("touch", path); }
    void write(int, std::string_view, const std::string& path) override { refuse("write", path); }
    void fsync(int, const std::string& path) override { refuse("fsync", path); }
    void close(int fd, const std::string& path) override { m_inner->close(fd, path); }
    void set_mtime(int, std::int64_t, const std::string& path) override { refuse("set the time of", path); }
    void set_mtime(const std::string& path, std::int64_t) override { refuse("set the time of", path); }
    bool fsync_file(const std::string& path) override { refuse("fsync", path); }
    bool can_sync_file_system() override { return false; }
    int open_dir(const std::string& path) override { return m_inner->open_dir(path); }
    void sync_file_system(int, const std::string& path) override { refuse("sync the file system of", path); }
    void fsync_dir(const std::string& path) override { refuse("fsync", path); }
    bool rename(const std::string& from, const std::string&) override { refuse("rename", from); }
    bool link(const std::string& from, const std::string&) override { refuse("link", from); }
    bool unlink(const std::string& path) override { refuse("remove", path); }
    bool make_dir(const std::string& path) override { refuse("create", path); }
    void remove_dir(const std::string& path) override { refuse("remove", path); }
    std::vector<std::string> list_dir(const std::string& path) override { return m_inner->list_dir(path); }
    void scan_dir(const std::string& path,
                  const std::function<void(std::string_view name)>& visit) override {
        m_inner->scan_dir(path, visit);
    }
    bool is_dir(const std::string& path) override { return m_inner->is_dir(path); }
    bool exists(const std::string& path) override { return m_inner->exists(path); }
    std::optional<DirVersion> dir_version(const std::string& path) override {
        return m_inner->dir_version(path);
    }

  private:
    [[noreturn]] static void refuse(const char* what, const std::string& path) {
        throw StoreError(std::string("the store is read-only (dry run): cannot ") + what + " " + path);
    }

    std::shared_ptr<FileSystem> m_inner;
};

}  // namespace

std::shared_ptr<FileSystem> read_only_file_system(std::shared_ptr<FileSystem> inner) {
    return std::make_shared<ReadOnlyFileSystem>(std::move(inner));
}

}  // namespace imapkeep::store
