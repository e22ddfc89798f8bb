// Reconciling what the policies demand against what the sites hold: for every
// version, the sites its partner's policy wants (PlanCopySites) against the
// sites where every blob and tag file of the version is ok; one replication
// job per (version, wanted site) short of it. Run by Replicate before it
// drains (repo/replicate/replicate.h), by the daemon every round, by SetPolicy and
// AddSite (repo/site/settings.h) and by the catalog rebuild: whatever lost the
// copies (a site rebuilt empty, a catalog rebuilt from one site, a raised
// policy), the next drain brings them back. A copy counts only once read back.
#ifndef CAIRN_REPO_COPIES_QUEUE_H_
#define CAIRN_REPO_COPIES_QUEUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_types.h"

namespace cairn::repo {

class Catalog;

struct ReconcileOptions {
  std::string partner;  // only this partner's versions when not empty
  // Queue again a job that failed for good (an operator asked: `cairn
  // replicate`, `site add`, `policy set`); the daemon leaves them failed, for
  // an operator to see, instead of retrying them forever.
  bool revive_failed = true;
};

struct ReconcileSummary {
  uint64_t versions_checked = 0;
  uint64_t versions_short = 0;  // lacking a complete ok copy on a wanted site
  uint64_t copies_short = 0;    // (version, wanted site) pairs lacking: one job each
  uint64_t jobs_queued = 0;     // of those, jobs newly put in the queue (others were there)
  std::map<std::string, uint64_t> short_by_site;     // target site -> copies lacking
  std::map<std::string, uint64_t> short_by_partner;  // partner -> copies lacking
  // Partners whose policy cannot be met by the sites there are (the reason).
  std::vector<std::string> problems;

  // One line, e.g. "4 copies lacking (site a 2, site c 2; partner acme 2,
  // partner zeta 2): 4 jobs queued", or "every version has its copies".
  std::string ToText() const;
};

// For every version with an ok copy somewhere (of options.partner only when
// set): the sites the effective policy wants, and for each wanted site not
// holding every item of the version ok, one replication job
// (JOB_KIND_REPLICATE, the whole version, source: the site holding the most
// items ok). Jobs already queued are not duplicated. One SQL pass
// (Catalog::ForEachVersionCopies) and one transaction for the jobs.
Result<ReconcileSummary> ReconcileCopies(Catalog& catalog, const ReconcileOptions& options = {});

// The queued jobs of one target site that have failed before (issue 15: the
// copies still owed are never a silent success).
struct RetryingSite {
  std::string site;
  uint64_t jobs = 0;
  int64_t next_try_micros = 0;  // the earliest retry
  uint32_t attempts = 0;        // the most attempts of any of them
  std::string last_error;       // of the job tried last
};

// The queued (not leased, not failed for good) jobs matching `filter` that
// carry an error, by target site. Jobs never tried yet are not included.
Result<std::vector<RetryingSite>> RetryingSites(Catalog& catalog, const JobFilter& filter);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_COPIES_QUEUE_H_
