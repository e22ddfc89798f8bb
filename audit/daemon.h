// One round of the Cairn daemon (`cairn daemon`): run the audit schedules that
// are due, drain the replication queue, then the repair queue. A site that is
// down never makes a round fail: its work stays queued (or due) and the next
// round retries it.
//
//   std::atomic<bool> stop{false};           // set by SIGTERM
//   DaemonOptions options;
//   options.cancel = &stop;
//   while (!stop) { auto round = RunDaemonRound(repo, options); ... sleep ... }
#ifndef CAIRN_AUDIT_DAEMON_H_
#define CAIRN_AUDIT_DAEMON_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "audit/schedule.h"
#include "bagit/status.h"
#include "repo/deposit/gc.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"

namespace cairn::audit {

struct DaemonOptions {
  std::string user;  // for events; "" : $USER
  std::string agent_version;
  std::string owner;  // lease owner of jobs; "" : "cairn-daemon <pid>"
  int64_t lease_micros = 15 * 60 * 1'000'000LL;
  // Set (e.g. by SIGTERM) to stop: sweeps stop after the checks in flight
  // (their copies stay due), no new job is leased; a replication job being
  // run stops after the copies in flight (verified ones count) and goes back
  // to the queue (repo::ReplicationOptions::cancel).
  std::atomic<bool>* cancel = nullptr;
  // The garbage collector (repo/deposit/gc.h) runs after a round once this long has
  // passed since the daemon's last collection (the first round collects);
  // 0: never. It never waits for the writers' lock: a round whose deposits
  // (or other writers) hold it skips gc and the next round tries again.
  int64_t gc_interval_micros = int64_t{24} * 3600 * 1'000'000;
  int64_t gc_grace_micros = repo::kDefaultGcGraceMicros;
};

struct RepairSummary {
  uint64_t jobs_done = 0;   // the copies on the target site verified or repaired
  uint64_t jobs_retry = 0;  // left for a later round (site down, no good copy yet)
  std::vector<std::string> errors;
};

struct DaemonRound {
  std::vector<ScheduleRun> schedules;
  repo::ReplicationSummary replication;
  RepairSummary repairs;
  // Problems an operator should see (a schedule that could not run, a sweep
  // with findings, a job left for later); none of them stops the daemon.
  std::vector<std::string> problems;
  // What the round did besides that an operator is told once (a site's README.txt brought up
  // to date: repo::EventsFlushed::notes); never a problem.
  std::vector<std::string> notes;
  bool cancelled = false;

  // "2 schedules run (1 with problems), 3 replication jobs, 1 repair job".
  std::string Summary() const;
};

// Runs one round, under the repository's writers' lock (taken and released here).
// Returns an error only when the catalog itself fails (or the lock cannot be taken).
Result<DaemonRound> RunDaemonRound(repo::Repository& repo, const DaemonOptions& options);

// The daemon's gc step: when options.gc_interval_micros has passed since
// `*last_gc_micros` (0: never ran), collects garbage with the grace period,
// taking ROOT/writers.lock exclusively only if it is free at once (never
// blocking deposits) and without holding any lock of the caller's (call it
// after the round's lock is released). Each removal is a PREMIS deletion
// event, flushed to the sites. Returns "" when gc did not run (not due, or
// writers busy: `*last_gc_micros` unchanged, retried next round), else its
// one-line summary; a collection that found problems puts them in `problems`.
std::string MaybeCollectGarbage(repo::Repository& repo, const DaemonOptions& options,
                                int64_t* last_gc_micros, std::vector<std::string>* problems);

// Repair jobs (kind JOB_KIND_REPAIR, queued by restore, resync and others):
// for each, every copy of the job's object on its target site is checked and
// repaired from a good copy (a sweep scoped to that site and object, mode
// all). A job whose sweep left copies unchecked or damaged is given back to
// the queue (retried after the catalog's backoff). Part of RunDaemonRound.
Result<RepairSummary> DrainRepairs(repo::Repository& repo, const DaemonOptions& options);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_DAEMON_H_
