// Private to the archive layer: the format writers behind create_archive_writer
// and the file helpers they share.
#pragma once

#include <imapkeep/archive/archive_writer.hpp>
#include <imapkeep/archive/headers.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace imapkeep::archive::detail {

std::unique_ptr<ArchiveWriter> make_mbox_writer(std::string output, std::string temp);
std::unique_ptr<ArchiveWriter> make_maildir_writer(std::string output, std::string temp);
std::unique_ptr<ArchiveWriter> make_eml_writer(std::string output, std::string temp);

// Streams the original bytes of `path` (stored in form `form`) in bounded
// chunks to `sink`, hashing as it goes. Throws ArchiveError.
AddedMessage stream_file(const std::string& path, store::LineEndings form,
                         const std::function<void(std::string_view)>& sink);

// A file opened for writing (mode 0600), closed by the destructor. Throws ArchiveError.
class OutFile {
public:
    OutFile() = default;
    OutFile(const std::string& path, bool append);
    OutFile(OutFile&& other) noexcept;
    OutFile& operator=(OutFile&& other) noexcept;
    ~OutFile();
    void write(std::string_view data);
    void close();
    bool is_open() const { return m_fd >= 0; }

private:
    int m_fd = -1;
    std::string m_path;
};

// mkdir -p with mode 0700. Throws ArchiveError.
void make_dirs(const std::string& path);
// Sets a file's mtime (and atime) to `epoch`; failures are ignored (cosmetic).
void set_mtime(const std::string& path, std::int64_t epoch);
// The header summary of a message file; unreadable -> ArchiveError.
HeaderSummary headers_of(const std::string& path);
// Streams the original bytes of `from` (stored in form `form`) into a new file `to`.
AddedMessage copy_file(const std::string& from, store::LineEndings form, const std::string& to);

}  // namespace imapkeep::archive::detail
