// The Maildir++ format: Dovecot's layout, flags in the ":2," suffix.
#include "archive/writers.hpp"

#include <imapkeep/archive/names.hpp>
#include <imapkeep/store/message_store.hpp>

#include <set>

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

    AddedMessage add(const ArchiveMessage& m, const std::string& file) override {
        auto folder = maildir_folder(m.mailbox, m.delimiter);
        ensure_folder(folder);
        // Unique part from (UIDVALIDITY, UID) only; see names.hpp.
        auto name = message_stem(m.uidvalidity, m.uid) + ".imapkeep:2," + store::maildir_flag_suffix(m.flags);
        auto path = m_temp + "/" + (folder.empty() ? "" : folder + "/") + "cur/" + name;
        auto added = copy_file(file, m.line_endings, path);
        set_mtime(path, m.internaldate);
        return added;
    }

protected:
    void finish_files() override {}

private:
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
