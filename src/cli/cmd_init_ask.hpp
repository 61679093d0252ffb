// init's questions (cmd_init_ask.cpp).
#pragma once

#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "cli/cmd_init.hpp"

namespace imapkeep::cli {

// A value that is missing or wrong: exit 2, the message names the flag.
class InitUsage : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Asker {
  public:
    // Not interactive, or no input: never asks.
    Asker(bool interactive, std::istream* in, std::ostream& out);
    bool interactive() const { return m_interactive; }
    // `given` when set; else asks (an empty answer takes `fallback`); without
    // a terminal takes `fallback`, or throws InitUsage naming `flag`.
    std::string value(const std::string& given, const std::string& question,
                      const std::string& flag, const std::string& fallback = "");
    // Asks; without a terminal returns `fallback`.
    bool yes_no(const std::string& question, bool fallback);

  private:
    std::string answer(const std::string& question, const std::string& fallback);
    bool m_interactive;
    std::istream* m_in;
    std::ostream& m_out;
};

// Every value of the account, from flags, answers and defaults; paths made
// absolute. Throws InitUsage.
InitSettings gather_settings(InitSettings given, Asker& ask);

}  // namespace imapkeep::cli
