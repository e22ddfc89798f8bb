// `cairn audit run [--site S] [--partner P] [--object P/O] [--sample 10%|n/t|SIZE]
// [--rate 200M] [--all|--due] [--orphans] [--json]`: a fixity sweep now, in the
// foreground (logic in audit/audit.h).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/audit.h"
#include "audit/report_json.h"
#include "audit/sample.h"
#include "bagit/units.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/stop_signals.h"
#include "ops/cli/verbs.h"
#include "repo/events/segments.h"
#include "repo/site/repository.h"

namespace cairn::cli {
namespace {

struct AuditRunFlags {
  std::string site, partner, object, sample, rate;
  bool all = false, due = false, orphans = false, no_repair = false, json = false;
  unsigned threads = 0;
};

Result<audit::AuditOptions> MakeOptions(const AuditRunFlags& f) {
  audit::AuditOptions options;
  options.scope.site = f.site;
  CAIRN_RETURN_IF_ERROR(
      ParseObjectScope(f.partner, f.object, &options.scope.partner, &options.scope.object));
  CAIRN_RETURN_IF_ERROR(audit::ParseSample(f.sample).status());
  options.sample = f.sample;
  if (!f.rate.empty()) {
    Result<uint64_t> rate = ParseByteSize(f.rate);
    if (!rate.ok()) return rate.status().WithContext("--rate");
    options.rate_bytes_per_sec = *rate;
  }
  if (f.all && f.due) return Status::InvalidArgument("--all and --due exclude each other");
  options.mode = f.all ? audit::AuditMode::kAll : audit::AuditMode::kDue;
  options.orphans = f.orphans;
  options.repair = !f.no_repair;
  options.threads = f.threads;
  return options;
}

int RunAuditVerb(const AuditRunFlags& f, const Globals& g) {
  Result<audit::AuditOptions> options = MakeOptions(f);
  if (!options.ok()) return ReportError(options.status());
  auto repository = OpenRepositoryForAudit(g);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Repository& r = **repository;
  // First SIGTERM/SIGINT: stop the sweep (the read in progress is cut short, within a fraction
  // of a second even at a low --rate); a second one: at once.
  options->cancel = StopOnSignals();
  bool terminal = ::isatty(STDERR_FILENO) && !g.quiet;
  int64_t start = r.clock().NowMicros();
  if (terminal) {
    options->progress = [&](const audit::AuditProgress& p) {
      double seconds = static_cast<double>(r.clock().NowMicros() - start) / 1e6;
      double rate = seconds > 0 ? static_cast<double>(p.bytes) / seconds / 1e6 : 0;
      double left = p.checked ? seconds * static_cast<double>(p.planned - p.checked) /
                                    static_cast<double>(p.checked)
                              : 0;
      std::fprintf(stderr, "\r%llu/%llu copies, %.1f MB, %.1f MB/s, %llu problems, %.0fs left  ",
                   static_cast<unsigned long long>(p.checked),
                   static_cast<unsigned long long>(p.planned), static_cast<double>(p.bytes) / 1e6,
                   rate, static_cast<unsigned long long>(p.problems), left);
    };
  }
  Result<audit::AuditReport> report = audit::RunAudit(r, *options);
  if (terminal) std::fprintf(stderr, "\n");
  if (!report.ok()) return ReportError(report.status());
  const int flushed = ReportEventsFlushed(report->events);
  if (f.json) {
    std::cout << audit::AuditReportJson(*report).dump(2) << "\n";
  } else if (!g.quiet || report->HasProblems()) {
    std::cout << audit::AuditReportText(*report);
    if (!g.quiet && !f.all && report->planned == 0 && !report->stopped &&
        report->unavailable_sites.empty() && report->busy_sites.empty()) {
      // "0 of 0 copies checked" read like a clean sweep to a new auditor.
      std::cout << "nothing was due: each copy is checked once its policy's fixity interval has "
                   "passed (`cairn audit run --all` checks every copy now)\n";
    }
  }
  if (report->stopped) {
    std::cerr << "cairn: audit run interrupted by " << StopSignalName() << ": run "
              << report->run_id << " recorded as interrupted (aborted) after " << report->checked
              << " of " << report->planned
              << " copies; the copies not checked stay due (the next sweep resumes)\n";
    return kExitCannotRun;
  }
  return ExitWorst(report->HasProblems() ? kExitProblems : kExitOk, flushed);
}

}  // namespace

void RegisterAudit(CLI::App& app, Globals& g) {
  CLI::App* group = Group(app, "audit", "fixity audits: check copies, repair, report");
  auto flags = std::make_shared<AuditRunFlags>();
  CLI::App* cmd = group->add_subcommand(
      "run", "check copies now: re-read, re-hash, compare; repair corrupt and missing ones");
  cmd->add_option("--site", flags->site, "only copies on this site");
  cmd->add_option("--partner", flags->partner, "only this partner's objects");
  cmd->add_option("--object", flags->object, "only this object (PARTNER/OBJECT)");
  cmd->add_option("--sample", flags->sample,
                  "part of the picked copies: 10% (oldest first), n/t (bucket n of t: t sweeps "
                  "cover every copy once) or a size such as 500M (MiB; 500MB: 500,000,000 bytes)");
  cmd->add_option(
      "--rate", flags->rate,
      "cap on bytes read per second per site (200M = 200 MiB, 1G; 200MB = 200,000,000)");
  cmd->add_flag("--all", flags->all, "every copy in scope, due or not");
  cmd->add_flag("--due", flags->due, "only copies whose check is due, oldest first (default)");
  cmd->add_flag("--orphans", flags->orphans,
                "also list each site's blobs and version records (bags/) against the catalog: "
                "blobs, tag files and version.pb files no catalog entry names, version "
                "records missing from a site, and entries with no ok copy");
  cmd->add_flag("--no-repair", flags->no_repair, "report corrupt and missing copies only");
  cmd->add_option("--threads", flags->threads, "sites checked at once (default: all)");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->footer(
      "Exit codes: 0 every copy checked and good; 1 problems found: corrupt, missing,\n"
      "unreadable or damaged copies (1 even when every one was repaired: rot found is\n"
      "news to an auditor; the findings say which were repaired), orphans, uncataloged or\n"
      "missing version records, or copies NOT checked because a site was unavailable; 2\n"
      "could not run (or interrupted: the rest stays due).\n"
      "A copy that cannot be read while its site reads fine (bad sectors) is 'unreadable':\n"
      "still counted and read again later; after 3 such sweeps in a row it no longer counts\n"
      "toward the policy and is repaired from a good copy.\n");
  cmd->callback([flags, &g] { g.exit_code = RunAuditVerb(*flags, g); });
  AddAuditScheduleCommands(group, g);
  AddAuditReportCommand(group, g);
}

}  // namespace cairn::cli
