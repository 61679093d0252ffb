// SearchKey (search_key.hpp): keys checked as they are built.
#include <algorithm>
#include <cctype>
#include <imapkeep/imap/search_key.hpp>
#include <stdexcept>

namespace imapkeep::imap {

namespace {

using wire::Arg;

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

Arg checked_atom(const std::string& text, const char* what) {
    if (!wire::is_atom(text))
        throw std::invalid_argument(std::string("not an atom (") + what + "): " + text);
    return Arg::atom(text);
}

// A string value: the encoder sends it quoted, or as a literal when it holds
// 8-bit text; NUL, CR and LF it sends in no form, so they are refused here.
Arg checked_string(const std::string& text) {
    if (text.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
        throw std::invalid_argument("NUL, CR or LF in a search string");
    return Arg::string(text);
}

bool eight_bit(const std::string& text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

void show(const Arg& a, std::string& out) {
    if (a.kind == Arg::Kind::List) {
        out += "(";
        for (std::size_t i = 0; i < a.items.size(); ++i) {
            if (i) out += " ";
            show(a.items[i], out);
        }
        out += ")";
    } else {
        out += a.kind == Arg::Kind::String ? wire::quote(a.value) : a.value;
    }
}

}  // namespace

SearchKey SearchKey::all() { return SearchKey({Arg::atom("ALL")}); }

SearchKey SearchKey::uid(const UidSet& uids) {
    if (uids.empty()) throw std::invalid_argument("UID search of an empty set");
    // sequence-set, written by UidSet: digits, ':', ',' and '*' only.
    return SearchKey({Arg::atom("UID"), Arg::raw(uids.to_string())});
}

SearchKey SearchKey::flag(const std::string& flag) {
    static const char* const kSystem[] = {"ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN"};
    if (flag.starts_with('\\')) {
        const auto name = upper(flag.substr(1));
        for (const char* s : kSystem)
            if (name == s) return SearchKey({Arg::atom(s)});
        throw std::invalid_argument("no search key for the flag " + flag);
    }
    return SearchKey({Arg::atom("KEYWORD"), checked_atom(flag, "keyword")});
}

SearchKey SearchKey::header(const std::string& field, const std::string& value) {
    return SearchKey(
        {Arg::atom("HEADER"), checked_atom(field, "header field name"), checked_string(value)},
        eight_bit(value));
}

SearchKey SearchKey::not_(const SearchKey& key) {
    std::vector<Arg> args{Arg::atom("NOT")};
    add_one(args, key);
    return SearchKey(std::move(args), key.m_8bit);
}

SearchKey SearchKey::or_(const SearchKey& a, const SearchKey& b) {
    std::vector<Arg> args{Arg::atom("OR")};
    add_one(args, a);
    add_one(args, b);
    return SearchKey(std::move(args), a.m_8bit || b.m_8bit);
}

SearchKey SearchKey::all_of(const std::vector<SearchKey>& keys) {
    if (keys.empty()) throw std::invalid_argument("a search of no key");
    if (keys.size() == 1) return keys.front();
    SearchKey out({}, false);
    for (const auto& k : keys) {
        out.m_args.insert(out.m_args.end(), k.m_args.begin(), k.m_args.end());
        out.m_8bit = out.m_8bit || k.m_8bit;
    }
    out.m_single = false;
    return out;
}

void SearchKey::add_one(std::vector<Arg>& out, const SearchKey& key) {
    if (key.m_single)
        out.insert(out.end(), key.m_args.begin(), key.m_args.end());
    else
        out.push_back(Arg::list(key.m_args));
}

std::string SearchKey::to_string() const {
    std::string out;
    for (std::size_t i = 0; i < m_args.size(); ++i) {
        if (i) out += " ";
        show(m_args[i], out);
    }
    return out;
}

}  // namespace imapkeep::imap
