// `cairn replicate [--partner P] [--object O] [--site S] [--wait] [--json]`:
// runs the queued replication jobs (copies to the sites policies want).
#include "repo/replicate.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/verbs.h"
#include "repo/copies_queue.h"
#include "repo/events/segments.h"
#include "repo/repository.h"

namespace cairn::cli {
namespace {

struct ReplicateFlags {
  std::string partner;
  std::string object;
  std::string site;
  bool wait = false;
  bool json = false;
};

int RunReplicate(const ReplicateFlags& f, const Globals& g) {
  Result<std::string> root = RepoPath(g);
  if (!root.ok()) return ReportError(root.status());
  auto repository = repo::Repository::Open(*root);
  if (!repository.ok()) return ReportError(repository.status());
  repo::Repository& r = **repository;
  auto lock = r.LockForWriting();
  if (!lock.ok()) return ReportError(lock.status());
  repo::ReplicationFilter filter;
  if (!f.partner.empty()) filter.partner = f.partner;
  if (!f.object.empty()) filter.object = f.object;
  if (!f.site.empty()) filter.target_site = f.site;
  repo::JobFilter jobs;
  jobs.kind = proto::JOB_KIND_REPLICATE;
  jobs.partner = filter.partner;
  jobs.object = filter.object;
  jobs.target_site = filter.target_site;
  // First what the policies demand against what the sites hold: copies lost
  // with a site or a catalog are queued again here, not only by `policy set`.
  repo::ReconcileOptions reconcile;
  reconcile.partner = f.partner;
  Result<repo::ReconcileSummary> reconciled = repo::ReconcileCopies(r.catalog(), reconcile);
  if (!reconciled.ok()) return ReportError(reconciled.status());
  if (!f.json) {
    for (const std::string& p : reconciled->problems) std::cerr << "warning: " << p << "\n";
    if (!g.quiet && reconciled->copies_short > 0) std::cout << reconciled->ToText() << "\n";
  }
  repo::ReplicationSummary total;
  for (;;) {
    Result<repo::ReplicationSummary> s = repo::DrainReplication(r, filter);
    if (!s.ok()) return ReportError(s.status());
    total.jobs_done += s->jobs_done;
    total.jobs_failed += s->jobs_failed;
    total.copies_made += s->copies_made;
    total.copies_verified_present += s->copies_verified_present;
    total.bytes_copied += s->bytes_copied;
    for (const std::string& e : s->errors) total.errors.push_back(e);
    Result<repo::JobCounts> left = r.catalog().CountJobs(jobs);
    if (!left.ok()) return ReportError(left.status());
    if (!f.wait || left->queued + left->leased == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(5));  // until a retry is due
  }
  const int flushed = FlushEventsToSites(r);  // the replication events
  Result<repo::JobCounts> left = r.catalog().CountJobs(jobs);
  if (!left.ok()) return ReportError(left.status());
  if (f.json) {
    nlohmann::json out = {{"jobs_done", total.jobs_done},
                          {"jobs_failed", total.jobs_failed},
                          {"copies_made", total.copies_made},
                          {"copies_verified_present", total.copies_verified_present},
                          {"bytes_copied", total.bytes_copied},
                          {"errors", total.errors},
                          {"queued", left->queued},
                          {"failed_for_good", left->failed},
                          {"copies_lacking_before", reconciled->copies_short},
                          {"jobs_queued_by_reconcile", reconciled->jobs_queued},
                          {"policy_problems", reconciled->problems}};
    std::cout << out.dump(2) << "\n";
  } else if (!g.quiet) {
    std::cout << total.jobs_done << " jobs done, " << total.copies_made << " copies made ("
              << total.bytes_copied << " bytes), " << total.copies_verified_present
              << " already present and verified\n";
    for (const std::string& e : total.errors) std::cerr << "error: " << e << "\n";
    if (left->queued) std::cout << left->queued << " jobs still queued (retried later)\n";
    if (left->failed) std::cout << left->failed << " jobs failed for good\n";
  }
  const bool problems = total.jobs_failed || left->failed || !reconciled->problems.empty();
  return ExitWorst(problems ? kExitProblems : kExitOk, flushed);
}

}  // namespace

void RegisterReplicate(CLI::App& app, Globals& g) {
  auto flags = std::make_shared<ReplicateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replicate",
      "queue the copies the policies want but the sites lack, then run the queued replication "
      "jobs: copy, read back, verify");
  cmd->add_option("--partner", flags->partner, "only this partner's objects");
  cmd->add_option("--object", flags->object, "only this object id");
  cmd->add_option("--site", flags->site, "only copies to this site");
  cmd->add_flag("--wait", flags->wait, "keep going until no job is queued (retries wait)");
  cmd->add_flag("--json", flags->json, "print the summary as JSON");
  cmd->footer(
      "Exit codes: 0 all done; 1 some copies failed (still queued or failed for good), or a\n"
      "policy cannot be met by the sites there are;\n"
      "2 could not run.\n");
  cmd->callback([flags, &g] { g.exit_code = RunReplicate(*flags, g); });
}

}  // namespace cairn::cli
