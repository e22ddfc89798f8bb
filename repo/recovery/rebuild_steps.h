// Internal to catalog rebuild: the steps RebuildCatalogFromSite (rebuild.cc) takes that live in
// rebuild_events.cc and rebuild_settings.cc.
#ifndef CAIRN_REPO_REBUILD_STEPS_H_
#define CAIRN_REPO_REBUILD_STEPS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bagit/status.h"
#include "repo/recovery/rebuild.h"

namespace cairn::repo {

class Catalog;
class Site;

// rebuild_events.cc: loads the site's event history into the catalog.
Status LoadSiteEvents(Site& site, Catalog& catalog, RebuildReport* report);
// rebuild_settings.cc: the settings from the site's settings/ records (the
// default policy `copies: 2` when it holds none), merged with the withdrawal records of the other
// reachable sites (a cancellation or approval the site missed is taken from them), then
// `before_queueing`, then the copies the policies want queued.
Status RestoreRebuildSettings(Site& site, Catalog& catalog, RebuildReport* report,
                              const std::function<Status()>& before_queueing);
// A version the rebuild put in the catalog, with its row id.
struct CatalogVersion {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  int64_t id = 0;
};
// rebuild_audit.cc: the audit history from the loaded event log (run after LoadSiteEvents): an
// audit run under each number its events name ("(by audit run N)"), then one for the events
// that name none (written before they did), each with its report JSON marked {"rebuilt": {"at",
// "from_site", "events_site", "merged", "not_known"}}, counting the fixity checks and repairs
// per site, from the first to the last event, with a finding per failed check (repaired when a
// later repair or good check of that copy answers it); each copy of `versions` recorded ok and
// never verified whose last fixity check on its site succeeded with its size gets that check's
// time as verified (due a policy interval later); and a copy whose last check failed that the
// catalog does not record on that site is recorded bad, as the check found it. Nothing when the
// log records no fixity check (a note says so).
Status RebuildAuditHistory(Catalog& catalog, const std::vector<CatalogVersion>& versions,
                           RebuildReport* report);
// rebuild_events.cc: the other sites of the rebuilt catalog's settings that are reachable
// and belong to the same repository, by name. `not_opened` (when not null) gets each other site
// of the settings that is not: (name, why).
std::vector<std::pair<std::string, std::unique_ptr<Site>>> OpenOtherSites(
    Site& site, Catalog& catalog,
    std::vector<std::pair<std::string, std::string>>* not_opened = nullptr);
// rebuild_events.cc: the other reachable sites' tombstones: a withdrawal this site lacks for a
// version it holds is restored from them, and a purge withdrawal read back as merely withdrawn
// (the site still holds the version) whose purge another site shows begun (its tombstone there,
// its version.pb gone) is begun in the catalog too (Catalog::BeginPurge); each named as a problem.
Status ResumePurgesBegunElsewhere(Site& site, Catalog& catalog, RebuildReport* report);
// rebuild_events.cc: a problem for each complete version another reachable site holds that the
// rebuilt catalog lacks, with the rebuild that takes it in: the site rebuilt from missed it,
// or, for a version in `incomplete` (its folder there without a readable version.pb: version
// name -> the index of its "no version.pb" or "not a version record" problem, which is then
// replaced), lost its record.
// A version.pb another site holds that a pending mark of `repository_root` (non-empty) names
// (an interrupted deposit's leftover) is a note naming `cairn gc`, not a problem.
void ReportVersionsOnlyElsewhere(Site& site, Catalog& catalog,
                                 const std::map<std::string, size_t>& incomplete,
                                 const std::string& repository_root, RebuildReport* report);
// rebuild_events.cc: appends the "recovery" event that records the rebuild.
Status RecordRebuildEvent(Catalog& catalog, const RebuildOptions& options,
                          const RebuildReport& report);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_REBUILD_STEPS_H_
