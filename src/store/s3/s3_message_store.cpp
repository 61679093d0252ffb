// The S3 content-addressed MessageStore (s3_message_store.hpp): spool and
// hash while receiving, upload on commit unless the object is already there,
// read back through a bounded buffer. Everything Maildir-specific is a no-op
// here, as the header explains.
#include <imapkeep/store/s3_message_store.hpp>
#include <imapkeep/util/sha256.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

#include "store/maildir_names.hpp"
#include "store/s3/client_pool.hpp"
#include "store/s3/object_source.hpp"
#include "store/s3/spool_dir.hpp"
#include "store/s3/spool_file.hpp"
#include "store/s3/upload_queue.hpp"

namespace imapkeep::store {
namespace {

using s3store::ClientPool;
using s3store::ObjectSource;
using s3store::SpoolDir;
using s3store::SpooledMessage;
using s3store::Upload;
using s3store::UploadQueue;

constexpr std::string_view kKeyMark = "s3:";
// What folder stamps say here: nothing outside imapkeep changes a folder.
constexpr const char* kStamp = "s3:content-addressed";

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

class S3Pending final : public PendingMessage {
  public:
    S3Pending(std::string spool_file, UploadQueue& uploads)
        : m_spool(std::make_unique<SpooledMessage>(std::move(spool_file))), m_uploads(uploads) {}

    void write(std::string_view chunk) override {
        if (m_state != State::Writing) throw StoreError("write() after finish()");
        m_hash.update(chunk);
        m_spool->write(chunk);
        m_size += chunk.size();
    }
    std::uint64_t size() const override { return m_size; }
    std::string sha256_hex() const override {
        if (m_state == State::Writing) throw StoreError("sha256_hex() before finish()");
        return m_digest;
    }
    // The object is the wire bytes, always.
    LineEndings line_endings() const override {
        if (m_state == State::Writing) throw StoreError("line_endings() before finish()");
        return LineEndings::Wire;
    }
    // The catalog keeps INTERNALDATE; an object has no date of its own to set.
    void set_internaldate(std::int64_t) override {
        if (m_state != State::Writing) throw StoreError("set_internaldate() after finish()");
    }
    // Queues the upload for the batch's sync_pending().
    void finish() override {
        if (m_state != State::Writing) throw StoreError("finish() called twice");
        m_spool->finish();
        m_digest = m_hash.hex_digest();
        m_upload = std::make_shared<Upload>(std::move(m_spool), m_digest);
        m_uploads.add(m_upload);
        m_state = State::Finished;
    }
    // The spool file goes with the last owner (a queued upload already
    // running finishes: an object no row names, like gc's others).
    void discard() noexcept override {
        if (m_state == State::Committed) return;
        m_spool.reset();
        m_upload.reset();
        m_state = State::Discarded;
    }

    // For commit(): the finished message's upload.
    Upload& finished_upload() const {
        if (m_state != State::Finished) throw StoreError("commit() of a message not finished");
        return *m_upload;
    }
    void committed() {
        m_upload.reset();
        m_state = State::Committed;
    }

  private:
    enum class State { Writing, Finished, Committed, Discarded };
    std::unique_ptr<SpooledMessage> m_spool;  // while writing
    UploadQueue& m_uploads;
    std::shared_ptr<Upload> m_upload;  // once finished
    util::Sha256 m_hash;
    std::uint64_t m_size = 0;
    std::string m_digest;
    State m_state = State::Writing;
};

class S3MessageStore final : public MessageStore {
  public:
    explicit S3MessageStore(const S3StoreOptions& options)
        : m_bucket(options.bucket),
          m_prefix(s3_key_prefix(options.prefix)),
          m_spool_dir(options.spool_dir),
          m_read_only(options.read_only),
          m_parallel_uploads(options.parallel_uploads),
          m_claims(options.claims),
          m_root("s3://" + m_bucket + "/" + m_prefix),
          m_clients(options.client) {
        if (m_spool_dir.empty()) throw std::invalid_argument("S3 store: no spool directory");
        if (m_read_only) return;  // a dry run creates nothing
        m_spool = std::make_unique<SpoolDir>(m_spool_dir);
    }

    std::string folder_for(const std::string& mailbox, const std::string& delimiter) override {
        // The catalog's folder names, the same as the Maildir store's.
        return folder_for_mailbox(mailbox, delimiter);
    }

    std::unique_ptr<PendingMessage> begin(const std::string&, const std::string&) override {
        refuse_if_read_only("begin");
        return std::make_unique<S3Pending>(m_spool->new_file(), m_uploads);
    }
    // Uploads the batch: every message finished so far, by any thread.
    void sync_pending() override {
        s3store::BatchClaimer claim_batch;
        if (m_claims)
            claim_batch = [this](const std::vector<std::string>& hashes) {
                std::vector<std::string> files;
                for (const auto& sha256 : hashes) files.push_back(catalog_key(sha256));
                claim(files);
            };
        m_uploads.run(uploader(), m_parallel_uploads, claim_batch);
    }

    std::string commit(PendingMessage& message, const std::string&, const std::string&,
                       std::uint32_t, std::int64_t, const std::vector<std::string>&) override {
        refuse_if_read_only("commit");
        auto* pending = dynamic_cast<S3Pending*>(&message);
        if (!pending) throw StoreError("commit() of a message another store began");
        UploadQueue::ensure(pending->finished_upload(), uploader());
        pending->committed();
        return catalog_key(pending->sha256_hex());
    }
    void sync_committed() override {}

    std::unique_ptr<MessageSource> open_read(const MessageRef& message, ReadLookup) override {
        const std::string blob = blob_of(message);
        auto source = std::make_unique<ObjectSource>(m_spool_dir, std::string(message.file));
        try {
            auto client = m_clients.borrow();
            client->get_object(m_bucket, m_prefix + blob,
                               [&](std::string_view bytes) { source->append(bytes); });
        } catch (const s3::S3Error& e) {
            // A missing bucket is a setup error, not a finding about one message.
            if (e.http_status() == 404 && e.code() != "NoSuchBucket")
                throw MessageMissing("no object " + absolute_key(blob));
            throw S3StoreError("cannot read " + absolute_key(blob), e);
        }
        source->finish();
        return source;
    }

    // Flags, folders, the attic and UIDs are the catalog's: the object stays.
    std::string set_flags(const std::string& file, const std::vector<std::string>&) override {
        return file;
    }
    std::string move_to_attic(const std::string& file) override { return file; }
    std::string move_to_folder(const std::string& file, const std::string&,
                               const std::string&) override {
        return file;
    }
    std::string link_into_folder(const std::string& file, const std::string&,
                                 const std::string&) override {
        return file;
    }
    std::string link_as_new(const std::string& file, const std::string&, const std::string&,
                            std::uint32_t, const std::vector<std::string>&) override {
        return file;
    }
    std::string link_under_new_name(const std::string& file) override { return file; }
    // Other rows may hold the same bytes: garbage collection removes objects
    // no row references.
    void remove(const std::string&) override {}
    std::string locate(const std::string& file) override { return file; }
    std::string path_in_folder(const std::string& file, const std::string&,
                               const std::string&) const override {
        return file;
    }
    void rename_folder(const std::string&, const std::string&, const std::string&) override {}
    bool remove_folder(const std::string&, const std::string&) override { return true; }
    void create_folder(const std::string&, const std::string&) override {}

    // Nobody renames objects behind imapkeep's back: nothing to find.
    std::vector<std::pair<std::string, std::string>> renamed_files(
        const std::string&, const std::string&, const std::vector<std::string>&) override {
        return {};
    }
    FolderFiles folder_files(const std::string&, const std::string&) override {
        FolderFiles none;
        none.seal();
        return none;
    }
    std::size_t remove_unknown_files(const std::string&, const std::string&,
                                     const std::vector<std::string>&) override {
        return 0;
    }
    std::string set_uid(const std::string& file, std::uint32_t) override { return file; }
    std::string absolute(const std::string& file) const override {
        if (file.rfind(kKeyMark, 0) != 0) return file;
        return absolute_key(file.substr(kKeyMark.size()));
    }
    // Kept until its object is uploaded again (upload_unless_there); a key
    // that is not this store's names no object to write again.
    void distrust(const MessageRef& message) override {
        std::string blob;
        try {
            blob = blob_of(message);
        } catch (const StoreError&) {
            return;
        }
        std::lock_guard lock(m_distrusted_mutex);
        m_distrusted.insert(blob);
    }
    // A label link is a catalog row naming the copy's own key (link_into_folder
    // makes nothing): any other key names no copy of this message.
    LinkState link_state(const std::string& link, const std::string& file) const override {
        return link == file ? LinkState::Copy : LinkState::Other;
    }
    // The spool directories of killed runs (also done at open).
    std::size_t clean_tmp(const std::string&) override {
        return m_spool ? m_spool->clean_stale() : 0;
    }
    std::size_t clean_folder_tmp(const std::string&, const std::string&) override { return 0; }
    std::string folder_stamp(const std::string&, const std::string&) override { return kStamp; }
    std::string folder_stamp_after_writes(const std::string&, const std::string&) override {
        return kStamp;
    }
    bool folder_unchanged(const std::string&, const std::string&,
                          const std::string& stamp) override {
        return stamp == kStamp;
    }
    const std::string& root() const override { return m_root; }

  private:
    void refuse_if_read_only(const char* what) const {
        if (m_read_only) throw StoreError(std::string(what) + "() on a read-only (dry run) store");
    }

    std::string absolute_key(const std::string& blob) const { return m_root + blob; }

    // The blob key a row names: its SHA-256's, which the key must agree with.
    std::string blob_of(const MessageRef& message) const {
        const std::string_view file = message.file;
        if (file.rfind(kKeyMark, 0) != 0)
            throw StoreError("not a key of the S3 store: " + std::string(file));
        const std::string blob(file.substr(kKeyMark.size()));
        const std::string sha =
            message.sha256.empty() ? blob.substr(blob.rfind('/') + 1) : std::string(message.sha256);
        std::string expected;
        try {
            expected = s3_blob_key(sha);
        } catch (const std::invalid_argument&) {
            throw StoreError("not a key of the S3 store: " + std::string(file));
        }
        if (expected != blob)
            throw StoreError("the key " + std::string(file) + " does not name the SHA-256 " + sha +
                             " of its row");
        return blob;
    }

    static std::string catalog_key(const std::string& sha256) {
        return std::string(kKeyMark) + s3_blob_key(sha256);
    }

    // blob_ledger.hpp's w1: before the HEAD that may find the object there.
    // Its StoreError goes on as it is (a lock_timeout while a gc sweep holds
    // the key fails the message; the next run tries again).
    void claim(const std::vector<std::string>& files) { m_claims->claim(files); }

    s3store::Uploader uploader() {
        return [this](const Upload& upload) {
            if (m_claims && !upload.claimed) claim({catalog_key(upload.sha256)});
            upload_unless_there(s3_blob_key(upload.sha256), upload.spool->path(), upload.sha256);
        };
    }

    // Invariant 1: returns only once the object is in S3.
    void upload_unless_there(const std::string& blob, const std::string& spooled,
                             const std::string& sha256) {
        const std::string key = m_prefix + blob;
        try {
            auto client = m_clients.borrow();
            // Same key, same hash: the same bytes unless the object was cut
            // short some other way; a size that differs is uploaded again.
            std::optional<s3::FileSource> body;
            try {
                body.emplace(spooled);
            } catch (const std::system_error& e) {
                throw StoreError(std::string("cannot read a spool file: ") + e.what());
            }
            if (!distrusted(blob)) {
                const auto there = client->head_object(m_bucket, key);
                if (there && there->size == body->size()) return;
            }
            client->put_object(m_bucket, key, *body, sha256);
            std::lock_guard lock(m_distrusted_mutex);
            m_distrusted.erase(blob);
        } catch (const s3::S3Error& e) {
            throw S3StoreError("cannot store " + absolute_key(blob), e);
        }
    }

    bool distrusted(const std::string& blob) {
        std::lock_guard lock(m_distrusted_mutex);
        return m_distrusted.count(blob) > 0;
    }

    std::string m_bucket;
    std::string m_prefix;
    std::string m_spool_dir;
    bool m_read_only;
    int m_parallel_uploads;
    std::shared_ptr<BlobClaims> m_claims;  // null: no gc protocol
    std::string m_root;
    ClientPool m_clients;
    std::unique_ptr<SpoolDir> m_spool;  // null in a read-only store
    UploadQueue m_uploads;
    std::mutex m_distrusted_mutex;
    std::set<std::string> m_distrusted;  // blob keys whose object verify found damaged
};

}  // namespace

std::string s3_key_prefix(std::string prefix) {
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    return prefix;
}

std::string s3_blob_key(const std::string& sha256) {
    if (!is_sha256_hex(sha256)) throw std::invalid_argument("not a SHA-256: " + sha256);
    return "blobs/" + sha256.substr(0, 2) + "/" + sha256.substr(2, 2) + "/" + sha256;
}

std::unique_ptr<MessageStore> open_s3_message_store(const S3StoreOptions& options) {
    return std::make_unique<S3MessageStore>(options);
}

}  // namespace imapkeep::store
