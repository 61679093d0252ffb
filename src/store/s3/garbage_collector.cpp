// `imapkeep gc` for the S3 store (s3_gc.hpp): list, look each page up in the
// catalog in three round trips, mark, sweep. The safety argument is
// blob_ledger.hpp's; this file only keeps its order of steps.
#include <chrono>
#include <imapkeep/s3/s3_client.hpp>
#include <imapkeep/store/s3_gc.hpp>
#include <stdexcept>

namespace imapkeep::store {
namespace {

constexpr std::string_view kKeyMark = "s3:";

struct Listed {
    std::string file;  // "s3:blobs/..."
    std::uint64_t size = 0;
    std::int64_t last_modified = 0;
};

// The catalog key of a listed object, "" when it is not a blob key.
std::string catalog_key(const std::string& key, const std::string& prefix) {
    if (key.rfind(prefix, 0) != 0) return "";
    const std::string blob = key.substr(prefix.size());
    const auto slash = blob.rfind('/');
    if (slash == std::string::npos) return "";
    try {
        if (s3_blob_key(blob.substr(slash + 1)) != blob) return "";
    } catch (const std::invalid_argument&) {
        return "";
    }
    return std::string(kKeyMark) + blob;
}

class Collector {
  public:
    Collector(const S3StoreOptions& store, BlobLedger& ledger, const S3GcOptions& options)
        : m_store(store),
          m_prefix(s3_key_prefix(store.prefix)),
          m_ledger(ledger),
          m_options(options),
          m_client(store.client),
          m_now(options.now != 0 ? options.now : system_now()),
          m_cutoff(m_now - options.grace.count()) {}

    S3GcReport run() {
        std::string token;
        do {
            auto page = m_client.list_page(m_store.bucket, m_prefix + "blobs/", token);
            token = page.next_token;
            look_at(page.objects);
        } while (!token.empty());
        // Every listed mark was swept or removed: the old ones left name
        // objects that are gone.
        if (!m_options.dry_run) m_report.forgotten_marks = m_ledger.forget_marks(m_cutoff);
        return m_report;
    }

  private:
    static std::int64_t system_now() {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    void look_at(const std::vector<s3::ListedObject>& objects) {
        std::vector<Listed> page;
        std::vector<std::string> files;
        for (const auto& object : objects) {
            auto file = catalog_key(object.key, m_prefix);
            if (file.empty()) {
                ++m_report.other_keys;
                continue;
            }
            files.push_back(file);
            page.push_back({std::move(file), object.size, object.last_modified});
            ++m_report.objects;
            m_report.bytes += object.size;
        }
        if (page.empty()) return;
        const auto named = m_ledger.referenced(files);
        const auto marks = m_ledger.marks(files);
        std::vector<std::string> to_mark, to_unmark;
        for (const auto& object : page) {
            const auto mark = marks.find(object.file);
            if (named.count(object.file)) {
                ++m_report.referenced;
                if (mark != marks.end()) to_unmark.push_back(object.file);
            } else if (mark == marks.end()) {
                // LastModified 0 (unknown) counts as young: never guess old.
                if (object.last_modified != 0 && object.last_modified <= m_cutoff) {
                    to_mark.push_back(object.file);
                    ++m_report.marked;
                } else {
                    ++m_report.young;
                }
            } else if (mark->second > m_cutoff) {
                ++m_report.waiting;
            } else {
                sweep(object);
            }
        }
        if (m_options.dry_run) return;
        m_ledger.unmark(to_unmark);
        m_ledger.mark(to_mark, m_now);
    }

    void sweep(const Listed& object) {
        const std::string name =
            "s3://" + m_store.bucket + "/" + m_prefix + object.file.substr(kKeyMark.size());
        bool deleted = true;  // a dry run would, by what it saw
        if (m_options.before_sweep) m_options.before_sweep(object.file);
        if (!m_options.dry_run)
            deleted = m_ledger.sweep(object.file, m_cutoff, [&] { delete_object(object.file); });
        if (!deleted) {
            ++m_report.kept_at_sweep;
            return;
        }
        ++m_report.deleted;
        m_report.deleted_bytes += object.size;
        if (m_options.on_delete) m_options.on_delete(name, object.size);
    }

    void delete_object(const std::string& file) {
        if (m_options.before_delete) m_options.before_delete(file);
        const std::string key = m_prefix + file.substr(kKeyMark.size());
        try {
            m_client.delete_object(m_store.bucket, key);
        } catch (const s3::S3Error& e) {
            throw S3StoreError("gc: cannot delete s3://" + m_store.bucket + "/" + key, e);
        }
    }

    const S3StoreOptions& m_store;
    std::string m_prefix;
    BlobLedger& m_ledger;
    const S3GcOptions& m_options;
    s3::S3Client m_client;
    std::int64_t m_now;
    std::int64_t m_cutoff;  // marks and objects at or before this are old enough
    S3GcReport m_report;
};

}  // namespace

S3GcReport collect_s3_garbage(const S3StoreOptions& store, BlobLedger& ledger,
                              const S3GcOptions& options) {
    return Collector(store, ledger, options).run();
}

}  // namespace imapkeep::store
