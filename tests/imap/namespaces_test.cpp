// Client::namespaces() (RFC 2342): the three lists typed, against the shapes
// servers send and hostile ones (NIL, empty lists, extension data, literals,
// data the grammar does not allow).
#include <catch2/catch.hpp>
#include <imapkeep/imap/client.hpp>

#include "imap/scripted_server.hpp"

using namespace imapkeep;
using imapkeep::testing::scripted;

namespace {

imap::NamespaceData ask(const std::string& untagged, const std::string& greeting = "* PREAUTH hi\r\n") {
    imap::Client client(scripted(greeting, {{"NAMESPACE", untagged + "$T OK NAMESPACE done\r\n"}}));
    client.read_greeting();
    return client.namespaces();
}

// "prefix|delimiter" for each namespace of a list, extensions as "+name=v,v".
std::vector<std::string> shown(const std::vector<imap::Namespace>& list) {
    std::vector<std::string> out;
    for (const auto& ns : list) {
        std::string s = ns.prefix + "|" + ns.delimiter;
        for (const auto& [name, values] : ns.extensions) {
            s += " +" + name + "=";
            for (std::size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + values[i];
        }
        out.push_back(s);
    }
    return out;
}

using List = std::vector<std::string>;

}  // namespace

TEST_CASE("NAMESPACE: the three lists, typed, as servers send them", "[imap][namespace]") {
    struct Case {
        const char* who;
        std::string untagged;
        List personal, other, shared;
    };
    const Case cases[] = {
        // RFC 2342 §5's examples.
        {"5.1 one personal", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", {"|/"}, {}, {}},
        {"5.3 all three", "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\"))\r\n",
         {"|/"}, {"~|/"}, {"#shared/|/", "#public/|/"}},
        {"5.8 flat, NIL delimiter", "* NAMESPACE ((\"\" NIL)) NIL NIL\r\n", {"|"}, {}, {}},
        // Courier, Cyrus classic, cPanel's Dovecot; Dovecot's default (the test env's).
        {"INBOX. prefix", "* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"shared.\" \".\"))\r\n",
         {"INBOX.|."}, {"user.|."}, {"shared.|."}},
        {"Dovecot", "* NAMESPACE ((\"\" \"/\")) ((\"shared/\" \"/\")) NIL\r\n", {"|/"}, {"shared/|/"}, {}},
        // Extension data (RFC 2342 §6, RFC 5255 TRANSLATION), a literal prefix,
        // a modified UTF-7 prefix, a lower-case NIL, and "()" for NIL.
        {"extensions",
         "* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\") \"TRANSLATION\" (\"Bo&AO4-te\"))) NIL NIL\r\n",
         {"|/ +X-PARAM=FLAG1,FLAG2 +TRANSLATION=Bo&AO4-te"}, {}, {}},
        {"literal prefix", "* NAMESPACE (({6}\r\nINBOX. \".\")) nil ()\r\n", {"INBOX.|."}, {}, {}},
        {"modified UTF-7", "* NAMESPACE ((\"Entw&APw-rfe/\" \"/\")) NIL NIL\r\n", {"Entw\xC3\xBC" "rfe/|/"}, {}, {}},
        {"empty lists", "* NAMESPACE () () ()\r\n", {}, {}, {}},
        {"all NIL", "* NAMESPACE NIL NIL NIL\r\n", {}, {}, {}},
    };
    for (const auto& c : cases) {
        INFO(c.who);
        const auto data = ask(c.untagged);
        CHECK(shown(data.personal) == c.personal);
        CHECK(shown(data.other_users) == c.other);
        CHECK(shown(data.shared) == c.shared);
    }
}

TEST_CASE("NAMESPACE: data the grammar does not allow fails the command, the connection goes on",
          "[imap][namespace]") {
    const std::string cases[] = {
        "* NAMESPACE ((\"\" \"/\")) NIL\r\n",                     // two lists
        "* NAMESPACE\r\n",                                         // none
        "* NAMESPACE \"INBOX.\" NIL NIL\r\n",                       // a string for a list
        "* NAMESPACE ((\"INBOX.\")) NIL NIL\r\n",                  // no delimiter
        "* NAMESPACE (\"INBOX.\" \".\") NIL NIL\r\n",              // entries not in lists
        "* NAMESPACE ((NIL \"/\")) NIL NIL\r\n",                   // a NIL prefix
        "* NAMESPACE ((\"\" (\"/\"))) NIL NIL\r\n",                // a list for a delimiter
        "* NAMESPACE ((\"\" \"/\" \"X-PARAM\")) NIL NIL\r\n",      // an extension without values
        "* NAMESPACE ((\"\" \"/\" \"X-PARAM\" \"v\")) NIL NIL\r\n",  // values not a list
        "* NAMESPACE ((\"\" \"/\" \"X\" ((\"nested\")))) NIL NIL\r\n",  // a list for a value
    };
    for (const auto& untagged : cases) {
        INFO(untagged);
        imap::Client client(scripted("* PREAUTH hi\r\n", {{"NAMESPACE", untagged + "$T OK NAMESPACE done\r\n"},
                                                          {"NOOP", "$T OK still here\r\n"}}));
        client.read_greeting();
        try {
            client.namespaces();
            FAIL("no error");
        } catch (const imap::Abort&) {
            FAIL("the connection was given up");
        } catch (const imap::CommandFailed& e) {
            CHECK(e.malformed());
        }
        CHECK(client.run("NOOP", {}).ok());
    }
}

TEST_CASE("NAMESPACE: a NO is a CommandFailed; the command is sent as NAMESPACE", "[imap][namespace]") {
    auto log = std::make_shared<std::string>();
    imap::Client client(scripted("* PREAUTH hi\r\n", {{"NAMESPACE", "$T NO not here\r\n"}}, log));
    client.read_greeting();
    CHECK_THROWS_AS(client.namespaces(), imap::CommandFailed);
    CHECK(log->find(" NAMESPACE\r\n") != std::string::npos);
}
