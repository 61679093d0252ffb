// The write floor: the least a durable Maildir writer can do for a corpus.
// For every message file of SOURCE (a Maildir++ tree: each folder holding a
// cur/ or new/), a file of the size a client receives is written (the ",W="
// of Dovecot's file name: CRLF line ends; else the file's size) into DEST/<folder>/tmp/;
// then one sync(), a rename of each into DEST/<folder>/cur/, and an fsync of
// every tmp/ and cur/ directory. DEST must not exist yet and should be on the
// file system of the store being compared with.
//
//   bench_write_floor SOURCE DEST
// prints "files N bytes B".
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Corpus = std::map<fs::path, std::vector<std::uintmax_t>>;  // folder -> file sizes

// Dovecot's Maildir names carry the size with CRLF line ends: ",W=<size>".
std::uintmax_t wire_size(const fs::directory_entry& entry) {
    auto name = entry.path().filename().string();
    auto at = name.find(",W=");
    if (at == std::string::npos) return entry.file_size();
    return std::strtoull(name.c_str() + at + 3, nullptr, 10);
}

Corpus measure(const fs::path& source) {
    Corpus corpus;
    for (const auto& entry : fs::recursive_directory_iterator(source)) {
        if (!entry.is_regular_file()) continue;
        auto dir = entry.path().parent_path();
        if (dir.filename() != "cur" && dir.filename() != "new") continue;
        corpus[fs::relative(dir.parent_path(), source)].push_back(wire_size(entry));
    }
    return corpus;
}

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

void write_file(const fs::path& path, std::uintmax_t size, const std::string& block) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    check(fd >= 0, "open " + path.string());
    while (size > 0) {
        auto n = ::write(fd, block.data(), std::min<std::uintmax_t>(size, block.size()));
        check(n > 0, "write " + path.string());
        size -= static_cast<std::uintmax_t>(n);
    }
    check(::close(fd) == 0, "close " + path.string());
}

void fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(fd >= 0 && ::fsync(fd) == 0, "fsync " + dir.string());
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SOURCE DEST\n", argv[0]);
        return 2;
    }
    const fs::path dest = argv[2];
    if (fs::exists(dest)) throw std::runtime_error(dest.string() + " exists already");
    const Corpus corpus = measure(argv[1]);
    const std::string block(1 << 20, 'x');
    unsigned long long files = 0, bytes = 0;
    for (const auto& [folder, sizes] : corpus) {
        fs::create_directories(dest / folder / "tmp");
        fs::create_directories(dest / folder / "cur");
        for (std::size_t i = 0; i < sizes.size(); ++i)
            write_file(dest / folder / "tmp" / std::to_string(i), sizes[i], block);
        files += sizes.size();
        for (auto s : sizes) bytes += s;
    }
    ::sync();
    for (const auto& [folder, sizes] : corpus) {
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            auto name = std::to_string(i);
            fs::rename(dest / folder / "tmp" / name, dest / folder / "cur" / (name + ":2,S"));
        }
        fsync_dir(dest / folder / "tmp");
        fsync_dir(dest / folder / "cur");
    }
    std::printf("files %llu bytes %llu\n", files, bytes);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_write_floor: %s\n", e.what());
    return 1;
}
