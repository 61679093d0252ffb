// Writers for the three export formats (issue 4 "imapkeep export"). All write
// into a temp directory beside the output path ("PATH.partial-XXXXXX") and
// rename it to PATH in commit(), so a half-written export is never mistaken for
// a whole one. Messages are streamed from a store::MessageSource in bounded
// pieces (64 KiB read at a time): memory stays flat whatever the message size.
//
// Layouts, all relative to PATH:
//   mbox     <mailbox path>.mbox per mailbox, mboxrd, LF line endings; an
//            archive of ONE mailbox is that one file at PATH itself (unless
//            PATH is an existing empty directory: then the directory layout);
//            a Gmail message starts with Takeout's X-GM-THRID and
//            X-Gmail-Labels lines
//   maildir  Maildir++: INBOX at the root, "A/B" in ".A.B/"; each message
//            cur/<uidvalidity>.<uid>.imapkeep:2,<DFRST> with mtime = INTERNALDATE,
//            bytes as the server sent them; a Gmail message also in each of
//            its labels' folders (a hard link, or a copy where none can be made)
//   eml      <mailbox path>/<uidvalidity>.<uid>.eml (bytes as sent) and
//            index.csv: mailbox,uid,date,from,subject,flags,file,labels (a
//            Gmail message's labels as X-Gmail-Labels has them, one field)
// where <mailbox path> is mailbox_relative_path() (names.hpp).
//
// Errors: ArchiveError (output exists and is not an empty directory, I/O).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::store {
class MessageSource;
}

namespace imapkeep::archive {

class ArchiveError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ArchiveFormat { Mbox, Maildir, Eml };
std::optional<ArchiveFormat> parse_archive_format(std::string_view name);
std::string_view archive_format_name(ArchiveFormat format);

// What the writers need to know about one message besides its bytes.
struct ArchiveMessage {
    std::string mailbox;     // UTF-8
    std::string delimiter;   // "" = flat
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::int64_t internaldate = 0;  // epoch seconds
    int internaldate_zone = 0;      // seconds east of UTC
    std::vector<std::string> flags; // without \Recent
    // A Gmail All Mail copy (the catalog has its labels, schema 0008): mbox
    // puts Takeout's "X-GM-THRID" and "X-Gmail-Labels" header lines before
    // its own header; Maildir hard-links it into each label's folder (the
    // mailbox the label stands for: INBOX, "Sent", "Work"). Labels in
    // X-GM-LABELS wire form ("\Inbox", modified UTF-7).
    bool gmail = false;
    std::uint64_t gmail_thread_id = 0;
    std::vector<std::string> gmail_labels{};
};

struct AddedMessage {
    std::uint64_t bytes = 0;  // read from the source
    std::string sha256;       // of those bytes, hex
};

class ArchiveWriter {
public:
    virtual ~ArchiveWriter();  // removes the temp tree unless committed
    // Appends the message whose original bytes `bytes` gives (MessageStore::
    // open_read(), or store::open_file_source() for a spooled body), reading it
    // to the end once; the caller keeps the source. Messages of one mailbox
    // must come together, in the order wanted in the archive (the exporters use
    // UIDVALIDITY, UID). A read error is an ArchiveError.
    virtual AddedMessage add(const ArchiveMessage& message, store::MessageSource& bytes) = 0;
    // Registers a mailbox so that an empty one still appears in the archive.
    virtual void add_mailbox(const std::string& mailbox, const std::string& delimiter) = 0;
    // Finishes the files, fsyncs them and renames the temp directory (or the
    // one file of a single-file archive) to the output path. After that the
    // writer is spent.
    void commit();
    // A scratch directory inside the temp tree (removed before commit), for
    // bodies streamed from a server before they are added.
    std::string scratch_dir();
    const std::string& temp_root() const { return m_temp; }
    const std::string& output() const { return m_output; }

protected:
    ArchiveWriter(std::string output, std::string temp);
    virtual void finish_files() = 0;
    // The file, relative to the temp tree, that is the whole archive, when the
    // format publishes one file rather than a tree (mbox of one mailbox).
    virtual std::optional<std::string> single_file() const { return std::nullopt; }
    std::string m_output;
    std::string m_temp;

private:
    void publish_tree();
    void publish_file(const std::string& file);
    bool m_committed = false;
};

// Throws ArchiveError "PATH already exists (...)" unless `output` is free: it
// does not exist, or is an empty directory. Commands check this first, as a
// usage error, before any work.
void check_output_path(const std::string& output);

// Creates the temp directory. The output must not exist, or be an empty
// directory (check_output_path).
std::unique_ptr<ArchiveWriter> create_archive_writer(ArchiveFormat format, const std::string& output);

struct ExportReport;
// Renames the finished temp tree to the output path and records the outcome in
// `report` (output and published, or the error).
void publish(ArchiveWriter& writer, ExportReport& report);

}  // namespace imapkeep::archive
