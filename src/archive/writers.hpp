// Private to the archive layer: the format writers behind create_archive_writer
// and the file helpers they share.
#pragma once

#include <imapkeep/archive/archive_writer.hpp>
#include <imapkeep/archive/headers.hpp>
#include <imapkeep/store/message_source.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace imapkeep::archive::detail {

std::unique_ptr<ArchiveWriter> make_mbox_writer(std::string output, std::string temp);
std::unique_ptr<ArchiveWriter> make_maildir_writer(std::string output, std::string temp);
std::unique_ptr<ArchiveWriter> make_eml_writer(std::string output, std::string temp);

using Sink = std::function<void(std::string_view)>;
using HeadersSink = std::function<void(const HeaderSummary&)>;

// Streams the rest of `source` (a message's original bytes) to `sink` in
// bounded pieces, hashing as it goes. When `on_headers` is set it gets the
// message's header summary first, before a byte reaches `sink`: parsed from
// the first piece where the header block ends there (the usual case), else
// from the pieces held until it ends (256 KiB at most). Throws ArchiveError
// (a read error too) and whatever the callbacks throw.
AddedMessage stream_message(store::MessageSource& source, const Sink& sink, const HeadersSink& on_headers = {});

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
// stream_message() of `source` into a new file `to`.
AddedMessage copy_message(store::MessageSource& source, const std::string& to, const HeadersSink& on_headers = {});

}  // namespace imapkeep::archive::detail
