#include "cli/trace.hpp"

#include <imapkeep/util/utf8.hpp>

#include <mutex>

namespace imapkeep::cli {

std::function<void(std::string_view)> connection_trace(std::ostream& err, std::string name) {
    static std::mutex lines;
    return [&err, name = std::move(name)](std::string_view line) {
        std::lock_guard lock(lines);
        err << "imapkeep: " << name << ": " << util::printable_utf8(line) << "\n";
    };
}

}  // namespace imapkeep::cli
