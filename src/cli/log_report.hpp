// What a backup run writes to the run log (log.hpp): per mailbox the line -v
// prints, each error and warning with its account and mailbox, and per
// account its totals. LogTee turns lines written to a stream (the retry
// messages of retry.hpp) into log lines as well.
#pragma once

#include <imapkeep/sync/backup.hpp>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "cli/log.hpp"

namespace imapkeep::cli {

void log_reports(Logger& log, const std::vector<sync::AccountReport>& reports, bool dry_run);

// An ostream that passes text on to `echo` (may be null) and logs each whole
// line at `level` for `account`, without a leading "imapkeep: " or "ACCOUNT: ".
class LogTee : public std::ostream {
  public:
    LogTee(std::ostream* echo, Logger* log, LogLevel level, std::string account);
    ~LogTee() override;

  private:
    class Buffer : public std::streambuf {
      public:
        Buffer(std::ostream* echo, Logger* log, LogLevel level, std::string account);
        void flush_line();

      protected:
        int_type overflow(int_type c) override;

      private:
        std::ostream* m_echo;
        Logger* m_log;
        LogLevel m_level;
        std::string m_account;
        std::string m_line;
    };
    Buffer m_buffer;
};

}  // namespace imapkeep::cli
