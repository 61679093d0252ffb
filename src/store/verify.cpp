#include <filesystem>
#include <imapkeep/store/message_reader.hpp>
#include <imapkeep/store/verify.hpp>
#include <map>
#include <optional>
#include <system_error>

#include "store/maildir_names.hpp"

namespace imapkeep::store {
namespace {

// What a file's bytes say about the row: nullopt when they match.
std::optional<std::string> mismatch(const OriginalDigest& digest, const MessageRecord& message) {
    if (digest.size != message.size) return "size";
    if (digest.sha256 != message.sha256) return "corrupt";
    return std::nullopt;
}

VerifyProblem problem(std::string file, std::string kind, Id message_id, std::string actual_file) {
    return {std::move(file), std::move(kind), message_id, std::move(actual_file), ""};
}

// What reading one row's message gave: the digest of its bytes, or why not.
struct StoredRead {
    std::optional<OriginalDigest> digest;
    std::string unreadable;  // the store's error; "" when the message is simply not there
};

// The digest of the bytes the server sent, as the store gives back the
// message of row `message` under the key `file` (exactly there: a moved file
// is reported, not followed). MessageMissing is "not there"; any other
// error (I/O, a remote store's network, a key the store refuses) says
// nothing about that, and is kept apart.
StoredRead digest_stored(MessageStore& messages, const MessageRecord& message,
                         const std::string& file) {
    try {
        auto source =
            messages.open_read({file, message.sha256, message.line_endings}, ReadLookup::Exact);
        return {digest(*source), ""};
    } catch (const MessageMissing&) {
        return {};
    } catch (const StoreError& e) {
        return {std::nullopt, e.what()};
    }
}

VerifyProblem unreadable(const MessageRecord& message, const std::string& file,
                         const StoredRead& read) {
    return {file, "unreadable", message.id, "", read.unreadable};
}

// Rows whose file is not under its cataloged name, by the folder it names
// (TREE/ACCOUNT/FOLDER), so each folder is listed once however many there are.
using MissingByFolder = std::map<std::string, std::vector<MessageRecord>>;

// Where each missing file is now, if a mail reader renamed it.
std::map<std::string, std::string> find_renamed(MessageStore& messages,
                                                const MissingByFolder& missing) {
    std::map<std::string, std::string> found;
    for (const auto& [key, rows] : missing) {
        std::vector<std::string> files;
        for (const auto& m : rows) files.push_back(m.file);
        const StorePath p = parse_store_path(files.front());
        if (p.tree == "mail") {
            for (auto& [file, actual] : messages.renamed_files(p.account, p.folder, files))
                found[file] = actual;
            continue;
        }
        // The attic is no reader's Maildir; a rename there is rare: look per file.
        for (const auto& file : files) {
            const StorePath located = parse_store_path(messages.locate(file));
            if (located.relative() != file && located.tree == p.tree &&
                located.folder == p.folder && base_name(located.name) == base_name(p.name))
                found[file] = located.relative();
        }
    }
    return found;
}

// What locate() goes by: the account, the folder (either tree) and the
// unique part of the name. "" for a path the store refuses.
std::string locate_key(const std::string& file) {
    try {
        const StorePath p = parse_store_path(file);
        return p.account + "/" + p.folder + "/" + std::string(unique_part(p.name));
    } catch (const StoreError&) {
        return "";
    }
}

// Label links by locate_key: the link's file and its message. A key that is
// no store path (S3's "s3:blobs/..." keys: content-addressed, never renamed,
// located or removed by name) has no unique name to share and is left out.
using LinkKeys = std::map<std::string, std::pair<std::string, Id>>;

// Gmail's label links: each must be the copy itself (MessageStore::
// link_state: on Maildir the same inode, not missing and not a second file
// that only looks alike; on S3 a row naming the copy's own object).
void verify_links(Catalog& catalog, MessageStore& messages, const MessageRecord& message,
                  std::vector<VerifyProblem>& problems, LinkKeys& keys) {
    for (const auto& link : catalog.label_links(message.id)) {
        if (auto key = locate_key(link.file); !key.empty())
            keys.emplace(key, std::make_pair(link.file, message.id));
        switch (messages.link_state(link.file, message.file)) {
            case LinkState::Copy:
                break;
            case LinkState::Missing:
                problems.push_back(problem(link.file, "link missing", message.id, ""));
                break;
            case LinkState::Other:
                problems.push_back(problem(link.file, "link not the copy", message.id, message.file));
                break;
        }
    }
}

// Rows whose file shares its unique name with another message's label link
// in the same folder (a store converted by the older Gmail adoption, which
// named All Mail's copy, and so its links, after the label file): a step
// replayed after a kill looks one up by that name (MessageStore::locate) and
// can take the other. Asks the catalog for the rows again only when the
// account has label links.
void find_shared_names(Catalog& catalog, Id account_id, const LinkKeys& links,
                       std::vector<VerifyProblem>& problems) {
    if (links.empty()) return;
    for (const auto& mailbox : catalog.mailboxes(account_id, true))
        for (const auto& message : catalog.all_messages(mailbox.id)) {
            const auto key = locate_key(message.file);
            if (key.empty()) continue;
            auto it = links.find(key);
            if (it != links.end() && it->second.second != message.id)
                problems.push_back(
                    problem(message.file, "name shared", message.id, it->second.first));
        }
}

}  // namespace

std::vector<VerifyProblem> verify_files(Catalog& catalog, MessageStore& messages, Id account_id) {
    std::vector<VerifyProblem> problems;
    MissingByFolder missing;
    LinkKeys links;
    for (const auto& mailbox : catalog.mailboxes(account_id, true)) {
        for (const auto& message : catalog.all_messages(mailbox.id)) {
            const auto read = digest_stored(messages, message, message.file);
            if (!read.unreadable.empty()) {
                problems.push_back(unreadable(message, message.file, read));
                continue;
            }
            const auto& found = read.digest;
            if (found && !message.expunged_at)
                verify_links(catalog, messages, message, problems, links);
            if (found) {
                if (auto kind = mismatch(*found, message))
                    problems.push_back(problem(message.file, *kind, message.id, ""));
                continue;
            }
            try {
                const StorePath p = parse_store_path(message.file);
                missing[p.tree + "/" + p.account + "/" + p.folder].push_back(message);
            } catch (const StoreError&) {
                problems.push_back(problem(message.file, "missing", message.id, ""));
            }
        }
    }
    const auto renamed = find_renamed(messages, missing);
    for (const auto& [key, rows] : missing) {
        for (const auto& message : rows) {
            auto it = renamed.find(message.file);
            const auto read =
                it == renamed.end() ? StoredRead{} : digest_stored(messages, message, it->second);
            const auto& found = read.digest;
            if (!read.unreadable.empty())
                problems.push_back(unreadable(message, it->second, read));
            else if (!found)
                problems.push_back(problem(message.file, "missing", message.id, ""));
            else
                problems.push_back(problem(message.file,
                                           mismatch(*found, message).value_or("renamed"),
                                           message.id, it->second));
        }
    }
    find_shared_names(catalog, account_id, links, problems);
    return problems;
}

}  // namespace imapkeep::store
