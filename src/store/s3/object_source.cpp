#include "store/s3/object_source.hpp"

#include <algorithm>

namespace imapkeep::store::s3store {

void ObjectSource::append(std::string_view bytes) {
    if (!m_spool && m_memory.size() + bytes.size() <= kSpillAt) {
        m_memory.append(bytes);
        return;
    }
    if (!m_spool) {
        m_spool = std::make_unique<SpoolFile>(m_spool_dir);
        m_spool->write(m_memory);
        std::string().swap(m_memory);  // give the memory back now
    }
    m_spool->write(bytes);
}

void ObjectSource::finish() {
    if (!m_spool) return;
    m_spool->flush();
    m_buffer.reset(new char[kReadChunk]);
}

std::string_view ObjectSource::next() {
    if (!m_spool) {
        const std::size_t at =
            static_cast<std::size_t>(std::min<std::uint64_t>(m_position, m_memory.size()));
        const std::size_t n = std::min(kReadChunk, m_memory.size() - at);
        m_position += n;
        return std::string_view(m_memory).substr(at, n);
    }
    const std::size_t n = m_spool->read_at(m_position, m_buffer.get(), kReadChunk);
    m_position += n;
    return {m_buffer.get(), n};
}

}  // namespace imapkeep::store::s3store
