// The uploads of a batch, in parallel: PendingMessage::finish() queues the
// message's upload, MessageStore::sync_pending() (called once per batch,
// before its commits) runs every queued one at once on a few threads, and
// commit() makes sure its own is done (uploading it itself when no
// sync_pending() did, or one failed). Object-store round trips are latency,
// not work: a batch of small messages costs about one of them, not one each.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/s3/spool_dir.hpp"

namespace imapkeep::store::s3store {

// A finished message whose object may not be in S3 yet.
struct Upload {
    Upload(std::unique_ptr<SpooledMessage> spooled, std::string sha256_hex)
        : spool(std::move(spooled)), sha256(std::move(sha256_hex)) {}
    std::unique_ptr<SpooledMessage> spool;  // finished (closed); unlinked with this
    std::string sha256;
    std::mutex mutex;   // held while it uploads: one upload at a time
    bool done = false;  // the object is in S3 (under mutex)
    // Its gc mark was removed (blob_ledger.hpp's claim) by the batch's one
    // claim: the upload need not claim on its own.
    std::atomic<bool> claimed{false};
};

// Uploads one message unless its object is there; throws on failure.
using Uploader = std::function<void(const Upload&)>;
// Claims the objects of a batch (their SHA-256s) before any is uploaded.
using BatchClaimer = std::function<void(const std::vector<std::string>&)>;

class UploadQueue {
  public:
    // Queued until the next run(); a message discarded before that (its
    // Upload gone) is skipped.
    void add(const std::shared_ptr<Upload>& upload);
    // Uploads every queued message, at most `parallel` at once, and returns
    // once all ended. Throws the first failure after that (the failed ones
    // stay not done: their commit() tries again).
    // `claim_batch` (may be empty) is called once first, with the hashes of
    // the uploads not done yet, which are then `claimed`.
    void run(const Uploader& upload_one, int parallel, const BatchClaimer& claim_batch = {});
    // Returns once `upload` is done: uploaded here, or by another thread
    // (waiting for it while it runs). Throws the failure.
    static void ensure(Upload& upload, const Uploader& upload_one);

  private:
    std::mutex m_mutex;
    std::vector<std::weak_ptr<Upload>> m_queued;
};

}  // namespace imapkeep::store::s3store
