// The fixity auditor (issue 5): a sweep re-reads copies of blobs and tag files
// from their sites, re-hashes them (SHA-256) and compares with the catalog.
//
//   AuditOptions options;            // due copies, oldest first, every site
//   options.sample = "1/4";          // a quarter: 4 sweeps cover every copy
//   CAIRN_ASSIGN_OR_RETURN(AuditReport report, RunAudit(repo, options));
//
// Outcomes are kept apart: ok, corrupt (wrong bytes or size), missing (the
// site has no such key), unavailable (the site could not be read: retried
// by a later sweep, never called corruption, never "damaged") and unreadable
// (this copy could not be read while its site's marker reads fine: bad
// sectors; the copy is backed off, and after kReadsBeforeUnreadable failed
// sweeps in a row its row becomes `unreadable`, no longer counted toward the
// policy, and it is repaired like a corrupt one). A corrupt, missing or
// unreadable copy is repaired from another copy that verifies first, then
// re-verified; when no good copy exists the object is "damaged". Every check,
// failure and repair is a PREMIS event. Replica rows (state, last_verified,
// next_due) are committed in batches, with the batch's findings, so a killed
// sweep resumes where it stopped (verified copies are no longer due) and its
// findings stay in its audit run.
#ifndef CAIRN_AUDIT_AUDIT_H_
#define CAIRN_AUDIT_AUDIT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/clock.h"
#include "repo/events/segments.h"
#include "repo/site/repository.h"

namespace cairn::audit {

enum class AuditMode { kDue, kAll };

// What a sweep covers and how fast it may go.
struct AuditScope {
  std::string site;     // "" : every site
  std::string partner;  // "" : every partner
  std::string object;   // "" : every object (REQUIRES partner when set)
};

// Progress of a running sweep, for a progress line.
struct AuditProgress {
  uint64_t planned = 0;  // copies picked for this sweep
  uint64_t checked = 0;
  uint64_t planned_bytes = 0;
  uint64_t bytes = 0;
  uint64_t problems = 0;  // corrupt + missing + unavailable so far
};

struct AuditOptions {
  AuditScope scope;
  // "" (everything picked), "10%" (that share of the picked copies, oldest
  // first), "n/t" (bucket n of t by digest: t sweeps with n = 1..t cover every
  // copy exactly once) or a size such as "500M" (oldest copies up to that many
  // bytes). See ParseSample.
  std::string sample;
  uint64_t rate_bytes_per_sec = 0;  // per site; 0: no limit
  AuditMode mode = AuditMode::kDue;
  unsigned threads = 0;  // sites checked at once; 0: every site in scope
  // Copies of one site read and hashed at once; 0: the number of cores.
  unsigned workers_per_site = 0;
  // Also list each site's blobs and version records (bags/) against the
  // catalog: blobs, tag files and version.pb files it does not know, version
  // records missing from a site whose copy it counts, entries with no ok copy.
  bool orphans = false;
  bool repair = true;    // repair corrupt and missing copies
  std::string schedule;  // schedule name recorded in audit_runs ("" : by hand)
  std::string user;      // for events; "" : $USER
  std::string agent_version;
  size_t batch_size = 2048;  // checks whose rows and events are committed together
  // Set to true (e.g. by SIGTERM) to stop after the checks in flight.
  std::atomic<bool>* cancel = nullptr;
  // Called (serialized) after each check.
  std::function<void(const AuditProgress&)> progress;
  // Sleeps of the rate limiter; nullptr: real sleep. Tests pass a fake.
  std::function<void(int64_t micros)> sleep;
  // Copy the run's events to the sites' logs at its end (AuditReport::events).
  // False only for a caller that flushes once after many runs (a daemon round).
  bool flush_events = true;
};

enum class FindingKind {
  kCorrupt,
  kMissing,
  kUnavailable,
  kDamaged,
  kOrphan,
  kNoCopy,
  kCatalogMismatch,  // a files row disagrees with the version.pb the sites hold
  kUnreadable,       // this copy's reads failed while its site read fine
  // A tag file or version.pb on a site with no catalog version/tag file row, or a blob the
  // catalog does not list for the site that such a version.pb names (not an orphan).
  kUncataloged,
  // A blob on a site of a version the catalog holds, whose copy on that site the catalog does
  // not record yet (a catalog rebuilt while the site was out of reach): not an orphan, and no
  // version the catalog lacks. Stored in audit_findings as "unrecorded-copy" (migration 23).
  kUnrecordedCopy,
  // A file Cairn did not write where the site layout allows only its own (under blobs/sha256/,
  // a key that is no blob key; under bags/, one outside any v<N>/ folder or that no version's
  // layout allows; in a known version's folder, none of its files; at the site's top level, a
  // name the layout does not use). Never removed by Cairn. Stored in audit_findings as
  // "stray-file" (migration 23).
  kStrayFile,
};
// "corrupt", "missing", "unavailable", "damaged", "orphan", "no-copy", "catalog-mismatch",
// "unreadable", "uncataloged", "unrecorded-copy", "stray-file".
std::string_view FindingKindName(FindingKind kind);

// One problem, named the way an operator looks for it.
struct Finding {
  FindingKind kind = FindingKind::kCorrupt;
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string path;  // payload path or tag file name ("" for orphans)
  std::string site;
  std::string sha256;
  std::string detail;
  bool repaired = false;
  std::string repaired_from;  // site the good copy came from
  // Not repaired, yet nothing left to do (read back from the history): why, "site removed" when
  // its site was taken out since. "" : open, or repaired.
  std::string closed;
};

// "P/O@vN PATH on site S (sha256 X): REPAIRED from site Y: DETAIL", with the parts the finding
// has: no object for a site's event segment (its key is in the detail), no digest where there
// is none, "REPAIRED from the catalog" where the good copy came from the catalog, "CLOSED (site
// removed)" where the finding was closed without a repair.
std::string FindingText(const Finding& f);

// What one sweep did on one site.
struct SiteCounts {
  uint64_t checked = 0;  // read to the end: ok + corrupt + missing
  uint64_t ok = 0;
  uint64_t corrupt = 0;
  uint64_t missing = 0;
  uint64_t unavailable = 0;
  uint64_t unreadable = 0;  // not read to the end, the site reading fine
  uint64_t repaired = 0;
  uint64_t damaged = 0;
  uint64_t bytes = 0;
};

struct AuditReport {
  int64_t run_id = 0;  // audit_runs row
  int64_t started_micros = 0;
  int64_t finished_micros = 0;
  bool stopped = false;  // cancelled: the rest stays due
  uint64_t planned = 0;
  uint64_t checked = 0;  // copies read to the end (ok + corrupt + missing)
  uint64_t ok = 0;
  uint64_t corrupt = 0;
  uint64_t missing = 0;
  uint64_t unavailable = 0;  // copies not checked: their site could not be read
  // Copies whose reads failed while their site read fine (the site's marker
  // did): counted each sweep, `unreadable` and repaired after a few in a row.
  uint64_t unreadable = 0;
  uint64_t repaired = 0;
  uint64_t damaged = 0;  // copies with no good copy anywhere to repair from
  uint64_t bytes = 0;
  uint64_t orphans = 0;  // newly found (each reported once)
  // Orphan blobs no version references that an earlier sweep already
  // reported (gc candidates awaiting `cairn gc`): counted, not a problem.
  uint64_t orphans_known = 0;
  uint64_t no_copy = 0;
  uint64_t catalog_mismatch = 0;  // files rows that disagree with version.pb (--all)
  // Orphans pass: tag files and version.pb files on a site that no catalog
  // version (or tag file row) lists, and the blobs such a version.pb names that
  // the catalog does not list for the site; version.pb files missing from a site
  // whose copy the catalog counts as ok.
  uint64_t uncataloged = 0;
  // Of `uncataloged`, the tag files of a version folder without version.pb the catalog does not
  // list, and the version.pb, tag files and blobs of a version the catalog does not list whose
  // record the repository's pending mark names (a deposit killed before its catalog commit):
  // left by an interrupted deposit, never a version; `cairn gc` removes them.
  uint64_t interrupted_deposit_files = 0;
  // Of those files, the ones of a version the catalog records as purged (a site put back from a
  // copy taken before the purge): findings of kind uncataloged, whose detail says so, counted
  // here and not in `uncataloged`, for `cairn withdraw run` removes them and a rebuild must never
  // bring them back. `left_of_purge_sites`: the sites holding them.
  uint64_t left_of_purge = 0;
  std::set<std::string> left_of_purge_sites;
  // Orphans pass: blobs on a site of versions the catalog holds, whose copies there it does not
  // record yet (kUnrecordedCopy findings; `cairn replicate --wait` records them), and the sites
  // holding them. Not counted in `uncataloged` nor as orphans.
  uint64_t unrecorded_copies = 0;
  std::set<std::string> unrecorded_copies_sites;
  // Orphans pass: kStrayFile findings (files Cairn did not write, left to the operator) and the
  // sites holding them.
  uint64_t stray_files = 0;
  std::set<std::string> stray_files_sites;
  uint64_t records_missing = 0;
  std::vector<std::string> unavailable_sites;  // "b: why"
  std::vector<std::string> busy_sites;         // another sweep held the site's lock
  std::vector<Finding> findings;
  std::map<std::string, SiteCounts> sites;  // by site name
  int64_t select_micros = 0;                // time spent picking the copies (scheduling overhead)
  repo::EventsFlushed events;               // the run's events on the sites' logs

  // True when something needs an operator (exit code 1): corrupt, missing,
  // unreadable or damaged copies, orphans, uncataloged or missing version
  // records, what is left of a purge, copies the catalog does not record yet, stray files, entries
  // without a copy, or copies left unchecked because a site was unavailable or busy.
  bool HasProblems() const;
};

// Runs one sweep under the writers' lock (taken here), then copies its events to the sites' logs
// (unless !options.flush_events). Returns an error only when the sweep could not run (bad options,
// catalog failure); every storage problem is a finding.
Result<AuditReport> RunAudit(repo::Repository& repo, const AuditOptions& options);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_AUDIT_H_
