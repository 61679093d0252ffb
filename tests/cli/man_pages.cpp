// packaging/man/: imapkeep(1) documents every option the CLI offers, under
// its command, and imapkeep.toml(5) every key the config loader accepts, under
// its table. Both lists come from the code (the --help text of run_app, and
// accepted_config_keys()), so an option or key added without its page fails
// here; and the pages list nothing the code no longer has.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.hpp"
#include "cli/config.hpp"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string man_page(const char* name) {
    return read_file(std::string(IMAPKEEP_SOURCE_DIR) + "/packaging/man/" + name);
}

// What a troff source line reads as: escapes and quotes gone.
std::string plain(std::string line) {
    line = std::regex_replace(line, std::regex(R"(\\f[BIRP])"), "");
    line = std::regex_replace(line, std::regex(R"(\\\(dq)"), "\"");
    line = std::regex_replace(line, std::regex(R"(\\-)"), "-");
    line = std::regex_replace(line, std::regex(R"(\\[&c])"), "");
    line = std::regex_replace(line, std::regex(R"(^\.[A-Z]{1,2}\s*)"), "");  // .B .BR .BI .IR
    line.erase(std::remove(line.begin(), line.end(), '"'), line.end());
    return line;
}

// A page's sections: ".SH NAME" is "NAME", ".SS x" under it is "NAME/x";
// each holds the tags of its .TP (and .TQ) entries, as plain text.
std::map<std::string, std::vector<std::string>> tagged_entries(const std::string& page) {
    std::map<std::string, std::vector<std::string>> sections;
    std::istringstream in(page);
    std::string sh, current;
    bool tag_next = false;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(".SH ", 0) == 0) {
            current = sh = plain(line.substr(4));
            sections[current];
        } else if (line.rfind(".SS ", 0) == 0) {
            current = sh + "/" + plain(line.substr(4));
            sections[current];
        } else if (line == ".TP" || line == ".TQ") {
            tag_next = true;
        } else if (tag_next) {
            sections[current].push_back(plain(line));
            tag_next = false;
        }
    }
    return sections;
}

// "-q, --quiet" -> {"-q", "--quiet"}; "--at TIME" -> {"--at"}.
std::set<std::string> options_in(const std::string& text) {
    std::set<std::string> out;
    std::regex option(R"((^|[\s,])(--?[a-z][a-z0-9-]*))");
    for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it)
        out.insert((*it)[2]);
    return out;
}

std::set<std::string> options_of(const std::vector<std::string>& tags) {
    std::set<std::string> out;
    for (const auto& tag : tags) out.merge(options_in(tag));
    return out;
}

std::string help_of(std::vector<std::string> args) {
    args.insert(args.begin(), "imapkeep");
    args.push_back("--help");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    imapkeep::cli::Io io{out, err, false};
    REQUIRE(imapkeep::cli::run_app(static_cast<int>(argv.size()), argv.data(), {}, io) == 0);
    return out.str();
}

// The lines of a CLI11 help block ("Options:", "Subcommands:") up to the next
// blank line.
std::vector<std::string> help_block(const std::string& help, const std::string& title) {
    std::vector<std::string> lines;
    std::istringstream in(help);
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line == title) {
            inside = true;
        } else if (inside && line.empty()) {
            break;
        } else if (inside) {
            lines.push_back(line);
        }
    }
    return lines;
}

// The options a help text lists: the first column of each option line,
// "-q,--quiet Excludes: --verbose" -> {"-q", "--quiet"}.
std::set<std::string> help_options(const std::string& help) {
    std::set<std::string> out;
    for (const auto& line : help_block(help, "Options:")) {
        std::smatch first;
        if (!std::regex_search(line, first, std::regex(R"(^\s+(-\S+))"))) continue;
        std::string names = first[1];
        out.merge(options_in(std::regex_replace(names, std::regex(","), " ")));
    }
    return out;
}

// The values of "--format TEXT:{mbox,maildir,eml}".
std::set<std::string> help_choices(const std::string& help) {
    std::set<std::string> out;
    std::regex choices(R"(:\{([^}]*)\})");
    for (std::sregex_iterator it(help.begin(), help.end(), choices), end; it != end; ++it) {
        std::stringstream list((*it)[1].str());
        for (std::string choice; std::getline(list, choice, ',');) out.insert(choice);
    }
    return out;
}

std::vector<std::string> help_subcommands(const std::string& help) {
    std::vector<std::string> out;
    for (const auto& line : help_block(help, "Subcommands:")) {
        std::smatch name;
        if (std::regex_search(line, name, std::regex(R"(^  ([a-z][a-z-]*)\s)")))
            out.push_back(name[1]);
    }
    return out;
}

std::set<std::string> words_of(const std::vector<std::string>& tags) {
    std::set<std::string> out;
    for (const auto& tag : tags) out.insert(tag.substr(0, tag.find(' ')));
    return out;
}

// imapkeep.toml(5)'s sections named for tables: "Top-level keys" is the top
// level, "[store]" and "[[account]]" are themselves, "[account.ssh]" too.
std::string table_of_section(const std::string& title) {
    if (title == "Top-level keys") return "";
    return std::regex_replace(title, std::regex(R"([\[\]])"), "");
}

}  // namespace

TEST_CASE("imapkeep(1) documents every command and option that --help shows", "[man]") {
    const auto page = tagged_entries(man_page("imapkeep.1"));
    const std::string top_help = help_of({});
    const std::set<std::string> global = help_options(top_help);
    REQUIRE(global.count("--help"));  // the help parser works

    const std::set<std::string> documented_global = options_of(page.at("OPTIONS"));
    for (const auto& option : global) {
        INFO("imapkeep(1) OPTIONS does not document " << option);
        CHECK(documented_global.count(option));
    }
    for (const auto& option : documented_global) {
        INFO("imapkeep(1) OPTIONS documents " << option << ", which imapkeep --help does not show");
        CHECK(global.count(option));
    }

    const auto subcommands = help_subcommands(top_help);
    REQUIRE(subcommands.size() >= 5);
    std::set<std::string> commands_on_page;
    for (const auto& [title, tags] : page)
        if (title.rfind("COMMANDS/", 0) == 0) commands_on_page.insert(title.substr(9));
    CHECK(commands_on_page == std::set<std::string>(subcommands.begin(), subcommands.end()));

    for (const auto& sub : subcommands) {
        const std::string help = help_of({sub});
        std::set<std::string> options = help_options(help);
        REQUIRE(options.size() > 2);
        auto section = page.find("COMMANDS/" + sub);
        INFO("imapkeep(1) has no .SS " << sub << " under COMMANDS");
        REQUIRE(section != page.end());
        const std::set<std::string> documented = options_of(section->second);
        // An option the top level shows too (--help) is documented once, under OPTIONS.
        for (const auto& option : options) {
            if (global.count(option)) continue;
            INFO("imapkeep(1) does not document " << sub << " " << option);
            CHECK(documented.count(option));
        }
        for (const auto& option : documented) {
            INFO("imapkeep(1) documents " << sub << " " << option
                                          << ", which its --help does not show");
            CHECK(options.count(option));
        }
        // The values of an option with a fixed set (export --format).
        const std::set<std::string> tags = words_of(section->second);
        for (const auto& choice : help_choices(help)) {
            INFO("imapkeep(1) does not document the value " << choice << " under " << sub);
            CHECK(tags.count(choice));
        }
    }
}

TEST_CASE("imapkeep.toml(5) documents every key the config loader accepts, in its table", "[man]") {
    const auto page = tagged_entries(man_page("imapkeep.toml.5"));
    std::map<std::string, std::set<std::string>> documented;
    for (const auto& [title, tags] : page)
        if (title.rfind("DESCRIPTION/", 0) == 0)
            documented[table_of_section(title.substr(12))] = words_of(tags);

    const auto accepted = imapkeep::cli::accepted_config_keys();
    REQUIRE(accepted.size() == 5);
    for (const auto& [table, keys] : accepted) {
        INFO("imapkeep.toml(5) has no section for the table \"" << table << "\"");
        REQUIRE(documented.count(table));
        for (const auto& key : keys) {
            INFO("imapkeep.toml(5) does not document " << (table.empty() ? "" : table + ".")
                                                       << key);
            CHECK(documented[table].count(key));
        }
    }
    for (const auto& [table, keys] : documented) {
        INFO("imapkeep.toml(5) has a section for \"" << table
                                                     << "\", which is not a table of the config");
        REQUIRE(accepted.count(table));
        for (const auto& key : keys) {
            INFO("imapkeep.toml(5) documents " << table << "." << key
                                               << ", which the loader does not accept");
            CHECK(accepted.at(table).count(key));
        }
    }
}

TEST_CASE("the man pages name the version --version prints", "[man]") {
    std::vector<const char*> argv{"imapkeep", "--version"};
    std::ostringstream out, err;
    imapkeep::cli::Io io{out, err, false};
    REQUIRE(imapkeep::cli::run_app(2, argv.data(), {}, io) == 0);
    const std::string version = out.str().substr(0, out.str().find('\n'));  // "imapkeep 0.1.0"
    for (const char* name : {"imapkeep.1", "imapkeep.toml.5"}) {
        std::smatch th;
        const std::string page = man_page(name);
        REQUIRE(std::regex_search(page, th, std::regex(R"((^|\n)\.TH [^\n]*)")));
        INFO(name << ": " << th[0].str());
        CHECK(th[0].str().find("\"" + version + "\"") != std::string::npos);
    }
}

TEST_CASE("the example in imapkeep.toml(5) is a config the loader takes", "[man]") {
    const std::string page = man_page("imapkeep.toml.5");
    std::smatch example;
    REQUIRE(std::regex_search(page, example,
                              std::regex(R"(\.SH EXAMPLE\n\.RS\n\.nf\n([\s\S]*?)\n\.fi)")));
    std::string text = std::regex_replace(example[1].str(), std::regex(R"(\\-)"), "-");
    const auto config = imapkeep::cli::parse_config(text, "/etc/imapkeep/config.toml");
    CHECK(config.accounts.size() == 2);
}
