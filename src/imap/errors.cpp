#include <imapkeep/imap/errors.hpp>

namespace imapkeep::imap {

namespace {
std::string describe(const std::string& command, const Completion& completion) {
    if (!completion.malformed.empty())
        return command + " failed: malformed response from the server: " + completion.malformed;
    std::string message = command + " failed: " + completion.status;
    if (completion.code) message += " [" + completion.code->name + "]";
    if (!completion.text.empty()) message += " " + completion.text;
    return message;
}
}  // namespace

CommandFailed::CommandFailed(std::string command, Completion completion)
    : Error(describe(command, completion)),
      m_command(std::move(command)),
      m_completion(std::move(completion)) {}

}  // namespace imapkeep::imap
