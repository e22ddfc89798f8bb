// Replicate: the whole of `cairn replicate` (reconcile, drain, wait, flush).
#include <algorithm>
#include <chrono>
#include <thread>

#include "repo/catalog/catalog.h"
#include "repo/catalog/inventory.h"
#include "repo/events/segments.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"

namespace cairn::repo {
namespace {

// Unknown ids are errors, not an empty success.
Status CheckIds(Catalog& catalog, const ReplicateRequest& req) {
  if (!req.object.empty() && req.partner.empty()) {
    return Status::InvalidArgument("--object " + req.object +
                                   " needs --partner (object ids are per partner)");
  }
  if (!req.partner.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog.GetPartner(req.partner).status());
    if (!req.object.empty()) {
      CAIRN_RETURN_IF_ERROR(
          catalog.GetVersion(req.partner, req.object, std::nullopt, false).status());
    }
  }
  if (!req.target_site.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetSite(req.target_site).status());
  return Status::OK();
}

void Add(const ReplicationSummary& s, ReplicationSummary* total) {
  total->jobs_done += s.jobs_done;
  total->jobs_failed += s.jobs_failed;
  total->copies_made += s.copies_made;
  total->copies_verified_present += s.copies_verified_present;
  total->bytes_copied += s.bytes_copied;
  for (const std::string& e : s.errors) total->errors.push_back(e);
}

}  // namespace

Status RetryNowWhereSitesAnswer(Repository& repo, const JobFilter& filter, bool only_site_down) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<RetryingSite> backed_off,
                         RetryingSites(repo.catalog(), filter));
  for (const RetryingSite& waiting : backed_off) {
    if (!repo.OpenSite(waiting.site).ok()) continue;  // still down: its backoff stands
    JobFilter site_jobs = filter;
    site_jobs.target_site = waiting.site;
    CAIRN_RETURN_IF_ERROR(repo.catalog()
                              .MakeQueuedJobsDueNow(site_jobs, only_site_down ? "Unavailable" : "")
                              .status());
  }
  return Status::OK();
}

Result<ReplicateOutcome> Replicate(Repository& repo, const ReplicateRequest& req,
                                   const ReplicateCallbacks& callbacks) {
  Catalog& catalog = repo.catalog();
  CAIRN_RETURN_IF_ERROR(CheckIds(catalog, req));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock, repo.LockForWriting());
  // A catalog put back from a backup: a site's event log runs past it. The copies' events would
  // take numbers the sites' logs hold for others, and the rebuild that catches the catalog up
  // would drop them: refused before anything is copied, as a deposit, an audit and a withdrawal
  // are (FirstSiteLogAheadOfCatalog names the site and the rebuild).
  if (Status ahead = FirstSiteLogAheadOfCatalog(repo, "", /*runs_past_only=*/true); !ahead.ok()) {
    return Status::InvalidArgument("replicate refused, nothing copied: " + ahead.message());
  }
  ReplicationFilter filter;
  if (!req.partner.empty()) filter.partner = req.partner;
  if (!req.object.empty()) filter.object = req.object;
  if (!req.target_site.empty()) filter.target_site = req.target_site;
  const JobFilter jobs = ReplicationJobs(filter);
  CAIRN_ASSIGN_OR_RETURN(EventHead head_before, catalog.GetEventHead());
  ReplicateOutcome out;
  // First what the policies demand against what the sites hold: copies lost
  // with a site or a catalog are queued again here, not only by `policy set`.
  ReconcileOptions reconcile;
  reconcile.partner = req.partner;
  CAIRN_ASSIGN_OR_RETURN(out.reconciled, ReconcileCopies(catalog, reconcile));
  if (callbacks.reconciled) callbacks.reconciled(out);
  // Copies waiting out a backoff for a site that opens now: whoever runs replicate has brought
  // it back, and the next retry may be hours away after a long outage.
  CAIRN_RETURN_IF_ERROR(RetryNowWhereSitesAnswer(repo, jobs, /*only_site_down=*/false));
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + std::chrono::microseconds(req.wait_micros);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(ReplicationSummary s, DrainReplication(repo, filter));
    Add(s, &out.total);
    CAIRN_ASSIGN_OR_RETURN(out.left, catalog.CountJobs(jobs));
    if (!req.wait || out.left.queued + out.left.leased == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      out.gave_up = true;
      break;
    }
    // Progress while waiting: what is left, and why it is not done yet.
    CAIRN_ASSIGN_OR_RETURN(out.retrying, RetryingSites(catalog, jobs));
    if (callbacks.waiting) callbacks.waiting(out);
    // Until the next retry is due (or 5 s, for jobs leased elsewhere), within the bound.
    auto pause = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    if (!out.retrying.empty()) {
      int64_t next = out.retrying.front().next_try_micros;
      for (const RetryingSite& site : out.retrying) next = std::min(next, site.next_try_micros);
      int64_t in = next - repo.clock().NowMicros();
      pause = std::chrono::steady_clock::now() +
              std::chrono::microseconds(std::clamp<int64_t>(in, 200'000, 60'000'000));
    }
    std::this_thread::sleep_until(std::min(pause, deadline));
  }
  out.events = FlushNewEvents(repo, Readmes::kBringUpToDate);  // the replication events
  // Under the writers' lock, so every event past the head read at the start is this run's.
  if (Result<EventHead> head = catalog.GetEventHead(); head.ok()) {
    out.events.new_events = head->seq != head_before.seq;
  }
  // New copies dropped the listing memo of their versions (catalog migration 9):
  // computed again here, so that the next `cairn list` does not make a pass over
  // every replicated version's files. Best effort, like the memo itself.
  if (out.total.jobs_done > 0) (void)KeepListedCopiesOfObjects(catalog, req.partner);
  CAIRN_ASSIGN_OR_RETURN(out.left, catalog.CountJobs(jobs));
  CAIRN_ASSIGN_OR_RETURN(out.retrying, RetryingSites(catalog, jobs));
  return out;
}

}  // namespace cairn::repo
