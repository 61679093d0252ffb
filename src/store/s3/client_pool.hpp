// S3 clients for a store shared by threads: an S3Client serves one thread at
// a time (one curl handle and its connections), so each call borrows one and
// gives it back. The pool grows to the number of calls in flight at once and
// keeps those clients (and their open connections) for the next calls.
#pragma once

#include <imapkeep/s3/s3_client.hpp>
#include <memory>
#include <mutex>
#include <vector>

namespace imapkeep::store::s3store {

class ClientPool {
  public:
    // Makes one client at once, so a bad endpoint throws here (std::invalid_argument).
    explicit ClientPool(s3::S3Config config);

    // A borrowed client, given back when the lease ends.
    class Lease {
      public:
        Lease(ClientPool& pool, std::unique_ptr<s3::S3Client> client)
            : m_pool(pool), m_client(std::move(client)) {}
        ~Lease() { m_pool.give_back(std::move(m_client)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        s3::S3Client* operator->() const { return m_client.get(); }
        s3::S3Client& operator*() const { return *m_client; }

      private:
        ClientPool& m_pool;
        std::unique_ptr<s3::S3Client> m_client;
    };

    Lease borrow();

  private:
    void give_back(std::unique_ptr<s3::S3Client> client);

    s3::S3Config m_config;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<s3::S3Client>> m_idle;
};

}  // namespace imapkeep::store::s3store
