// The mbox format: one mboxrd file per mailbox (mboxrd.hpp); an archive of
// one mailbox is published as that one file.
#include "archive/writers.hpp"

#include "archive/label_names.hpp"

#include <imapkeep/archive/headers.hpp>
#include <imapkeep/archive/mboxrd.hpp>
#include <imapkeep/archive/names.hpp>

#include <filesystem>
#include <map>

namespace imapkeep::archive::detail {

namespace {

class MboxWriter : public ArchiveWriter {
public:
    MboxWriter(std::string output, std::string temp) : ArchiveWriter(std::move(output), std::move(temp)) {}

    void add_mailbox(const std::string& mailbox, const std::string& delimiter) override {
        open(mailbox, delimiter);
    }

    AddedMessage add(const ArchiveMessage& m, store::MessageSource& bytes) override {
        auto& out = open(m.mailbox, m.delimiter);
        std::string buf;
        MboxrdEncoder encoder;
        // The "From " line needs the sender, so it is written once the
        // header block has been read, before any of the message.
        auto start = [&](const HeaderSummary& headers) {
            auto sender = bare_address(headers.return_path);
            if (sender.empty()) sender = bare_address(headers.from);
            buf = mbox_from_line(sender, m.internaldate);
            if (m.gmail) encoder.feed(takeout_headers(m.gmail_thread_id, m.gmail_labels), buf);
        };
        auto added = stream_message(
            bytes,
            [&](std::string_view chunk) {
                encoder.feed(chunk, buf);
                out.write(buf);
                buf.clear();
            },
            start);
        encoder.finish(buf);
        out.write(buf);
        return added;
    }

protected:
    void finish_files() override {
        for (auto& [path, file] : m_files) file.close();
    }

    std::optional<std::string> single_file() const override {
        if (m_files.size() != 1) return std::nullopt;
        return m_files.begin()->first;
    }

private:
    OutFile& open(const std::string& mailbox, const std::string& delimiter) {
        auto rel = mailbox_relative_path(mailbox, delimiter) + ".mbox";
        auto it = m_files.find(rel);
        if (it != m_files.end()) return it->second;
        auto path = m_temp + "/" + rel;
        make_dirs(std::filesystem::path(path).parent_path().string());
        return m_files.emplace(rel, OutFile(path, true)).first->second;
    }

    // One open file per mailbox: the exporters add a mailbox's messages together,
    // so in practice one is being written at a time.
    std::map<std::string, OutFile> m_files;
};

}  // namespace

std::unique_ptr<ArchiveWriter> make_mbox_writer(std::string output, std::string temp) {
    return std::make_unique<MboxWriter>(std::move(output), std::move(temp));
}

}  // namespace imapkeep::archive::detail
