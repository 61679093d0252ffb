// The Maildir++ format: Dovecot's layout, flags in the ":2," suffix.
#include "archive/writers.hpp"

#include "archive/label_names.hpp"

#include <imapkeep/archive/names.hpp>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/message_store.hpp>

#include <cerrno>
#include <cstring>
#include <set>

#include <unistd.h>

namespace imapkeep::archive::detail {

namespace {

class MaildirWriter : public ArchiveWriter {
public:
    MaildirWriter(std::string output, std::string temp) : ArchiveWriter(std::move(output), std::move(temp)) {
        ensure_folder("");
    }

    void add_mailbox(const std::string& mailbox, const std::string& delimiter) override {
        ensure_folder(maildir_folder(mailbox, delimiter));
    }

    AddedMessage add(const ArchiveMessage& m, store::MessageSource& bytes) override {
        auto folder = maildir_folder(m.mailbox, m.delimiter);
        ensure_folder(folder);
        // Unique part from (UIDVALIDITY, UID) only; see names.hpp.
        auto name = message_stem(m.uidvalidity, m.uid) + ".imapkeep:2," + store::maildir_flag_suffix(m.flags);
        auto path = m_temp + "/" + (folder.empty() ? "" : folder + "/") + "cur/" + name;
        auto added = copy_message(bytes, path);
        set_mtime(path, m.internaldate);
        if (m.gmail) add_to_labels(m, folder, name, path);
        return added;
    }

protected:
    void finish_files() override {}

private:
    // The written message, hard-linked into the folder of each of its labels
    // (one link per folder: two labels may name one), as the store's label
    // folders are; the bytes on disk once.
    void add_to_labels(const ArchiveMessage& m, const std::string& own_folder, const std::string& name,
                       const std::string& path) {
        std::set<std::string> done{own_folder};
        for (const auto& label : m.gmail_labels) {
            auto folder = maildir_folder(label_folder_name(label), "/");
            if (!done.insert(folder).second) continue;
            ensure_folder(folder);
            const auto link = m_temp + "/" + (folder.empty() ? "" : folder + "/") + "cur/" + name;
            if (!link_or_copy(path, link)) set_mtime(link, m.internaldate);
        }
    }

    // A file system without hard links (or at the link limit) gets a copy;
    // false then.
    static bool link_or_copy(const std::string& from, const std::string& to) {
        if (::link(from.c_str(), to.c_str()) == 0) return true;
        if (errno != EPERM && errno != EMLINK && errno != EXDEV && errno != ENOTSUP)
            throw ArchiveError("cannot link " + from + " to " + to + ": " + std::strerror(errno));
        try {
            auto written = store::open_file_source(from, store::LineEndings::Wire, from);
            copy_message(*written, to);
        } catch (const store::StoreError& e) {
            throw ArchiveError(e.what());
        }
        return false;
    }

    void ensure_folder(const std::string& folder) {
        if (!m_folders.insert(folder).second) return;
        auto dir = m_temp + (folder.empty() ? "" : "/" + folder);
        for (const char* sub : {"cur", "new", "tmp"}) make_dirs(dir + "/" + sub);
        // Maildir++ marks sub-folders with an empty "maildirfolder" file.
        if (!folder.empty()) OutFile(dir + "/maildirfolder", false).close();
    }

    std::set<std::string> m_folders;
};

}  // namespace

std::unique_ptr<ArchiveWriter> make_maildir_writer(std::string output, std::string temp) {
    return std::make_unique<MaildirWriter>(std::move(output), std::move(temp));
}

}  // namespace imapkeep::archive::detail
