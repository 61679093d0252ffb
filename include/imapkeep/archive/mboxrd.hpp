// mboxrd (the "From " quoting variant of mbox described in
// https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml and by
// qmail's mbox(5)): messages separated by a "From SENDER DATE" line; any line of
// a message matching ^>*From  gets one more ">" so that reading it back is
// exact (remove one ">" from every ^>+From  line).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imapkeep::archive {

// Streams one message into mboxrd form: CRLF (and a lone CR at the end of
// a chunk followed by LF in the next) become LF, and ^>*From  lines are quoted.
// Feed chunks of any size; output is appended to `out`.
class MboxrdEncoder {
public:
    void feed(std::string_view chunk, std::string& out);
    // Flushes held bytes and ends the message so that the next "From " line is
    // preceded by an empty line: adds "\n" if the message did not end with one,
    // then the empty separator line.
    void finish(std::string& out);

private:
    void put(char c, std::string& out);
    void flush_prefix(std::string& out);
    // At the start of a line, the bytes that may still turn out to be ">*From ":
    // a count of '>' (so a long line of them costs no memory) and how much of
    // "From " followed.
    std::uint64_t m_quotes = 0;
    std::size_t m_matched = 0;
    bool m_line_start = true;
    bool m_pending_cr = false;
    bool m_any = false;
    bool m_last_was_newline = false;
};

// "From SENDER Www Mmm dd hh:mm:ss yyyy\n" (asctime layout, UTC). SENDER is the
// bare address (spaces and controls removed), or "MAILER-DAEMON" when empty.
std::string mbox_from_line(std::string_view sender, std::int64_t epoch);

}  // namespace imapkeep::archive
