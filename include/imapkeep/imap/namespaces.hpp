// NAMESPACE (RFC 2342): where a user's folders, other users' and shared ones
// live on a server, each as a prefix and its hierarchy delimiter. Client::namespaces()
// asks for it; restore reads the personal prefix ("INBOX." on Courier-like
// servers, where nothing can be created outside it).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace imapkeep::wire {
struct Response;
}

namespace imapkeep::imap {

struct Namespace {
    std::string prefix;      // UTF-8, decoded from modified UTF-7 (or UTF-8 when enabled)
    std::string raw_prefix;  // as on the wire
    std::string delimiter;   // "" for NIL: no hierarchy
    // Namespace_Response_Extension: name and values, as sent (RFC 2342 §6;
    // e.g. RFC 5255's "TRANSLATION" ("Boîte"), servers' own).
    std::vector<std::pair<std::string, std::vector<std::string>>> extensions;
};

// The three lists of one NAMESPACE response, in the server's order (the
// first of a list is the one a client uses by default). A NIL list is empty.
struct NamespaceData {
    std::vector<Namespace> personal;
    std::vector<Namespace> other_users;
    std::vector<Namespace> shared;
};

// The three lists of an untagged NAMESPACE response; prefixes as sent
// (prefix == raw_prefix: Client::namespaces() decodes them). Throws
// imap::Error, naming what is wrong, for data the grammar does not allow:
// fewer than three lists, an entry that is not a list of a string and a
// delimiter, a NIL prefix, an extension without its values, a literal that
// went to a sink. An empty list "()" is taken as NIL (servers send it).
NamespaceData parse_namespace_response(const wire::Response& response);

}  // namespace imapkeep::imap
