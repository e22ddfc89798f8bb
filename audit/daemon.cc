// RunDaemonRound and DrainRepairs.
#include "audit/daemon.h"

#include <unistd.h>

#include <set>
#include <sstream>

#include "repo/catalog/catalog.h"
#include "repo/catalog/inventory.h"
#include "repo/events/segments.h"
#include "repo/replicate/copies_queue.h"

namespace cairn::audit {
namespace {

bool Cancelled(const DaemonOptions& options) { return options.cancel && options.cancel->load(); }

std::string Owner(const DaemonOptions& options) {
  return options.owner.empty() ? "cairn-daemon " + std::to_string(::getpid()) : options.owner;
}

constexpr size_t kMaxJobsPerSweep = 4096;  // queued jobs one repair sweep takes at once

// Whether one repair sweep serves both jobs: same target site and object.
bool SameSweep(const repo::JobRecord& a, const repo::JobRecord& b) {
  return a.job.target_site() == b.job.target_site() && a.job.partner() == b.job.partner() &&
         a.job.object() == b.job.object();
}

// Runs one repair job; false when it must be retried later (with why).
Result<bool> RunRepairJob(repo::Repository& repo, const DaemonOptions& options,
                          const repo::JobRecord& job, std::string* why) {
  AuditOptions audit;
  audit.scope.site = job.job.target_site();
  audit.scope.partner = job.job.partner();
  audit.scope.object = job.job.object();
  audit.mode = AuditMode::kAll;
  audit.schedule = "repair job " + std::to_string(job.id);
  audit.user = options.user;
  audit.agent_version = options.agent_version;
  audit.cancel = options.cancel;
  audit.flush_events = false;  // the round flushes once at its end
  Result<AuditReport> report = RunAudit(repo, audit);
  if (!report.ok()) {
    if (report.status().IsNotFound()) {  // the site or partner is gone: nothing to repair
      *why = report.status().ToString();
      return true;
    }
    return report.status();
  }
  if (report->stopped || report->unavailable || !report->busy_sites.empty() || report->damaged) {
    std::ostringstream out;
    out << "site " << audit.scope.site << ": " << report->unavailable << " copies unavailable, "
        << report->damaged << " damaged" << (report->stopped ? ", stopped" : "")
        << (report->busy_sites.empty() ? "" : ", site busy");
    *why = out.str();
    return false;
  }
  return true;
}

}  // namespace

std::string DaemonRound::Summary() const {
  size_t with_problems = 0;
  uint64_t checked = 0;
  for (const ScheduleRun& s : schedules) {
    checked += s.report.checked;
    if (!s.status.ok() || s.report.HasProblems()) ++with_problems;
  }
  std::ostringstream out;
  out << schedules.size() << " schedules run (" << checked << " copies checked, " << with_problems
      << " with problems), " << replication.jobs_done << " replication jobs done ("
      << replication.jobs_failed << " left for later), " << repairs.jobs_done
      << " repair jobs done (" << repairs.jobs_retry << " left for later)"
      << (cancelled ? ", stopped early" : "");
  return out.str();
}

Result<RepairSummary> DrainRepairs(repo::Repository& repo, const DaemonOptions& options) {
  RepairSummary summary;
  repo::JobFilter filter;
  filter.kind = proto::JOB_KIND_REPAIR;
  const std::string owner = Owner(options);
  while (!Cancelled(options)) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<repo::JobRecord> jobs,
                           repo.catalog().LeaseJobs(8, options.lease_micros, owner, filter));
    if (jobs.empty()) break;
    std::set<int64_t> handled;
    for (const repo::JobRecord& job : jobs) {
      if (handled.count(job.id)) continue;
      // One sweep checks every copy of the object on the target site: it
      // serves every job queued for the same site and object (a restore
      // queues one per bad copy), those of this lease and those still queued.
      std::vector<repo::JobRecord> group;
      for (const repo::JobRecord& other : jobs) {
        if (!handled.count(other.id) && SameSweep(other, job)) group.push_back(other);
      }
      repo::JobFilter same = filter;
      same.partner = job.job.partner();
      same.object = job.job.object();
      same.target_site = job.job.target_site();
      CAIRN_ASSIGN_OR_RETURN(
          std::vector<repo::JobRecord> queued,
          repo.catalog().LeaseJobs(kMaxJobsPerSweep, options.lease_micros, owner, same));
      group.insert(group.end(), queued.begin(), queued.end());
      std::string why;
      Result<bool> done = Cancelled(options) ? false : RunRepairJob(repo, options, job, &why);
      if (!done.ok()) return done.status();
      for (const repo::JobRecord& member : group) {
        handled.insert(member.id);
        if (*done) {
          ++summary.jobs_done;
          CAIRN_RETURN_IF_ERROR(repo.catalog().CompleteJob(member.id));
        } else {
          ++summary.jobs_retry;
          if (!why.empty())
            summary.errors.push_back("repair job " + std::to_string(member.id) + ": " + why);
          // Retryable: queued again after the backoff (a cancelled job at once
          // would be retried too early, the backoff is fine for it as well).
          CAIRN_RETURN_IF_ERROR(repo.catalog().FailJob(
              member.id, Status::Unavailable(why.empty() ? "daemon stopping" : why)));
        }
      }
    }
  }
  return summary;
}

std::string MaybeCollectGarbage(repo::Repository& repo, const DaemonOptions& options,
                                int64_t* last_gc_micros, std::vector<std::string>* problems) {
  if (options.gc_interval_micros <= 0 || Cancelled(options)) return "";
  const int64_t now = repo.clock().NowMicros();
  if (*last_gc_micros != 0 && now - *last_gc_micros < options.gc_interval_micros) return "";
  repo::GcOptions gc;
  gc.grace_micros = options.gc_grace_micros;
  gc.user = options.user;
  gc.agent_version = options.agent_version;
  gc.lock_timeout_ms = 0;  // only when no writer is in flight: never blocks a deposit
  Result<repo::GcReport> report = repo::CollectGarbage(repo, gc);
  if (!report.ok()) {
    if (report.status().code() == Code::kUnavailable) return "";  // writers busy: next round
    problems->push_back("gc: " + report.status().ToString());
    return "";
  }
  *last_gc_micros = now;
  for (const std::string& e : report->errors) problems->push_back("gc: " + e);
  if (!report->events.status.ok()) {
    problems->push_back("gc: event segments: " + report->events.status.ToString());
  }
  std::ostringstream out;
  out << "gc: " << report->blobs_listed << " blobs listed, " << report->removed.size()
      << " unreferenced blobs removed (" << report->bytes_removed << " bytes), "
      << report->waiting.size() << " kept within the grace period";
  return out.str();
}

Result<DaemonRound> RunDaemonRound(repo::Repository& repo, const DaemonOptions& options) {
  // The whole round under the writers' lock: released before MaybeCollectGarbage, which
  // wants it alone.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<repo::Repository::WriterLock> lock, repo.LockForWriting());
  DaemonRound round;
  ScheduleRunOptions schedule_options;
  schedule_options.user = options.user;
  schedule_options.agent_version = options.agent_version;
  schedule_options.cancel = options.cancel;
  CAIRN_ASSIGN_OR_RETURN(round.schedules, RunDueSchedules(repo, schedule_options));
  for (const ScheduleRun& s : round.schedules) {
    for (const std::string& n : s.report.events.notes) round.notes.push_back(n);
    if (!s.status.ok()) {
      round.problems.push_back(s.status.ToString());
    } else if (s.report.HasProblems()) {
      std::ostringstream out;
      out << "schedule " << s.schedule << " (audit run " << s.report.run_id
          << "): " << s.report.corrupt << " corrupt, " << s.report.missing << " missing, "
          << s.report.repaired << " repaired, " << s.report.damaged << " damaged, "
          << s.report.unavailable << " not checked (site unavailable, retried later)";
      round.problems.push_back(out.str());
    }
  }
  if (!Cancelled(options)) {
    // Copies the policies want but the sites lack (a site rebuilt empty, a
    // catalog rebuilt from one site) are queued every round; jobs that failed
    // for good stay failed for an operator to see.
    repo::ReconcileOptions reconcile;
    reconcile.revive_failed = false;
    CAIRN_ASSIGN_OR_RETURN(repo::ReconcileSummary reconciled,
                           repo::ReconcileCopies(repo.catalog(), reconcile));
    for (const std::string& p : reconciled.problems) round.problems.push_back("policy: " + p);
    // Copies that failed because their site could not be reached, on a site that answers
    // again: made this round, not hours later at the end of a long outage's backoff.
    CAIRN_RETURN_IF_ERROR(repo::RetryNowWhereSitesAnswer(repo, {}, /*only_site_down=*/true));
    repo::ReplicationOptions replication;
    replication.owner = Owner(options);
    replication.lease_micros = options.lease_micros;
    replication.cancel = options.cancel;  // SIGTERM: the drain stops between copies
    CAIRN_ASSIGN_OR_RETURN(round.replication, repo::DrainReplication(repo, {}, replication));
    for (const std::string& e : round.replication.errors) {
      round.problems.push_back("replication: " + e);
    }
  }
  if (!Cancelled(options)) {
    CAIRN_ASSIGN_OR_RETURN(round.repairs, DrainRepairs(repo, options));
    for (const std::string& e : round.repairs.errors) round.problems.push_back(e);
  }
  // Copies made, repaired or found bad this round dropped their versions' listing
  // counts (catalog migration 9): computed again here, in the background, instead
  // of by the next `cairn list`. Best effort, like the memo itself.
  if (!Cancelled(options) && (round.replication.jobs_done > 0 || round.repairs.jobs_done > 0 ||
                              !round.schedules.empty())) {
    (void)repo::KeepListedCopiesOfObjects(repo.catalog(), "");
  }
  round.cancelled = Cancelled(options);
  // Events of this round to every reachable site; a site that is down catches up later.
  // A site whose log diverged from the catalog's is a problem of the round.
  repo::EventsFlushed flushed = repo::FlushNewEvents(repo, repo::Readmes::kBringUpToDate);
  for (std::string& n : flushed.notes) round.notes.push_back(std::move(n));
  if (!flushed.status.ok())
    round.problems.push_back("event segments: " + flushed.status.ToString());
  for (const std::string& p : flushed.problems) round.problems.push_back("event segments: " + p);
  return round;
}

}  // namespace cairn::audit
