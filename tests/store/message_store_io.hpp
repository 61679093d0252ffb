// Writing and reading messages as the sync and restore code does, for the
// message store tests: put() goes begin -> write (odd-sized pieces) -> finish
// -> sync_pending -> commit -> sync_committed and returns the catalog row it
// would record; read_all() checks the MessageSource piece contract on the way.
#pragma once

#include <catch2/catch.hpp>
#include <imapkeep/store/message_store.hpp>
#include <string>
#include <vector>

namespace imapkeep::test {

inline store::MessageRecord put(store::MessageStore& store, const std::string& folder,
                                std::uint32_t uid, const std::string& body,
                                const std::vector<std::string>& flags = {},
                                const std::string& account = "work") {
    auto pending = store.begin(account, folder);
    // Odd-sized pieces, so nothing depends on where the writes were cut.
    for (std::size_t pos = 0; pos < body.size(); pos += 4093)
        pending->write(std::string_view(body).substr(pos, 4093));
    pending->finish();
    store.sync_pending();
    store::MessageRecord row;
    row.uid = uid;
    store::describe_stored(*pending, row);
    row.file = store.commit(*pending, account, folder, uid, 1'700'000'000, flags);
    store.sync_committed();
    return row;
}

// Everything the source gives, checking the piece contract on the way.
inline std::string read_all(store::MessageSource& source) {
    std::string out;
    for (auto piece = source.next(); !piece.empty(); piece = source.next()) {
        CHECK(piece.size() <= 2 * store::kReadChunk);
        out.append(piece);
    }
    CHECK(source.next().empty());  // and stays at the end
    return out;
}

inline std::string read_row(store::MessageStore& store, const store::MessageRecord& row,
                            store::ReadLookup lookup = store::ReadLookup::FollowRenames) {
    auto source = store.open_read(store::message_ref(row), lookup);
    return read_all(*source);
}

}  // namespace imapkeep::test
