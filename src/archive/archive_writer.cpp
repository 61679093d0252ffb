#include <imapkeep/archive/archive_writer.hpp>
#include <imapkeep/archive/export.hpp>

#include "archive/writers.hpp"

#include <imapkeep/util/files.hpp>
#include <imapkeep/util/sha256.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace imapkeep::archive {

namespace fs = std::filesystem;

std::optional<ArchiveFormat> parse_archive_format(std::string_view name) {
    if (name == "mbox") return ArchiveFormat::Mbox;
    if (name == "maildir") return ArchiveFormat::Maildir;
    if (name == "eml") return ArchiveFormat::Eml;
    return std::nullopt;
}

std::string_view archive_format_name(ArchiveFormat format) {
    switch (format) {
    case ArchiveFormat::Mbox: return "mbox";
    case ArchiveFormat::Maildir: return "maildir";
    case ArchiveFormat::Eml: return "eml";
    }
    return "?";
}

ArchiveWriter::ArchiveWriter(std::string output, std::string temp)
    : m_output(std::move(output)), m_temp(std::move(temp)) {}

ArchiveWriter::~ArchiveWriter() {
    if (m_committed) return;
    std::error_code ec;
    fs::remove_all(m_temp, ec);
}

// rename(2) replaces an empty directory atomically; anything else was refused
// in create_archive_writer, and is refused here again if it appeared since.
void ArchiveWriter::publish_tree() {
    if (::rename(m_temp.c_str(), m_output.c_str()) != 0)
        throw ArchiveError("cannot rename " + m_temp + " to " + m_output + ": " + std::strerror(errno));
}

// link(2), not rename(2): it never replaces a file that appeared at the output
// path since create_archive_writer checked it.
void ArchiveWriter::publish_file(const std::string& file) {
    if (::link(file.c_str(), m_output.c_str()) != 0)
        throw ArchiveError("cannot create " + m_output + ": " + std::strerror(errno));
    std::error_code ec;
    fs::remove_all(m_temp, ec);
}

std::string ArchiveWriter::scratch_dir() {
    auto dir = m_temp + "/.imapkeep-spool";
    detail::make_dirs(dir);
    return dir;
}

void ArchiveWriter::commit() {
    if (m_committed) throw ArchiveError("archive already committed");
    finish_files();
    std::error_code ec;
    fs::remove_all(m_temp + "/.imapkeep-spool", ec);
    // One syncfs for the whole tree instead of an fsync per message file.
    int fd = ::open(m_temp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::syncfs(fd) != 0) {
        int e = errno;
        if (fd >= 0) ::close(fd);
        throw ArchiveError("cannot sync " + m_temp + ": " + std::strerror(e));
    }
    ::close(fd);
    if (auto file = single_file(); file && !fs::is_directory(m_output, ec))
        publish_file(m_temp + "/" + *file);
    else
        publish_tree();
    m_committed = true;
    try {
        util::fsync_parent_dir(m_output);
    } catch (const std::exception&) {
        // The archive is in place; a failed directory fsync only weakens durability.
    }
}

namespace {

fs::path output_path(const std::string& output) {
    if (output.empty()) throw ArchiveError("no output path");
    fs::path out = fs::absolute(output).lexically_normal();
    if (out.filename().empty()) out = out.parent_path();
    return out;
}

}  // namespace

void check_output_path(const std::string& output) {
    const fs::path out = output_path(output);
    std::error_code ec;
    auto st = fs::symlink_status(out, ec);
    if (!ec && fs::exists(st)) {
        if (!fs::is_directory(st) || !fs::is_empty(out, ec))
            throw ArchiveError(out.string() + " already exists (give a new path or an empty directory)");
    }
}

std::unique_ptr<ArchiveWriter> create_archive_writer(ArchiveFormat format, const std::string& output) {
    check_output_path(output);
    const fs::path out = output_path(output);
    detail::make_dirs(out.parent_path().string());
    std::string tmpl = out.string() + ".partial-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        throw ArchiveError("cannot create a temp directory beside " + out.string() + ": " + std::strerror(errno));
    ::chmod(tmpl.c_str(), 0700);
    switch (format) {
    case ArchiveFormat::Mbox: return detail::make_mbox_writer(out.string(), tmpl);
    case ArchiveFormat::Maildir: return detail::make_maildir_writer(out.string(), tmpl);
    case ArchiveFormat::Eml: return detail::make_eml_writer(out.string(), tmpl);
    }
    throw ArchiveError("unknown format");
}

namespace detail {

namespace {

constexpr std::size_t kHeaderLimit = 256 * 1024;

bool has_header_end(std::string_view text) {
    for (auto i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) {
        // An empty line: "\n\n" or "\n\r\n".
        if (i + 1 < text.size() && text[i + 1] == '\n') return true;
        if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return true;
    }
    return false;
}

}  // namespace

AddedMessage stream_message(store::MessageSource& source, const Sink& sink, const HeadersSink& on_headers) {
    AddedMessage result;
    util::Sha256 hash;
    auto pass = [&](std::string_view piece) {
        hash.update(piece);
        result.bytes += piece.size();
        sink(piece);
    };
    try {
        auto piece = source.next();
        if (on_headers) {
            // `held` gets pieces only when the first one does not hold the
            // whole header block; the summary is parsed from `head` either way.
            std::string held;
            std::string_view head = piece;
            while (!piece.empty() && !has_header_end(head) && head.size() < kHeaderLimit) {
                if (held.empty()) held.assign(piece);
                piece = source.next();
                held.append(piece);
                head = held;
            }
            // The same bound however the pieces fell.
            on_headers(parse_header_summary(head.substr(0, kHeaderLimit)));
            if (!held.empty()) {
                pass(held);
                piece = source.next();
            }
        }
        for (; !piece.empty(); piece = source.next()) pass(piece);
    } catch (const store::StoreError& e) {
        throw ArchiveError(e.what());
    }
    result.sha256 = hash.hex_digest();
    return result;
}

OutFile::OutFile(const std::string& path, bool append) : m_path(path) {
    m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    if (m_fd < 0) throw ArchiveError("cannot write " + path + ": " + std::strerror(errno));
}

OutFile::OutFile(OutFile&& other) noexcept : m_fd(other.m_fd), m_path(std::move(other.m_path)) {
    other.m_fd = -1;
}

OutFile& OutFile::operator=(OutFile&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = other.m_fd;
        m_path = std::move(other.m_path);
        other.m_fd = -1;
    }
    return *this;
}

OutFile::~OutFile() {
    if (m_fd >= 0) ::close(m_fd);
}

void OutFile::write(std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(m_fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw ArchiveError("cannot write " + m_path + ": " + std::strerror(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void OutFile::close() {
    if (m_fd < 0) return;
    int rc = ::close(m_fd);
    m_fd = -1;
    if (rc != 0) throw ArchiveError("cannot write " + m_path + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
    if (path.empty()) return;
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw ArchiveError("cannot create " + path + ": " + ec.message());
}

void set_mtime(const std::string& path, std::int64_t epoch) {
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(epoch);
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

AddedMessage copy_message(store::MessageSource& source, const std::string& to, const HeadersSink& on_headers) {
    OutFile out(to, false);
    auto added = stream_message(source, [&](std::string_view chunk) { out.write(chunk); }, on_headers);
    out.close();
    return added;
}

}  // namespace detail

void publish(ArchiveWriter& writer, ExportReport& report) {
    try {
        writer.commit();
        report.output = writer.output();
        report.published = true;
    } catch (const ArchiveError& e) {
        report.error = e.what();
    }
}

}  // namespace imapkeep::archive
