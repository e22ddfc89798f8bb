// Replication: copies of every blob and tag file of a version on as many sites
// as the policy wants, driven by durable jobs in the catalog queue (issue 4).
// A copy counts only after it has been read back from the target site and its
// SHA-256 matches; a site that is down leaves its job queued for a later drain
// (`cairn replicate`, the daemon, the next deposit of the object).
//
// Jobs (proto::Job, kind JOB_KIND_REPLICATE) come in three grains:
//   - blob and tag_file empty: the whole version partner/object@version (what
//     deposit enqueues: one job per target site, not one per file);
//   - blob set: that blob only; tag_file set: that tag file of the version.
// Each copies from source_site when it holds a good copy, else from any site
// whose copy the catalog says is ok. version.pb is always copied last.
#ifndef CAIRN_REPO_REPLICATE_H_
#define CAIRN_REPO_REPLICATE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "proto/policy.pb.h"
#include "repo/catalog/catalog_types.h"
#include "repo/events/segments.h"
#include "repo/replicate/copies_queue.h"

namespace cairn::repo {

class Repository;

// The sites a policy puts copies on, first site first: the policy's `sites`
// in their order when it names some, else every site by name; with `regions`
// at most one site per region, regions taken from the list. Returns at most
// `copies` names. InvalidArgument when fewer sites than `copies` qualify,
// naming what is missing.
Result<std::vector<std::string>> PlanCopySites(const proto::Policy& policy,
                                               const std::vector<SiteRecord>& sites);

struct ReplicationFilter {
  std::optional<std::string> partner;
  std::optional<std::string> object;
  std::optional<std::string> target_site;
};

// The queue's filter for the replication jobs `filter` matches.
JobFilter ReplicationJobs(const ReplicationFilter& filter);

struct ReplicationOptions {
  // Owner name of the leases taken (e.g. "deposit 1234"); "" : "cairn <pid>".
  std::string owner;
  // How long a leased job stays invisible to others (a crashed worker's jobs
  // come back after this).
  int64_t lease_micros = 15 * 60 * 1'000'000LL;
  // Copies in flight at once per target site (blobs and tag files of a job
  // overlap their writes, fsyncs and read-backs); 0: IoWorkers().
  unsigned threads_per_site = 0;
  // Set (e.g. by SIGTERM) to stop early: no job is leased or started and no
  // copy begun after it is seen; copies in flight finish, are read back and
  // count (they are verified). The job in progress and the leased jobs not
  // started are released to the queue (not failed, no attempt counted): the
  // next drain takes them again and skips what is already copied.
  const std::atomic<bool>* cancel = nullptr;
  // Tests: called after each copy is verified and recorded.
  std::function<void()> after_copy;
};

struct ReplicationSummary {
  uint64_t jobs_done = 0;
  uint64_t jobs_failed = 0;              // left queued for a retry, or failed for good
  uint64_t copies_made = 0;              // blobs and tag files written and verified
  uint64_t copies_verified_present = 0;  // already on the target, verified
  uint64_t bytes_copied = 0;
  uint64_t jobs_released = 0;  // given back to the queue unfinished (cancelled)
  // One line per failed job: "site b: partner/object@v1: <why>".
  std::vector<std::string> errors;
};

// Leases and runs every due replication job matching `filter`, one worker per
// target site (each with a pool of copy threads) (a slow or dead site does not hold up the others),
// until no due job is left. A job that fails is given back to the queue with its error (retried
// after the catalog's backoff when the error is retryable). Records a PREMIS replication event per
// job done. Returns an error only when the catalog itself fails.
Result<ReplicationSummary> DrainReplication(Repository& repo, const ReplicationFilter& filter,
                                            const ReplicationOptions& options = {});

// Makes the queued jobs matching `filter` that wait out a backoff due now, attempts kept, on
// each site that opens now (its marker read: a share mounted again, a gateway back). With
// `only_site_down`, only the jobs whose last error was that a site could not be reached (a
// daemon round: other failures keep their backoff); otherwise every one (a person asking for
// the copies now: `cairn replicate`, `site resync`).
Status RetryNowWhereSitesAnswer(Repository& repo, const JobFilter& filter, bool only_site_down);

// What a partner reads in an event about its version on `site` (replication, resync): "site b
// holds all 6 payload files (20972463 bytes) and the tag files of the version", the version's
// own counts from the catalog. Never how many were copied: a file another partner's version had
// already put there is not copied, and counting it would tell the partner what others hold.
std::string VersionOnSiteText(Catalog& catalog, const std::string& partner,
                              const std::string& object, uint32_t version, const std::string& site);

// `cairn replicate` for any caller: the copies the policies want but the sites
// lack queued (ReconcileCopies), the queue drained, the events flushed.
struct ReplicateRequest {
  std::string partner;      // only this partner's objects when not empty
  std::string object;       // only this object (needs partner)
  std::string target_site;  // only copies to this site
  // Keep draining until no matching job is queued or leased (retries are
  // waited for), for at most wait_micros; then gave_up.
  bool wait = false;
  int64_t wait_micros = 0;
};

struct ReplicateOutcome {
  ReconcileSummary reconciled;         // before the drain
  ReplicationSummary total;            // of every drain
  JobCounts left;                      // the matching jobs after it
  std::vector<RetryingSite> retrying;  // copies still owed, by site
  bool gave_up = false;                // the wait ran out
  EventsFlushed events;                // the replication events on the sites' logs
};

// Callbacks of Replicate, each optional: `reconciled` once, before the drain;
// `waiting` before each pause of a wait, with what is done, left and retrying.
struct ReplicateCallbacks {
  std::function<void(const ReplicateOutcome&)> reconciled;
  std::function<void(const ReplicateOutcome&)> waiting;
};

// Checks the ids (NotFound for an unknown partner, object or site;
// InvalidArgument for an object without its partner), takes the writers'
// lock, queues what the policies lack, drains (and waits), flushes the new
// events. Returns an error when it could not run (ids, lock, catalog).
Result<ReplicateOutcome> Replicate(Repository& repo, const ReplicateRequest& request,
                                   const ReplicateCallbacks& callbacks = {});

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REPLICATE_H_
