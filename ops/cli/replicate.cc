// `cairn replicate [--partner P] [--object O] [--site S] [--wait [--wait-timeout 10m]] [--json]`:
// runs the queued replication jobs (copies to the sites policies want);
// copies still owed are named per site with the last error and next retry.
#include "repo/replicate.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "audit/schedule.h"
#include "ops/cli/cli.h"
#include "ops/cli/flush_events.h"
#include "ops/cli/pending_jobs.h"
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
  repo::Repository& r = **repository;
  // Unknown ids are errors, not an empty success.
  if (!f.object.empty() && f.partner.empty()) {
    return ReportError(Status::InvalidArgument("--object " + f.object +
                                               " needs --partner (object ids are per partner)"));
  }
  if (!f.partner.empty()) {
    Status known = r.catalog().GetPartner(f.partner).status();
    if (known.ok() && !f.object.empty()) {
      known = r.catalog().GetVersion(f.partner, f.object, std::nullopt, false).status();
    }
    if (!known.ok()) return ReportError(known);
  }
  if (!f.site.empty()) {
    Status known = r.catalog().GetSite(f.site).status();
    if (!known.ok()) return ReportError(known);
  }
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
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::microseconds(*wait_bound);
  bool gave_up = false;
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
    if (std::chrono::steady_clock::now() >= deadline) {
      gave_up = true;
      break;
    }
    // Progress while waiting: what is left, and why it is not done yet.
    Result<std::vector<RetryingSite>> retrying = RetryingSites(r.catalog(), jobs);
    if (!retrying.ok()) return ReportError(retrying.status());
    if (!g.quiet) {
      std::cerr << "waiting: " << total.copies_made << " copies made, " << left->queued
                << " jobs queued, " << left->leased << " leased by another writer\n";
      for (const RetryingSite& site : *retrying) {
        std::cerr << "  site " << site.site << ": " << site.jobs << " waiting for retry at "
                  << audit::IsoTime(site.next_try_micros) << "; last error: " << site.last_error
                  << "\n";
      }
    }
    // Until the next retry is due (or 5 s, for jobs leased elsewhere), within the bound.
    auto pause = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    if (!retrying->empty()) {
      int64_t next = retrying->front().next_try_micros;
      for (const RetryingSite& site : *retrying) next = std::min(next, site.next_try_micros);
      int64_t in = next - r.clock().NowMicros();
      pause = std::chrono::steady_clock::now() +
              std::chrono::microseconds(std::clamp<int64_t>(in, 200'000, 60'000'000));
    }
    std::this_thread::sleep_until(std::min(pause, deadline));
  }
  const int flushed = FlushEventsToSites(r);  // the replication events
  Result<repo::JobCounts> left = r.catalog().CountJobs(jobs);
  if (!left.ok()) return ReportError(left.status());
  Result<std::vector<RetryingSite>> retrying = RetryingSites(r.catalog(), jobs);
  if (!retrying.ok()) return ReportError(retrying.status());
  if (f.json) {
    nlohmann::json out = {{"jobs_done", total.jobs_done},
                          {"jobs_failed", total.jobs_failed},
                          {"copies_made", total.copies_made},
                          {"copies_verified_present", total.copies_verified_present},
                          {"bytes_copied", total.bytes_copied},
                          {"errors", total.errors},
                          {"queued", left->queued},
                          {"failed_for_good", left->failed},
                          {"retrying", nlohmann::json::array()},
                          {"gave_up_waiting", gave_up},
                          {"copies_lacking_before", reconciled->copies_short},
                          {"jobs_queued_by_reconcile", reconciled->jobs_queued},
                          {"policy_problems", reconciled->problems}};
    for (const RetryingSite& site : *retrying) out["retrying"].push_back(site.Json());
    std::cout << out.dump(2) << "\n";
  } else {
    if (!g.quiet) {
      std::cout << total.jobs_done << " jobs done, " << total.copies_made << " copies made ("
                << total.bytes_copied << " bytes), " << total.copies_verified_present
                << " already present and verified\n";
      if (left->queued) std::cout << left->queued << " jobs still queued (retried later)\n";
      if (left->failed) std::cout << left->failed << " jobs failed for good\n";
    }
    for (const std::string& e : total.errors) std::cerr << "error: " << e << "\n";
    // Per site, why copies are still owed and when they are tried again.
    for (const RetryingSite& site : *retrying) std::cerr << "cairn: " << site.Text() << "\n";
    if (gave_up) {
      std::cerr << "cairn: gave up waiting after " << f.wait_timeout << ": " << left->queued
                << " jobs still queued (raise --wait-timeout, or leave them to the daemon)\n";
    }
  }
  const bool problems = total.jobs_failed || left->failed || !reconciled->problems.empty() ||
                        gave_up || !retrying->empty();
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
      "--wait-timeout, or a policy cannot be met by the sites there are;\n"
      "2 could not run (an unknown partner, object or site, no repository).\n");
  cmd->callback([flags, &g] { g.exit_code = RunReplicate(*flags, g); });
}

}  // namespace cairn::cli
