// `cairn replicate [--partner P] [--object O] [--site S] [--wait [--wait-timeout 10m]] [--json]`:
// runs the queued replication jobs (copies to the sites policies want);
// copies still owed are named per site with the last error and next retry.
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/schedule.h"
#include "bagit/time_text.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/pending_jobs.h"
#include "ops/cli/repo_print.h"
#include "ops/cli/verbs.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"

namespace cairn::cli {
namespace {

struct ReplicateFlags {
  std::string partner;
  std::string object;
  std::string site;
  bool wait = false;
  std::string wait_timeout = "10m";
  bool json = false;
};

int RunReplicate(const ReplicateFlags& f, const Globals& g) {
  Result<int64_t> wait_bound = audit::ParseDuration(f.wait_timeout);
  if (!wait_bound.ok()) return ReportError(wait_bound.status().WithContext("--wait-timeout"));
  Result<std::string> root = RepoPath(g);
  if (!root.ok()) return ReportError(root.status());
  auto repository = repo::Repository::Open(*root);
  if (!repository.ok()) return ReportError(repository.status());
  repo::ReplicateRequest request;
  request.partner = f.partner;
  request.object = f.object;
  request.target_site = f.site;
  request.wait = f.wait;
  request.wait_micros = *wait_bound;
  repo::ReplicateCallbacks callbacks;
  callbacks.reconciled = [&](const repo::ReplicateOutcome& o) {
    if (f.json) return;
    for (const std::string& p : o.reconciled.problems) std::cerr << "warning: " << p << "\n";
    if (!g.quiet && o.reconciled.copies_short > 0) std::cout << o.reconciled.ToText() << "\n";
  };
  callbacks.waiting = [&](const repo::ReplicateOutcome& o) {
    if (g.quiet) return;
    std::cerr << "waiting: " << o.total.copies_made << " copies made, " << o.left.queued
              << " jobs queued, " << o.left.leased << " leased by another writer\n";
    for (const repo::RetryingSite& site : o.retrying) {
      std::cerr << "  site " << site.site << ": " << site.jobs << " waiting for retry at "
                << FormatUtc(site.next_try_micros) << "; last error: " << site.last_error << "\n";
    }
  };
  Result<repo::ReplicateOutcome> done = repo::Replicate(**repository, request, callbacks);
  if (!done.ok()) return ReportError(done.status());
  const repo::ReplicateOutcome& o = *done;
  const int flushed = ReportEventsFlushed(o.events);
  const repo::ReplicationSummary& total = o.total;
  if (f.json) {
    nlohmann::json out = {{"jobs_done", total.jobs_done},
                          {"jobs_failed", total.jobs_failed},
                          {"copies_made", total.copies_made},
                          {"copies_verified_present", total.copies_verified_present},
                          {"bytes_copied", total.bytes_copied},
                          {"errors", total.errors},
                          {"queued", o.left.queued},
                          {"failed_for_good", o.left.failed},
                          {"retrying", nlohmann::json::array()},
                          {"gave_up_waiting", o.gave_up},
                          {"copies_lacking_before", o.reconciled.copies_short},
                          {"jobs_queued_by_reconcile", o.reconciled.jobs_queued},
                          {"policy_problems", o.reconciled.problems}};
    for (const repo::RetryingSite& site : o.retrying) out["retrying"].push_back(RetryingJson(site));
    std::cout << out.dump(2) << "\n";
  } else {
    if (!g.quiet) {
      // The bytes are those written: a copy found on the target is read back, never written.
      std::cout << total.jobs_done << " jobs done, " << total.copies_made << " copies made ("
                << total.bytes_copied << " bytes written), " << total.copies_verified_present
                << " already present and verified (nothing written)\n";
      if (o.left.queued) std::cout << o.left.queued << " jobs still queued (retried later)\n";
      if (o.left.failed) std::cout << o.left.failed << " jobs failed for good\n";
    }
    for (const std::string& e : total.errors) std::cerr << "error: " << e << "\n";
    // Per site, why copies are still owed and when they are tried again.
    for (const repo::RetryingSite& site : o.retrying) {
      std::cerr << "cairn: " << RetryingText(site) << "\n";
    }
    if (o.gave_up) {
      std::cerr << "cairn: gave up waiting after " << f.wait_timeout << ": " << o.left.queued
                << " jobs still queued (raise --wait-timeout, or leave them to the daemon)\n";
    }
  }
  const bool problems = total.jobs_failed || o.left.failed || !o.reconciled.problems.empty() ||
                        o.gave_up || !o.retrying.empty();
  // A site that cannot be read with nothing queued for it (gone, unmounted, its gateway down
  // since its copies were made) is named: "0 jobs done" is not "every copy is there".
  std::vector<std::string> quiet_sites;
  if (auto sites = (*repository)->catalog().ListSites(); sites.ok()) {
    for (const repo::SiteRecord& s : *sites) {
      if (!f.site.empty() && s.name != f.site) continue;
      if (std::none_of(o.retrying.begin(), o.retrying.end(),
                       [&s](const repo::RetryingSite& r) { return r.site == s.name; })) {
        quiet_sites.push_back(s.name);
      }
    }
  }
  const int down = quiet_sites.empty()
                       ? kExitOk
                       : ReportUnreachableSites(**repository, "the copies owed to it", quiet_sites);
  return ExitWorst(ExitWorst(problems ? kExitProblems : kExitOk, flushed), down);
}

}  // namespace

void RegisterReplicate(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ReplicateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replicate",
      "queue the copies the policies want but the sites lack, then run the queued replication "
      "jobs: copy, read back, verify");
  cmd->add_option("--partner", flags->partner, "only this partner's objects");
  cmd->add_option("--object", flags->object, "only this object id (with --partner)");
  cmd->add_option("--site", flags->site, "only copies to this site");
  cmd->add_flag("--wait", flags->wait,
                "keep going until no job is queued (retries wait), printing progress and the "
                "last error of each site while it waits");
  cmd->add_option("--wait-timeout", flags->wait_timeout,
                  "with --wait: give up (exit 1) after this long (default 10m; 30s, 2h)");
  cmd->add_flag("--json", flags->json, "print the summary as JSON");
  cmd->footer(
      "Exit codes: 0 all done; 1 some copies failed (still queued or failed for good: each\n"
      "site is named with its last error and next retry), --wait gave up after\n"
      "--wait-timeout, a policy cannot be met by the sites there are, or a site cannot be\n"
      "read (gone, not mounted, its gateway down: named, with the way forward);\n"
      "2 could not run (an unknown partner, object or site, no repository).\n");
  cmd->callback([flags, &g] { g.exit_code = RunReplicate(*flags, g); });
}

}  // namespace cairn::cli
