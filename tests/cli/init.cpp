// imapkeep init without a server: the questions and their flags, the config
// it writes (it must load with the real loader), refusing to overwrite, the
// timer offer and its fallbacks. Against the test Dovecot:
// tests/integration/init_test.cpp.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "cli/cli_fixture.hpp"
#include "cli/cmd_init.hpp"

using namespace imapkeep::cli;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct InitRun {
    int code = -1;
    std::string out, err;
    std::vector<std::vector<std::string>> commands;  // what would have run
};

class InitFixture {
  public:
    InitFixture() {
        std::string templ =
            (std::filesystem::temp_directory_path() / "imapkeep-init-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
        output = (dir / "conf" / "new.toml").string();
    }
    ~InitFixture() { std::filesystem::remove_all(dir); }

    // Every value given: nothing to ask. The host does not resolve, so the
    // connection fails (exit 3) unless the test says otherwise.
    InitArgs scripted() const {
        InitArgs a;
        a.settings.host = "imap.invalid";
        a.settings.security = "tls";
        a.settings.port = 993;
        a.settings.name = "me@example.com";
        a.settings.user = "me@example.com";
        a.settings.password_command = "echo secret-pw";
        a.settings.store = (dir / "store").string();
        a.output = output;
        return a;
    }

    InitRun run(InitArgs args, const std::string& answers = "", int systemctl_status = 0) {
        std::istringstream in(answers);
        if (!answers.empty()) {
            args.interactive = true;
            args.in = &in;
        }
        InitRun r;
        args.run_command = [&](const std::vector<std::string>& argv) {
            r.commands.push_back(argv);
            return systemctl_status;
        };
        std::ostringstream out, err;
        Io io{out, err, false};
        r.code = run_init(args, io);
        r.out = out.str();
        r.err = err.str();
        return r;
    }

    std::filesystem::path dir;
    std::string output;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("init: the config it renders loads with the real loader, every key commented", "[init]") {
    struct Row {
        InitSettings s;
        std::string tls;
        int port;
    };
    InitSettings base;
    base.host = "imap.example.com";
    base.user = "me@example.com";
    base.password_command = "pass show \"mail\" \\ work";
    base.store = "/srv/mail backup";
    base.name = "work";
    InitSettings starttls = base;
    starttls.security = "starttls";
    starttls.ca_file = "/etc/ssl/my ca.pem";
    InitSettings plain = base;
    plain.security = "none";
    plain.host = "127.0.0.1";
    plain.port = 1143;
    plain.password_command.clear();
    plain.password_file = "/home/me/.pw";
    const Row rows[] = {
        {base, "implicit", 993}, {starttls, "starttls", 143}, {plain, "none", 1143}};
    for (const auto& row : rows) {
        const std::string text = render_init_config(row.s);
        INFO(text);
        Config c = parse_config(text, "/tmp/x.toml");
        REQUIRE(c.accounts.size() == 1);
        const auto& a = c.accounts[0];
        CHECK(a.name == "work");
        CHECK(a.connect.host == row.s.host);
        CHECK(a.connect.user == "me@example.com");
        CHECK(a.connect.port == row.port);
        CHECK(c.store_path == row.s.store);
        CHECK(a.connect.tls_options.ca_file == row.s.ca_file);
        CHECK(a.connect.allow_plaintext_auth == (row.tls == "none"));
        CHECK(contains(text, "tls = \"" + row.tls + "\""));
        CHECK_FALSE(contains(text, "secret"));
        // Each key line follows a comment line that explains it.
        std::istringstream lines(text);
        std::string line, previous;
        while (std::getline(lines, line)) {
            if (!line.empty() && line[0] != '#' && line[0] != '[') {
                INFO(line);
                CHECK((previous.rfind("#", 0) == 0 || previous.find(" = ") != std::string::npos));
            }
            previous = line;
        }
    }
}

TEST_CASE("init: TOML strings are escaped", "[init]") {
    const std::pair<std::string, std::string> rows[] = {{"plain", "\"plain\""},
                                                        {"a\"b", "\"a\\\"b\""},
                                                        {"a\\b", "\"a\\\\b\""},
                                                        {"a\nb", "\"a\\u000ab\""},
                                                        {"é", "\"é\""}};
    for (const auto& [in, out] : rows) CHECK(toml_string(in) == out);
}

TEST_CASE("init: the timer instance is NAME of $XDG_CONFIG_HOME/imapkeep/NAME.toml only",
          "[init]") {
    InitFixture fx;
    ::setenv("XDG_CONFIG_HOME", fx.dir.c_str(), 1);
    const std::string base = (fx.dir / "imapkeep").string();
    const std::pair<std::string, std::optional<std::string>> rows[] = {
        {base + "/config.toml", "config"},         {base + "/work.toml", "work"},
        {base + "/../imapkeep/home.toml", "home"}, {base + "/work.conf", std::nullopt},
        {base + "/sub/work.toml", std::nullopt},   {"/etc/imapkeep/work.toml", std::nullopt},
        {base + "/my work.toml", std::nullopt},
    };
    for (const auto& [path, instance] : rows) {
        INFO(path);
        CHECK(timer_instance(path) == instance);
    }
    ::unsetenv("XDG_CONFIG_HOME");
}

TEST_CASE("init: the cron line quotes the config path", "[init]") {
    CHECK(cron_line("/home/me/it's.toml") ==
          "17 * * * *  imapkeep --config '/home/me/it'\\''s.toml' backup -q");
}

TEST_CASE("init without a terminal: a missing value is a usage error naming its flag", "[init]") {
    InitFixture fx;
    struct Row {
        std::function<void(InitArgs&)> change;
        std::string message;
    };
    const Row rows[] = {
        {[](InitArgs& a) { a.settings.host.clear(); }, "--host is required"},
        {[](InitArgs& a) { a.settings.user.clear(); }, "--user is required"},
        {[](InitArgs& a) { a.settings.password_command.clear(); },
         "--password-command or --password-file is required"},
        {[](InitArgs& a) { a.settings.password_file = "/x"; }, "give one of them"},
        {[](InitArgs& a) { a.settings.security = "none"; }, "only for a loopback host"},
        {[](InitArgs& a) { a.settings.name = ".hidden"; }, "account.name: must be letters"},
        {[&](InitArgs& a) {
             a.settings.password_command.clear();
             a.settings.password_file = (fx.dir / "missing.pw").string();
         },
         "missing.pw (the password of account"},
    };
    for (const auto& row : rows) {
        InitArgs args = fx.scripted();
        row.change(args);
        auto r = fx.run(args);
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(contains(r.err, row.message));
        CHECK_FALSE(std::filesystem::exists(fx.output));
    }
}

TEST_CASE("init without a terminal: a failed connection exits 3 and writes nothing", "[init]") {
    InitFixture fx;
    auto r = fx.run(fx.scripted());
    INFO(r.out << r.err);
    CHECK(r.code == 3);
    CHECK(contains(r.err, "imapkeep init: cannot connect: imap.invalid:993: "));
    CHECK_FALSE(std::filesystem::exists(fx.output));
    CHECK_FALSE(std::filesystem::exists(fx.dir / "store"));
}

TEST_CASE("init refuses to overwrite a config unless --force", "[init]") {
    InitFixture fx;
    std::filesystem::create_directories(fx.dir / "conf");
    std::ofstream(fx.output) << "# mine\n";
    auto r = fx.run(fx.scripted());
    CHECK(r.code == 2);
    CHECK(contains(r.err, "exists; not overwriting it (--force replaces it)"));
    CHECK(slurp(fx.output) == "# mine\n");
    InitArgs forced = fx.scripted();
    forced.force = true;
    r = fx.run(forced, "y\n");  // the connection fails; the terminal says write it anyway
    CHECK(r.code == 0);
    CHECK(contains(slurp(fx.output), "name = \"me@example.com\""));
}

TEST_CASE(
    "init on a terminal: asks, offers to write after a failed connection, file 0600 in a 0700 "
    "folder",
    "[init]") {
    InitFixture fx;
    InitArgs args;
    args.output = fx.output;
    args.timer = false;
    // host, security, port, user, password source, command, store, name, write anyway?
    auto r = fx.run(args, "imap.invalid\nstarttls\n\nme\n\npass show mail\n" +
                              (fx.dir / "s").string() + "\nwork\ny\n");
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "IMAP server (host name): "));
    CHECK(contains(r.out, "Port [143]: "));
    CHECK(contains(r.out, "Write the config anyway? [y/N]"));
    CHECK(mode_of(fx.output) == 0600);
    CHECK(mode_of((fx.dir / "conf").string()) == 0700);
    Config c = load_config(fx.output);
    CHECK(c.accounts.at(0).name == "work");
    CHECK(c.accounts.at(0).connect.port == 143);
    CHECK(c.accounts.at(0).connect.tls == imapkeep::imap::TlsMode::StartTls);
    CHECK(r.commands.empty());  // --no-timer

    InitArgs refuse = args;
    refuse.force = true;
    std::filesystem::remove(fx.output);
    r = fx.run(refuse, "imap.invalid\n\n\nme\nfile\n/nonexistent.pw\n\nwork\n");
    INFO(r.out << r.err);
    CHECK(r.code == 2);  // the password file is checked before connecting
    CHECK(contains(r.err, "/nonexistent.pw"));
}

TEST_CASE("init: the timer is enabled with systemctl, or the cron line is printed", "[init]") {
    InitFixture fx;
    ::setenv("XDG_CONFIG_HOME", fx.dir.c_str(), 1);
    const std::string in_place = (fx.dir / "imapkeep" / "work.toml").string();
    const std::vector<std::string> expected{"systemctl", "--user", "enable", "--now",
                                            "imapkeep-backup@work.timer"};
    struct Row {
        std::string output;
        std::optional<bool> flag;
        std::string answers;  // "y\n" to write after the failed connection, then the timer
        int systemctl;
        bool runs;
        std::string printed;
    };
    const Row rows[] = {
        {in_place, std::nullopt, "y\n\n", 0, true, "Enabled imapkeep-backup@work.timer"},
        {in_place, std::nullopt, "y\nn\n", 0, false,
         "To back up every hour: systemctl --user enable --now"},
        {in_place, true, "y\n", 0, true, "Enabled"},
        {in_place, true, "y\n", 1, true,
         "systemctl failed (exit 1); to back up every hour from cron"},
        {in_place, false, "y\n", 0, false, "First backup"},
        {(fx.dir / "elsewhere.toml").string(), true, "y\n", 0, false,
         "17 * * * *  imapkeep --config"},
    };
    for (const auto& row : rows) {
        std::filesystem::remove(row.output);
        InitArgs args = fx.scripted();
        args.output = row.output;
        args.timer = row.flag;
        auto r = fx.run(args, row.answers, row.systemctl);
        INFO(row.answers << " -> " << r.out << r.err);
        CHECK(r.code == 0);
        CHECK(r.commands.size() == (row.runs ? 1u : 0u));
        if (row.runs) CHECK(r.commands.at(0) == expected);
        CHECK(contains(r.out, row.printed));
    }
    ::unsetenv("XDG_CONFIG_HOME");
}

TEST_CASE("imapkeep init --help prints init's help", "[init]") {
    cli_test::CliFixture fx;
    auto r = fx.run({"init", "--help"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "Usage: imapkeep init"));
    CHECK(contains(r.out, "--password-command"));
    CHECK(contains(r.out, "--no-timer"));
    CHECK_FALSE(contains(r.out, "Subcommands:"));
}
