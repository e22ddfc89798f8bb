// `cairn gc [--grace 24h] [--dry-run] [--site S] [--json]`: removes the blobs
// no version references (left by refused or killed deposits), once they have
// stayed unreferenced for the grace period (repo/deposit/gc.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/schedule.h"
#include "ops/cli/audit_verbs.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/verbs.h"
#include "repo/deposit/gc.h"
#include "repo/site/repository.h"

namespace cairn::cli {
namespace {

struct GcFlags {
  std::string grace = "24h";
  std::string site;
  bool dry_run = false;
  bool json = false;
};

int RunGc(const GcFlags& f, const Globals& g) {
  repo::GcOptions options;
  if (f.grace == "0") {
    options.grace_micros = 0;
  } else {
    Result<int64_t> grace = audit::ParseDuration(f.grace);
    if (!grace.ok()) return ReportError(grace.status().WithContext("--grace"));
    options.grace_micros = *grace;
  }
  options.dry_run = f.dry_run;
  options.site = f.site;
  options.agent_version = CAIRN_VERSION;
  auto repository = OpenRepositoryForAudit(g);  // the auditor's clock (test hooks)
  if (!repository.ok()) return ReportError(repository.status());
  Result<repo::GcReport> report = repo::CollectGarbage(**repository, options);
  if (!report.ok()) return ReportError(report.status());
  // Its deletion events on the sites' logs, said as every verb that records events says it.
  const int flushed = ReportEventsFlushed(report->events);
  if (f.json) {
    std::cout << report->ToJson().dump(2) << "\n";
  } else if (!g.quiet || !report->errors.empty()) {
    std::cout << report->ToText();
  }
  return ExitWorst(report->errors.empty() ? kExitOk : kExitProblems, flushed);
}

}  // namespace

void RegisterGc(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<GcFlags>();
  CLI::App* cmd = app.add_subcommand(
      "gc", "remove blobs no version references (left by refused or killed deposits)");
  cmd->add_option("--grace", flags->grace,
                  "remove a blob only once gc has seen it unreferenced this long before "
                  "(90d, 12h, 30m, 45s; 0: at once; default 24h)");
  cmd->add_option("--site", flags->site, "only this site");
  cmd->add_flag("--dry-run", flags->dry_run, "say what would be removed; change nothing");
  cmd->add_flag("--json", flags->json, "print the report as JSON");
  cmd->footer(
      "Runs only while no other writer does (it waits up to a minute for deposits,\n"
      "replication, audits and resyncs in flight to finish). A blob is removed only when\n"
      "no catalog version and no version record on its site names it. Each removal is a\n"
      "PREMIS deletion event.\n"
      "Refused (nothing removed) on a catalog older than its sites (put back from a backup):\n"
      "`cairn catalog rebuild --from SITE --force` first.\n"
      "Exit codes: 0 done; 1 some site or blob could not be collected (named), or its\n"
      "deletion events could not be copied to a site's event log (named); 2 could not run\n"
      "or refused.\n");
  cmd->callback([flags, &g] { g.exit_code = RunGc(*flags, g); });
}

}  // namespace cairn::cli
