// How a message file holds the bytes the server sent (its BODY[], the "wire"
// bytes). Mail readers (mutt, notmuch, Dovecot's own Maildir) expect LF line
// endings in Maildir files and show a kept CR as "^M", so a message whose wire
// bytes are PURE CRLF (every LF preceded by CR, every CR followed by LF) is
// stored with LF endings, as Dovecot does. That form is exactly invertible:
// the file has no CR at all, and LF -> CRLF gives back every wire byte.
// Anything else (a bare CR or LF anywhere, or a final lone CR) is stored byte
// for byte. The catalog records which form each file is in; its SHA-256 and
// size are always those of the wire bytes, so they prove the original.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imapkeep::store {

enum class LineEndings {
    Wire,  // the file is the wire bytes (every row written before schema 4)
    Lf,    // the wire bytes were pure CRLF; the file has each CRLF as LF
};

// "wire" | "lf": the catalog's spelling.
std::string_view line_endings_name(LineEndings form);
// nullopt for anything else (a catalog written by a newer imapkeep).
std::optional<LineEndings> parse_line_endings(std::string_view name);

// Decides, chunk by chunk, whether a message's wire bytes are pure CRLF, and
// turns a pure prefix into its LF form. Feed every wire byte to scan(), in
// order, and convert() only what scan() has seen while still pure; or feed
// every byte to append_lf(), which does both.
class CrlfToLf {
  public:
    // Returns pure() after `wire`.
    bool scan(std::string_view wire);
    // No bare CR or LF so far (a CR at the very end may still be followed by LF).
    bool pure() const { return m_pure; }
    // pure() for the whole message: also false when it ends with a lone CR.
    bool pure_at_end() const { return m_pure && !m_last_cr; }
    // How many CRLF pairs were seen: 0 means the LF form equals the wire bytes.
    std::uint64_t pairs() const { return m_pairs; }

    // scan() and convert() in one pass (the store's write path, issue 10):
    // checks `wire` and appends its LF form to `out`. A CR that ends `wire` is
    // held back, not appended, until the next chunk shows its LF (held_cr()).
    // Returns pure(); once false (a bare CR or LF), `out` holds some of this
    // chunk's LF form, which the caller drops.
    bool append_lf(std::string_view wire, std::string& out);
    // A final CR of the bytes so far waits for its LF (append_lf kept it back).
    bool held_cr() const { return m_last_cr; }

    // Appends the LF form of `wire` (pure CRLF, as scanned) to `out`: every CR
    // is dropped, since each is followed by LF, except a CR that ends `wire`,
    // which is not consumed. Returns how many bytes of `wire` were consumed
    // (all, or all but that CR).
    static std::size_t convert(std::string_view wire, std::string& out);

  private:
    bool m_pure = true;
    bool m_last_cr = false;
    std::uint64_t m_pairs = 0;
};

// The inverse for a file stored as LineEndings::Lf: appends `stored` to `out`
// with each LF as CRLF. Stateless, so chunk boundaries do not matter.
void lf_to_crlf(std::string_view stored, std::string& out);

}  // namespace imapkeep::store
