// A command sent and not yet completed (private to the client).
#pragma once

#include <imapkeep/imap/client.hpp>

namespace imapkeep::imap {

struct Client::Pending {
    Tag tag;
    std::string name;  // upper-cased command name
    bool secret = false;
    wire::EncodedCommand encoded;
    std::size_t next_literal = 0;  // literals before this index have been sent
    // Bytes received before the command was written: a tagged reply framed
    // from those cannot answer it (Frame::offset).
    std::uint64_t sent_at = 0;
    UntaggedHandler on_untagged;
    ContinuationHandler on_continue;
    // Kinds of untagged data this command needs (response_kind()): malformed
    // data of these kinds fails the command instead of being skipped.
    std::vector<std::string> needs;
    std::string malformed;  // the first problem with data it needed
};

// Marks a handler of a pending command as running: a connection abandoned
// meanwhile keeps that command's handlers until the outermost call returns,
// instead of destroying a function object that is still executing.
struct Client::HandlerCall {
    explicit HandlerCall(Client& client) : m_client(client) { ++m_client.m_handler_depth; }
    ~HandlerCall() {
        if (--m_client.m_handler_depth == 0) m_client.m_retired.clear();
    }
    HandlerCall(const HandlerCall&) = delete;
    HandlerCall& operator=(const HandlerCall&) = delete;

  private:
    Client& m_client;
};

}  // namespace imapkeep::imap
