#include "store/s3/client_pool.hpp"

namespace imapkeep::store::s3store {

ClientPool::ClientPool(s3::S3Config config) : m_config(std::move(config)) {
    m_idle.push_back(std::make_unique<s3::S3Client>(m_config));
}

ClientPool::Lease ClientPool::borrow() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_idle.empty()) {
            auto client = std::move(m_idle.back());
            m_idle.pop_back();
            return Lease(*this, std::move(client));
        }
    }
    // Made outside the lock: other threads need not wait for it.
    return Lease(*this, std::make_unique<s3::S3Client>(m_config));
}

void ClientPool::give_back(std::unique_ptr<s3::S3Client> client) {
    if (!client) return;
    std::lock_guard lock(m_mutex);
    m_idle.push_back(std::move(client));
}

}  // namespace imapkeep::store::s3store
