// Catalog rebuild: a new catalog from ONE site alone, when the catalog is gone
// (`cairn catalog rebuild --from SITE [--into REPO]`). Storage is the truth:
// a site holds, per version, the tag files and version.pb (who, when, every
// payload file with its size and SHA-256), the blobs, and the event log in
// segments. From those the rebuild recreates:
//   - the site itself (its id from CAIRN-SITE, the URL it was read from) and
//     the repository's identity (the repository id its CAIRN-SITE names, so
//     the repository's other sites are taken back by `cairn site add`);
//   - partners, objects, versions, files, tag files (version.pb included) and
//     blobs, from every bags/<partner>/<object>/v<N>/version.pb (a version
//     folder without version.pb is an incomplete deposit and is skipped: a
//     note naming `cairn gc` when nothing says it was ever a version, a
//     problem when another site holds it whole or the log records it; so is
//     a version.pb that a pending mark of options.repository_root names);
//   - replicas on that site: "ok" when the key is listed with the right size,
//     "missing" otherwise, never verified (last_verified 0, next_due now), so
//     the auditor checks them first ("verified lazily"); and on each other
//     reachable site of the settings, of every version whose version.pb it
//     lists with the same size, the keys it lists with the right size, "ok" and
//     never verified too (what it lacks is left to the replication jobs);
//   - the settings from the site's settings/ records (repo/site/settings.h):
//     sites with URLs and regions, partners with names, policies, audit
//     schedules, principals, legal holds, and withdrawals with their numbers
//     (a request not yet approved waits again for its second person; the
//     tombstones read first outrank an approval's record; a request, its
//     cancellation or approval that the site missed is taken from another
//     reachable site's record, and a site that cannot be read while a request
//     waits is a problem); the default policy `copies: 2` when none is kept there;
//   - the replication jobs the policies want (ReconcileCopies): for the
//     other sites the settings name, run `cairn replicate` once they are up
//     (a lost one: `cairn site resync NAME` first);
//   - the event history from the segments, checked link by link as it loads:
//     a broken chain loads the good prefix and is reported (never accepted
//     silently). The longest verified log among this site and the other
//     sites the settings name (reachable, same repository) is loaded when it
//     extends this site's own: existing events are never renumbered, and the
//     rebuild's own events come after them. Then one "recovery" event
//     records the rebuild;
//   - the audit history from that log (RebuildAuditHistory, rebuild_audit.cc):
//     the runs its fixity checks and repairs name, marked rebuilt (one
//     merged run for the events that name none),
//     with open findings for the failures nothing answered since; a copy
//     recorded ok whose last check on its site succeeded with its size keeps
//     that check's time as verified (the rest stay never verified).
// Sites not in the settings (a site written before settings were kept): add
// them again with `cairn site add` (a place that carries the same site id is
// adopted; an empty one is made a new site), which queues their copies, and
// run `cairn replicate`.
#ifndef CAIRN_REPO_REBUILD_H_
#define CAIRN_REPO_REBUILD_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/clock.h"

namespace cairn::repo {

class Catalog;
class Site;

struct RebuildOptions {
  std::string site_url;  // where the site was read from (recorded in the catalog)
  std::string agent_version;
  std::string user;  // empty: $USER
  // Called now and then with (versions done, versions found).
  std::function<void(uint64_t, uint64_t)> progress;
  // RebuildCatalogFile: the catalog is its repository's own (rebuilt in
  // place, not --into): its recovery event is flushed to the sites at once; the
  // site read must take it (else a problem), the others are named in notes.
  bool flush_events = false;
  // The repository folder whose pending marks (locks/P/O.pending) are read, when the rebuild
  // runs in one (`cairn catalog rebuild` with --repo or CAIRN_REPO): a version.pb that the mark
  // of its object names with its SHA-256 was left by a deposit killed before its catalog commit,
  // never acknowledged: not brought back (a note naming `cairn gc`), and another site's lack of
  // it is no problem; unless the loaded event log records its ingestion (a problem then).
  // Empty (a site alone, no repository folder): every version.pb is a version, as ever.
  std::string repository_root;
};

struct RebuildReport {
  std::string site;  // site id from CAIRN-SITE
  std::string site_url;
  uint64_t partners = 0;
  uint64_t objects = 0;
  uint64_t versions = 0;
  uint64_t files = 0;  // payload file rows
  uint64_t blobs = 0;  // distinct blobs referenced
  uint64_t tag_files = 0;
  uint64_t missing_blobs = 0;        // referenced but not on the site
  uint64_t missing_tag_files = 0;    // listed in version.pb but not on the site
  uint64_t incomplete_versions = 0;  // version folders without version.pb
  uint64_t events = 0;               // loaded from the segments
  // Events of the replaced catalog (--force) that no site held, carried over after the log
  // (RebuildCatalogFile): the reads it recorded while it was behind the sites.
  uint64_t events_carried_over = 0;
  uint64_t event_segments = 0;
  // The site whose log was loaded: the one rebuilt from, or another site of
  // the settings whose verified log extends it (the longest one).
  std::string events_site;
  bool chain_ok = true;
  uint64_t first_bad_seq = 0;
  uint64_t events_not_loaded = 0;
  std::vector<std::string> problems;  // every skipped version, missing key, chain break
  double seconds = 0;
  std::vector<std::string> notes;  // worth saying, not a problem (e.g. policy not stored)
  std::string previous_catalog;    // where a replaced catalog was kept ("" if none)
  std::vector<std::string> settings_restored;  // "partner acme (Acme Museum)", "site c ..."
  std::vector<std::string> other_sites;        // sites named by the settings, besides `site`
  uint64_t copies_lacking = 0;  // (version, site) copies the policies want, queued as jobs
  // The other reachable sites and how many of the rebuilt versions each lists (version.pb of
  // the same size): their listed copies are recorded too, never verified.
  std::vector<std::pair<std::string, uint64_t>> copies_elsewhere;

  // True when anything was skipped, missing or broken.
  bool HasProblems() const { return !problems.empty() || !chain_ok; }
  std::string ToText() const;
  nlohmann::json ToJson() const;
};

// Fills `catalog` (a NEW, empty catalog: InvalidArgument if it already holds
// sites, versions or events) from `site`. Returns the report; an error only
// when the site cannot be read or the catalog cannot be written.
Result<RebuildReport> RebuildCatalogFromSite(Site& site, Catalog& catalog,
                                             const RebuildOptions& options);

// The whole command: opens the site at `site_url`, builds the catalog in a
// temp file next to `catalog_path`, then moves it into place (an existing
// catalog there is kept as <catalog>.replaced-<time> when `replace` is set;
// otherwise AlreadyExists is returned before anything is read). The events the
// replaced catalog holds past the point where its log and the rebuilt one part,
// that no site holds, are carried over after the rebuilt log when they record a
// read (a restore's dissemination and the bad copies it met, checks, gc's
// deletions: what a catalog behind its sites still records), with their ids and
// times and new numbers (events_carried_over); the others are named in a note.
// The site is
// only read unless options.flush_events: else the recovery event reaches the
// sites' segments with the next flush of the new catalog (a rebuild --into
// beside a catalog still in use must not make the site's log diverge from it).
Result<RebuildReport> RebuildCatalogFile(const std::string& site_url,
                                         const std::string& catalog_path, bool replace,
                                         const RebuildOptions& options, Clock* clock = nullptr);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REBUILD_H_
