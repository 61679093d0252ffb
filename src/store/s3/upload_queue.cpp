#include "store/s3/upload_queue.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>

namespace imapkeep::store::s3store {

namespace {
constexpr std::size_t kPruneAt = 1024;
// One claim for the batch instead of one per upload: a round trip, not N.
void claim_all(const std::vector<std::shared_ptr<Upload>>& uploads,
               const BatchClaimer& claim_batch) {
    std::vector<std::string> hashes;
    for (const auto& upload : uploads)
        if (!upload->claimed) hashes.push_back(upload->sha256);
    if (hashes.empty()) return;
    claim_batch(hashes);
    for (const auto& upload : uploads) upload->claimed = true;
}

}  // namespace

void UploadQueue::add(const std::shared_ptr<Upload>& upload) {
    std::lock_guard lock(m_mutex);
    // A caller that commits without sync_pending() leaves expired entries:
    // drop them now and then, so the queue holds the batch, not the run.
    if (m_queued.size() >= kPruneAt && m_queued.size() % kPruneAt == 0)
        std::erase_if(m_queued, [](const std::weak_ptr<Upload>& u) { return u.expired(); });
    m_queued.push_back(upload);
}

void UploadQueue::ensure(Upload& upload, const Uploader& upload_one) {
    std::lock_guard lock(upload.mutex);
    if (upload.done) return;
    upload_one(upload);
    upload.done = true;
}

void UploadQueue::run(const Uploader& upload_one, int parallel, const BatchClaimer& claim_batch) {
    std::vector<std::weak_ptr<Upload>> queued;
    {
        std::lock_guard lock(m_mutex);
        queued.swap(m_queued);
    }
    std::vector<std::shared_ptr<Upload>> uploads;
    for (auto& weak : queued)
        if (auto upload = weak.lock()) uploads.push_back(std::move(upload));
    if (uploads.empty()) return;
    if (claim_batch) claim_all(uploads, claim_batch);

    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    auto work = [&] {
        for (std::size_t i; (i = next++) < uploads.size();) {
            try {
                ensure(*uploads[i], upload_one);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
            }
        }
    };
    const auto threads = std::min<std::size_t>(std::max(parallel, 1), uploads.size());
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads; ++t) {
        try {
            helpers.emplace_back(work);
        } catch (const std::system_error&) {
            break;  // no more threads now: the ones there do the rest
        }
    }
    work();  // this thread is one of them
    for (auto& helper : helpers) helper.join();
    if (failure) std::rethrow_exception(failure);
}

}  // namespace imapkeep::store::s3store
