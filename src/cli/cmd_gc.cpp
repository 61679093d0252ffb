// imapkeep gc: deletes the S3 objects that no row of the (shared) catalog
// names, once they are a grace old and were marked a grace ago. The protocol
// that makes this safe beside running backups is store/blob_ledger.hpp's.
// A local store has no such command: its backups already remove the Maildir
// files no row names (store/orphans.hpp).
#include <imapkeep/s3/errors.hpp>
#include <imapkeep/store/s3_gc.hpp>

#include "cli/catalog_place.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/gc_grace.hpp"
#include "cli/log.hpp"
#include "cli/message_store_place.hpp"
#include "cli/report.hpp"

namespace imapkeep::cli {

namespace {

std::chrono::seconds grace_of(const Config& config, const GcArgs& args) {
    if (args.grace.empty()) return config.s3.gc_grace;
    auto grace = parse_gc_grace(args.grace);
    if (!grace)
        throw ConfigError("gc --grace " + args.grace +
                          ": expected a duration like 7d, 36h, 90m or 3600s");
    return *grace;
}

nlohmann::json report_json(const store::S3GcReport& r, std::chrono::seconds grace, bool dry_run) {
    return {{"dry_run", dry_run},
            {"grace_seconds", grace.count()},
            {"objects", r.objects},
            {"bytes", r.bytes},
            {"referenced", r.referenced},
            {"young", r.young},
            {"marked", r.marked},
            {"waiting", r.waiting},
            {"deleted", r.deleted},
            {"deleted_bytes", r.deleted_bytes},
            {"kept_at_sweep", r.kept_at_sweep},
            {"other_keys", r.other_keys},
            {"forgotten_marks", r.forgotten_marks}};
}

void print_summary(std::ostream& out, const store::S3GcReport& r, std::chrono::seconds grace,
                   bool dry_run) {
    const char* mark = dry_run ? " to mark" : " marked";
    out << (dry_run ? "gc (dry run): " : "gc: ") << count_of(r.objects, "object", "objects") << " ("
        << human_bytes(r.bytes) << "): " << r.referenced << " referenced, " << r.young
        << " unreferenced but younger than " << gc_grace_text(grace) << ", " << r.marked << mark
        << " now, " << r.waiting << " marked less than " << gc_grace_text(grace) << " ago, "
        << r.deleted << (dry_run ? " to delete (" : " deleted (") << human_bytes(r.deleted_bytes)
        << ")";
    if (r.kept_at_sweep) out << ", " << r.kept_at_sweep << " kept (named again at the sweep)";
    if (r.other_keys) out << ", " << r.other_keys << " other keys left alone";
    out << "\n";
}

}  // namespace

int run_gc(const Config& config, const GcArgs& args, Io& io) {
    if (!messages_in_s3(config))
        throw ConfigError(
            "imapkeep gc is for an S3 store ([store] backend = \"postgres+s3\"); " +
            config.store_path +
            " is a local store, whose backups already remove the message files no catalog "
            "row names");
    const auto grace = grace_of(config, args);
    if (grace.count() == 0)
        io.err << "imapkeep gc: WARNING: a grace of 0 may delete the object of a backup still "
                  "running; use it only when no backup or worker runs\n";
    store::S3GcOptions options;
    options.grace = grace;
    options.dry_run = args.dry_run;
    if (args.dry_run && !args.json)
        options.on_delete = [&](const std::string& name, std::uint64_t size) {
            io.out << "would delete " << name << " (" << human_bytes(size) << ")\n";
        };
    // Opening the catalog first applies its migrations (the gc_mark table).
    open_catalog(config);
    auto ledger = open_blob_ledger(config);
    store::S3GcReport report;
    try {
        const auto store = s3_store_options(config, true);
        // Before anything is marked or deleted: the prefix is this catalog's.
        claim_s3_prefix(config, store, *ledger);
        report = store::collect_s3_garbage(store, *ledger, options);
    } catch (const store::StoreError& e) {
        io.err << "imapkeep gc: " << e.what() << " (running gc again is safe)\n";
        return kExitTempFail;
    } catch (const s3::S3Error& e) {
        io.err << "imapkeep gc: " << e.what() << " (running gc again is safe)\n";
        return kExitTempFail;
    }
    if (args.json)
        io.out << json_text(report_json(report, grace, args.dry_run), 2) << "\n";
    else
        print_summary(io.out, report, grace, args.dry_run);
    if (io.log)
        io.log->log(LogLevel::Info, "", "",
                    "gc: " + std::to_string(report.deleted) + " objects deleted (" +
                        human_bytes(report.deleted_bytes) + ")");
    return kExitOk;
}

}  // namespace imapkeep::cli
