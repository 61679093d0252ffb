#include "sync/paced_stream.hpp"

namespace imapkeep::sync {

namespace {

class PacedStream : public transport::Stream {
public:
    PacedStream(transport::StreamPtr inner, Pacer& pacer) : m_inner(std::move(inner)), m_pacer(pacer) {}

    std::size_t read_some(std::span<char> buffer) override {
        const std::size_t n = m_inner->read_some(buffer);
        m_pacer.count_bytes(n);
        return n;
    }
    void write_all(std::string_view data) override { m_inner->write_all(data); }
    void close() noexcept override { m_inner->close(); }
    void set_read_timeout(std::optional<std::chrono::milliseconds> timeout) override {
        m_inner->set_read_timeout(timeout);
    }
    std::size_t pending() const override { return m_inner->pending(); }
    int native_handle() const override { return m_inner->native_handle(); }
    std::string describe() const override { return m_inner->describe() + " (paced)"; }

private:
    transport::StreamPtr m_inner;
    Pacer& m_pacer;
};

}  // namespace

transport::StreamPtr paced_stream(transport::StreamPtr inner, Pacer& pacer) {
    return std::make_unique<PacedStream>(std::move(inner), pacer);
}

}  // namespace imapkeep::sync
