// The sync engine as `imapkeep backup` runs it (sync::backup_account, whole
// account), into a scratch store under /dev/shm, against one of two servers:
//  - transcript mode: a server that replays a fuzzed transcript
//    (sync_transcript.hpp); seeds are real Dovecot and Cyrus captures
//    (scripts/capture-transcripts.sh). The last run is replayed once more.
//  - model mode: the tests' model server built from the input, with changes
//    between runs and faults in them (sync_model.hpp), where invariant 1 is
//    checked exactly and a last clean run must catch up with the server.
// After every run the store invariants hold (sync_invariants.hpp).
//
// Input: one knob byte, then (transcript mode) runs separated by
// kRunSeparator, each a transcript (chunks separated by kChunkSeparator),
// sharing the store as successive cron runs do; or (model mode) the bytes
// ModelScenario decodes. Knob bits (transcript seeds use '@', all clear):
//   0-1  sync_path: best, "qresync", "condstore", "plain"
//   2    expunged = mirror (else keep, where no row may ever be lost)
//   3    small wire limits (line 256, literal 4 KiB, response 8 KiB)
//   4    reads in pieces of 1-7 bytes (the framer resumes everywhere)
//   5    --mailbox INBOX (no rename/delete reconciliation)
//   6    model mode: a hostile server (a byte of sync_model.hpp's Quirks)
//   7    model mode
#include <imapkeep/store/message_store.hpp>
#include <imapkeep/store/sqlite_catalog.hpp>
#include <imapkeep/sync/backup.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <cerrno>
#include <csignal>
#include <unistd.h>

#include "fuzz_check.hpp"
#include "support/fake_pace_clock.hpp"
#include "sync_invariants.hpp"
#include "sync_model.hpp"
#include "sync_transcript.hpp"

using namespace imapkeep;
using imapkeep::fuzz::check;

namespace {

const std::string kAccount = "acct";

// Scratch dirs of fuzz_sync processes that are gone: a crash or a stopped
// run (libFuzzer exits without destructors) leaves its dir behind.
void remove_stale(const std::filesystem::path& base, const std::string& prefix) {
    for (const auto& e : std::filesystem::directory_iterator(base)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
            std::error_code ec;
            std::filesystem::remove_all(e.path(), ec);
        }
    }
}

// /dev/shm (tmpfs: fsync is free) when there, one dir per process, reused.
// A new catalog is a copy of one made at start: the schema migrations run once.
struct ScratchStore {
    std::filesystem::path fence;
    std::filesystem::path root;
    std::filesystem::path empty_catalog;
    ScratchStore() {
        std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        remove_stale(base, "imapkeep-fuzz-sync.");
        const std::string name = "imapkeep-fuzz-sync." + std::to_string(::getpid());
        fence = base / name;
        root = fence / "fence" / "store";
        empty_catalog = base / (name + ".catalog");
        std::filesystem::remove(empty_catalog);
        (void)store::open_sqlite_catalog(empty_catalog.string());
    }
    ~ScratchStore() {
        std::error_code ec;
        std::filesystem::remove_all(fence, ec);
        std::filesystem::remove(empty_catalog, ec);
    }
    std::filesystem::path catalog() const { return root / "catalog.sqlite"; }
    void reset() {
        std::filesystem::remove_all(fence);
        std::filesystem::create_directories(root);
        std::filesystem::copy_file(empty_catalog, catalog());
    }
};

struct Knobs {
    std::string sync_path;
    bool mirror = false;
    bool small_limits = false;
    std::size_t max_chunk = 1 << 16;
    bool inbox_only = false;
    bool model = false;
    bool hostile = false;

    explicit Knobs(std::uint8_t bits) {
        static const char* const kPaths[] = {"", "qresync", "condstore", "plain"};
        sync_path = kPaths[bits & 3];
        mirror = bits & 4;
        small_limits = bits & 8;
        if (bits & 16) max_chunk = 1 + bits % 7;
        inbox_only = bits & 32;
        model = bits & 128;
        hostile = bits & 64;
    }
};

// The account as the knobs want it; the connection comes from the caller.
sync::AccountConfig account_for(const Knobs& knobs, imap::ConnectOptions connect) {
    sync::AccountConfig account;
    account.name = kAccount;
    account.connections = 1;  // one thread: the server's replies are one sequence
    account.sync_path = knobs.sync_path;
    account.expunged = knobs.mirror ? sync::ExpungedPolicy::Mirror : sync::ExpungedPolicy::Keep;
    account.connect = std::move(connect);
    if (knobs.small_limits) {
        auto& limits = account.connect.client.limits;
        limits.max_line = 256;
        limits.max_literal = 4096;
        limits.max_buffered_response = 8192;
    }
    return account;
}

imap::ConnectOptions replay_connection(fuzz::Transcript& script, const Knobs& knobs) {
    imap::ConnectOptions c;
    c.host = "fuzz";
    c.tls = imap::TlsMode::None;
    c.allow_plaintext_auth = true;
    c.user = "fuzz";
    c.password = [] { return std::string("fuzz-password"); };
    c.stream_factory = fuzz::replay_factory(script, knobs.max_chunk);
    return c;
}

// IMAPKEEP_FUZZ_VERBOSE=1: what a run did, to check that a seed reaches deep
// (model mode: each run's faults and the server's mailboxes too, and which
// message broke invariant 1); IMAPKEEP_FUZZ_COMMANDS=1: model mode's commands.
void print(const sync::AccountReport& report) {
    if (report.connect_failed) std::fprintf(stderr, "  connect failed: %s\n", report.error.c_str());
    for (const auto& m : report.mailboxes) {
        std::fprintf(stderr, "  %s [%s] new %llu flags %llu expunged %llu\n", m.name.c_str(), m.path.c_str(),
                     static_cast<unsigned long long>(m.new_messages),
                     static_cast<unsigned long long>(m.flag_changes), static_cast<unsigned long long>(m.expunged));
        for (const auto& e : m.errors) std::fprintf(stderr, "    error: %s\n", e.c_str());
    }
}

// One backup run, then the store invariants; returns the catalog's rows.
fuzz::StoredRows run_backup(const sync::AccountConfig& account, const Knobs& knobs, const ScratchStore& scratch,
                            store::Catalog& catalog, store::MessageStore& messages,
                            sync::AccountReport* out = nullptr) {
    sync::BackupOptions options;
    // Back-offs (a NO [UNAVAILABLE] fault) cost no real time: 100 ms slices
    // of them made most model inputs take seconds.
    testing::FakePaceClock clock;
    options.clock = &clock;
    options.open_catalog = [path = scratch.catalog().string()] { return store::open_sqlite_catalog(path); };
    if (knobs.inbox_only) options.mailbox_filter = {"INBOX"};
    try {
        auto report = sync::backup_account(account, catalog, messages, options);
        if (std::getenv("IMAPKEEP_FUZZ_VERBOSE")) print(report);
        if (out) *out = std::move(report);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "backup_account threw: %s\n", e.what());
        check(false, "backup_account records failures in its report, it does not throw");
    }
    fuzz::check_layout(scratch.fence, scratch.root, kAccount);
    return fuzz::check_catalog(catalog, messages, kAccount);
}

// Runs separated by kRunSeparator, the last one replayed once more.
void transcript_mode(std::string_view input, const Knobs& knobs, const ScratchStore& scratch,
                     store::Catalog& catalog, store::MessageStore& messages) {
    auto runs = fuzz::split(input, fuzz::kRunSeparator);
    if (runs.size() > 8) runs.resize(8);
    runs.push_back(runs.back());  // a second run against the same transcript loses nothing
    fuzz::StoredRows before;
    for (auto run : runs) {
        fuzz::Transcript script{fuzz::split(run, fuzz::kChunkSeparator)};
        auto after = run_backup(account_for(knobs, replay_connection(script, knobs)), knobs, scratch, catalog,
                                messages);
        if (std::getenv("IMAPKEEP_FUZZ_VERBOSE"))
            std::fprintf(stderr, "run: %zu of %zu chunks used\n", script.next, script.chunks.size());
        fuzz::check_kept(before, after, knobs.mirror);
        before = std::move(after);
    }
}

// Up to four runs with server changes between them and faults in them, then
// one clean run (sync_model.hpp), then one more that must fetch no body and
// fail nowhere: a clean run leaves nothing to fetch again.
void model_mode(std::string_view input, const Knobs& knobs, const ScratchStore& scratch, store::Catalog& catalog,
                store::MessageStore& messages) {
    fuzz::Bytes in(input);
    fuzz::ModelScenario scenario(in, knobs.hostile);
    const std::size_t runs = 1 + in.below(4);
    fuzz::StoredRows before;
    std::size_t fetched = 0;
    for (std::size_t run = 0; run <= runs + 1; ++run) {
        const bool clean = run >= runs;
        if (run > 0 && !clean) scenario.change();
        if (run > 0 && run == runs) scenario.before_clean_run();
        scenario.arm_faults(clean);
        if (std::getenv("IMAPKEEP_FUZZ_VERBOSE")) scenario.print_faults();
        sync::AccountReport report;
        auto after = run_backup(account_for(knobs, scenario.server.connect_options()), knobs, scratch, catalog,
                                messages, &report);
        if (std::getenv("IMAPKEEP_FUZZ_COMMANDS"))
            for (const auto& c : scenario.server.commands()) std::fprintf(stderr, "    > %s\n", c.c_str());
        scenario.server.clear_log();
        fuzz::check_kept(before, after, knobs.mirror);
        scenario.check(catalog, kAccount, clean && !knobs.inbox_only);
        if (run == runs + 1) {
            check(scenario.server.body_fetches() == fetched, "a run after a clean run fetches no body again");
            check(!report.connect_failed, "a run after a clean run connects");
            for (const auto& m : report.mailboxes) check(!m.failed(), "a run after a clean run fails nowhere");
        }
        fetched = scenario.server.body_fetches();
        before = std::move(after);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static ScratchStore scratch;
    const Knobs knobs(data[0]);
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    scratch.reset();
    auto catalog = store::open_sqlite_catalog(scratch.catalog().string());
    auto messages = store::open_maildir_store(scratch.root.string());
    if (knobs.model)
        model_mode(input, knobs, scratch, *catalog, *messages);
    else
        transcript_mode(input, knobs, scratch, *catalog, *messages);
    return 0;
}
