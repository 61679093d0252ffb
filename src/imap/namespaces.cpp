// NAMESPACE (RFC 2342 §5, grammar §6): the untagged response parsed into
// typed lists, and the command on imap::Client.
#include <imapkeep/imap/client.hpp>
#include <imapkeep/imap/namespaces.hpp>

#include "imap/client_pending.hpp"

namespace imapkeep::imap {

namespace {

using wire::Node;

[[noreturn]] void malformed(const std::string& what) { throw Error("malformed NAMESPACE response: " + what); }

// string, as RFC 3501 §9 has it (quoted or literal); an atom or a number is
// taken too (as_text), NIL and lists are not.
std::string string_of(const Node& n, const char* what) {
    if (n.kind == Node::Kind::Nil || n.kind == Node::Kind::List) malformed(std::string(what) + " is not a string");
    if (n.streamed) malformed(std::string(what) + " went to a literal sink");
    return n.text;
}

// Namespace_Response_Extension = SP string SP "(" string *(SP string) ")"
void parse_extensions(const Node& entry, Namespace& out) {
    for (std::size_t i = 2; i < entry.items.size(); i += 2) {
        if (i + 1 >= entry.items.size()) malformed("an extension without its values");
        const auto& values = entry.items[i + 1];
        if (values.kind != Node::Kind::List) malformed("an extension's values are not a list");
        std::vector<std::string> texts;
        for (const auto& v : values.items) texts.push_back(string_of(v, "an extension value"));
        out.extensions.emplace_back(string_of(entry.items[i], "an extension name"), std::move(texts));
    }
}

// Namespace = nil / "(" 1*( "(" string SP (<"> QUOTED_CHAR <"> / nil)
//             *(Namespace_Response_Extension) ")" ) ")"
std::vector<Namespace> parse_namespace(const Node& n) {
    std::vector<Namespace> out;
    if (n.kind == Node::Kind::Nil) return out;
    if (n.kind != Node::Kind::List) malformed("a namespace list is neither NIL nor a list");
    for (const auto& entry : n.items) {
        if (entry.kind != Node::Kind::List || entry.items.size() < 2)
            malformed("a namespace is not a list of a prefix and a delimiter");
        Namespace ns;
        ns.raw_prefix = string_of(entry.items[0], "a prefix");
        ns.prefix = ns.raw_prefix;
        const auto& delimiter = entry.items[1];
        if (delimiter.kind != Node::Kind::Nil) ns.delimiter = string_of(delimiter, "a delimiter");
        parse_extensions(entry, ns);
        out.push_back(std::move(ns));
    }
    return out;
}

}  // namespace

// Namespace_Response = "*" SP "NAMESPACE" SP Namespace SP Namespace SP Namespace
//   ; personal, other users', shared
NamespaceData parse_namespace_response(const wire::Response& response) {
    if (response.args.size() < 3) malformed("fewer than three namespace lists");
    return {parse_namespace(response.args[0]), parse_namespace(response.args[1]), parse_namespace(response.args[2])};
}

NamespaceData Client::namespaces() {
    NamespaceData data;
    auto c = wait(submit_needing({"NAMESPACE"}, "NAMESPACE", {}, [&](const wire::Response& r, const wire::Frame&) {
        if (r.type != "NAMESPACE") return false;
        data = parse_namespace_response(r);
        return true;
    }));
    expect_ok("NAMESPACE", c);
    for (auto* list : {&data.personal, &data.other_users, &data.shared})
        for (auto& ns : *list) ns.prefix = decode_mailbox(ns.raw_prefix);
    return data;
}

}  // namespace imapkeep::imap
