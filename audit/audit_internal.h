// Internal to the auditor: the copies a sweep picks, one check, one repair,
// and the batched writer of replica rows and events.
#ifndef CAIRN_AUDIT_AUDIT_INTERNAL_H_
#define CAIRN_AUDIT_AUDIT_INTERNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "audit/audit.h"
#include "audit/sample.h"
#include "bagit/digest.h"
#include "proto/event.pb.h"
#include "repo/catalog/catalog_audit.h"
#include "repo/events/event_types.h"
#include "repo/site/site.h"

namespace cairn::audit::internal {

// One replica row the sweep will check, with the names a finding needs
// (blob copies picked unnamed get them from Catalog::Reader::NameCopy).
using Candidate = repo::AuditCopy;

// Replica rows in `scope` that are not pending (due ones only in kDue mode,
// next_due <= now), oldest next_due first, then thinned by `sample`.
Result<std::vector<Candidate>> PickCandidates(repo::Catalog::Reader& reader,
                                              const AuditScope& scope, AuditMode mode,
                                              const Sample& sample, int64_t now_micros);

// Hashes the whole local file `fd` (from StorageBackend::OpenForCopy) into
// `hasher`, paced by `limiter` (may be null). False, with `hasher` in an
// unspecified state, when the file is not exactly `expected_size` bytes or
// could not be read to the end: the caller then reads it through Site::Read.
bool HashLocalFile(int fd, uint64_t expected_size, RateLimiter* limiter,
                   bagit::MultiHasher& hasher);

// kStopped: the sweep was cancelled while the copy was being read; nothing is
// known about it and nothing is recorded (it stays due).
enum class Outcome { kOk, kCorrupt, kMissing, kUnavailable, kStopped };

// A copy whose reads fail while its site reads fine is given up on after this
// many sweeps in a row: its row becomes `unreadable` (not counted toward the
// policy) and it is repaired from a good copy like a corrupt one.
inline constexpr int64_t kReadsBeforeUnreadable = 3;
// Until then (and while no repair succeeds) its next check is pushed back by
// this times 2^(failures - 1), at most the fixity interval: such copies are
// not first in line at every sweep.
inline constexpr int64_t kUnreadableBackoffMicros = int64_t{6} * 3600 * 1'000'000;

struct CheckResult {
  Outcome outcome = Outcome::kOk;
  uint64_t bytes = 0;
  std::string detail;  // what was wrong, or why the site could not be read
};

// Reads the candidate's key from `site` through `limiter` (may be null),
// re-hashes it and compares size and SHA-256. NotFound is kMissing; every
// other read error is kUnavailable (never corruption).
CheckResult CheckCopy(repo::Site& site, const Candidate& copy, RateLimiter* limiter);

// One replica row update, written in a batch.
using ReplicaUpdate = repo::AuditReplicaUpdate;

struct RepairResult {
  bool repaired = false;
  bool damaged = false;  // no other copy exists that verifies, and none was unreadable
  std::string from_site;
  std::string detail;
  // Other copies found bad while looking for a good one (they get repaired
  // by a later sweep: they are due now).
  std::vector<ReplicaUpdate> other_updates;
  std::vector<Finding> other_findings;
};

// The sites one sweep found it could not read (their own sweep, or a source
// copy while repairing): the sweep's later repairs skip them at once instead
// of waiting out the storage retries again for every copy (a site that is down
// cost seconds per repair). Such repairs are "not repaired now", retried by a
// later sweep. Thread-safe.
class DownSites {
 public:
  void Add(const std::string& site) {
    std::lock_guard<std::mutex> lock(mu_);
    sites_.insert(site);
  }
  bool Contains(const std::string& site) const {
    std::lock_guard<std::mutex> lock(mu_);
    return sites_.count(site) > 0;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> sites_;
};

// Finds another replica of the same blob or tag file that verifies (ok rows
// first), removes the bad copy on `copy.site` and writes a verified one.
// Sources on a site in `down` (may be null) are skipped; a source site found
// unreadable is added to it. The other copies are looked up through `reader`.
RepairResult RepairCopy(repo::Repository& repo, repo::Catalog::Reader& reader,
                        const Candidate& copy, DownSites* down = nullptr);

// Collects replica updates, findings, events and counts; writes them in one
// catalog transaction (replica rows, audit_findings rows, audit_runs counts)
// followed by AppendEvents, every `batch_size` checks and at Flush: a sweep
// killed outright keeps the findings of every batch written, next to the
// replica rows that make the resumed sweep skip those copies. Thread-safe: a
// full batch is taken out under a short lock and written by the thread that
// filled it, while the other workers go on checking (batches are written one
// at a time).
class BatchWriter {
 public:
  BatchWriter(repo::Repository& repo, repo::Catalog::AuditRecorder& recorder, int64_t run_id,
              size_t batch_size)
      : repo_(repo), recorder_(recorder), run_id_(run_id), batch_size_(batch_size) {}
  // Adds one check's updates, findings, events and count deltas; writes when full.
  Status Add(std::vector<ReplicaUpdate> updates, std::vector<Finding> findings,
             std::vector<proto::Event> events, const AuditReport& deltas);
  Status Flush();
  // Notes, committed now, that this run repairs `copy` (AuditRecorder::BeginRepair): call before
  // the repair touches the site, and give its update `ends_repair`.
  // `found`: what the run found wrong with it (recorded by the next run if this one is killed).
  Status BeginRepair(const Candidate& copy, const Finding& found);
  // Unavailable findings stored so far, per site (see FindingsToStore).
  std::map<std::string, size_t>& unavailable_stored() { return unavailable_stored_; }

 private:
  struct Batch {
    std::vector<ReplicaUpdate> updates;
    std::vector<Finding> findings;
    std::vector<proto::Event> events;
    AuditReport deltas;
  };
  Batch TakeLocked();
  Status Write(Batch& batch);
  repo::Repository& repo_;
  repo::Catalog::AuditRecorder& recorder_;
  int64_t run_id_;
  size_t batch_size_;
  std::mutex mu_;        // current_, checks_
  std::mutex write_mu_;  // recorder_, unavailable_stored_, one batch written at a time
  Batch current_;
  size_t checks_ = 0;
  std::map<std::string, size_t> unavailable_stored_;
};

// The audit_findings rows of `findings`. Unavailable findings: at most
// kMaxUnavailableFindingsStored per site over the run, counted in
// `unavailable_stored` (the counts keep the full number).
inline constexpr size_t kMaxUnavailableFindingsStored = 1000;
std::vector<repo::AuditFindingRecord> FindingsToStore(
    std::span<const Finding> findings, std::map<std::string, size_t>& unavailable_stored);

// The repairs runs killed since began and never recorded (AuditRecorder::BegunRepairsOfEndedRuns):
// each copy is read; one that verifies gets the recovery event its run never wrote ("a repair
// begun by audit run N ... verifies now": the run may have been killed before it touched the
// copy, if a copy found bad reads good now) and its row is ok, one that does not is recorded as it
// is (missing or corrupt, due now: the next sweep repairs it) with a fixity-check event, rather
// than counted as ok until it falls due. A copy whose site cannot be read is left for a later run.
// What the killed run had found (BatchWriter::BeginRepair's `found`) is recorded too: a failed
// fixity check and a finding of this run, counted in `report` (and, repaired, as a repair).
// Written through `writer`. A copy that verifies is counted as checked by this run (as a sweep
// counts one: ok, or the killed run's finding and its repair) and its replica id put in
// `checked`: the sweep leaves it out, so its counts add up (it was read twice, and counted ok by
// the sweep beside the killed run's finding).
Status SettleKilledRepairs(repo::Repository& repo, repo::Catalog::Reader& reader,
                           repo::Catalog::AuditRecorder& recorder, BatchWriter& writer,
                           const AuditOptions& options, AuditReport& report,
                           std::unordered_set<int64_t>& checked);

// Adds the counts `d` of one check of a copy on `site` to `report` (its site's and its own).
void CountInto(AuditReport& report, const std::string& site, const AuditReport& d);

// Finishes the audit_runs row (state done or aborted, summary JSON, and `after_batches`: the
// counts found after the last batch, the sites' event logs, added to the row's) and writes
// the run's per-site counts and report.findings[first_unstored...] (those not
// written by the BatchWriter: orphans, catalog rows, event segments), in one transaction.
Status FinishRun(repo::Catalog::AuditRecorder& recorder, const AuditReport& report,
                 size_t first_unstored, std::map<std::string, size_t>& unavailable_stored,
                 const repo::AuditRunCounts& after_batches);
// The report's run-level counts, as the audit_runs row keeps them.
repo::AuditRunCounts RunCounts(const AuditReport& report);

// A finding about `copy` on `site`.
Finding MakeFinding(FindingKind kind, const Candidate& copy, const std::string& site,
                    std::string detail);

// A PREMIS event about one copy (type from repo/events/event_types.h).
proto::Event CopyEvent(const repo::EventType& type, const Candidate& copy,
                       const std::string& outcome, const std::string& detail,
                       const AuditOptions& options);

}  // namespace cairn::audit::internal

#endif  // CAIRN_AUDIT_AUDIT_INTERNAL_H_
