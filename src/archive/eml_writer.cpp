// The .eml format: one file per message, one folder per mailbox, index.csv
// (a Gmail copy's labels in its last column, as X-Gmail-Labels has them).
#include "archive/label_names.hpp"
#include "archive/writers.hpp"

#include <imapkeep/archive/csv.hpp>
#include <imapkeep/archive/headers.hpp>
#include <imapkeep/archive/names.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>

namespace imapkeep::archive::detail {

namespace {

// "2024-01-01T10:00:00+02:00": INTERNALDATE in the zone the server gave it.
std::string iso8601_with_zone(std::int64_t epoch, int zone) {
    std::time_t t = static_cast<std::time_t>(epoch + zone);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[80];
    int off = zone < 0 ? -zone : zone;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone < 0 ? '-' : '+',
                  off / 3600, off / 60 % 60);
    return buf;
}

class EmlWriter : public ArchiveWriter {
public:
    EmlWriter(std::string output, std::string temp)
        : ArchiveWriter(std::move(output), std::move(temp)), m_index(m_temp + "/index.csv", false) {
        m_index.write(csv_row({"mailbox", "uid", "date", "from", "subject", "flags", "file", "labels"}));
    }

    void add_mailbox(const std::string& mailbox, const std::string& delimiter) override {
        make_dirs(m_temp + "/" + folder(mailbox, delimiter));
    }

    AddedMessage add(const ArchiveMessage& m, store::MessageSource& bytes) override {
        auto dir = folder(m.mailbox, m.delimiter);
        make_dirs(m_temp + "/" + dir);
        auto rel = dir + "/" + message_stem(m.uidvalidity, m.uid) + ".eml";
        HeaderSummary headers;
        auto added = copy_message(bytes, m_temp + "/" + rel, [&](const HeaderSummary& h) { headers = h; });
        set_mtime(m_temp + "/" + rel, m.internaldate);
        std::string flags;
        for (const auto& f : m.flags) flags += (flags.empty() ? "" : " ") + f;
        m_index.write(csv_row({m.mailbox, std::to_string(m.uid), iso8601_with_zone(m.internaldate, m.internaldate_zone),
                               headers.from, headers.subject, flags, rel, m.gmail ? takeout_labels(m.gmail_labels) : ""}));
        return added;
    }

protected:
    void finish_files() override { m_index.close(); }

private:
    // A top-level mailbox called "index.csv" must not collide with the index.
    static std::string folder(const std::string& mailbox, const std::string& delimiter) {
        auto rel = mailbox_relative_path(mailbox, delimiter);
        if (rel == "index.csv" || rel.starts_with("index.csv/")) rel.replace(0, 9, "index%2Ecsv");
        return rel;
    }

    OutFile m_index;
};

}  // namespace

std::unique_ptr<ArchiveWriter> make_eml_writer(std::string output, std::string temp) {
    return std::make_unique<EmlWriter>(std::move(output), std::move(temp));
}

}  // namespace imapkeep::archive::detail
