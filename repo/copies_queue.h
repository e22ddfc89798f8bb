// Queueing the copies a policy wants but the catalog does not show: after
// `cairn policy set` raises copies or names new sites or regions, after a
// catalog rebuild, or whenever an operator asks. `cairn replicate` (or the
// daemon) then drains the jobs: a copy counts only once read back.
#ifndef CAIRN_REPO_COPIES_QUEUE_H_
#define CAIRN_REPO_COPIES_QUEUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/status.h"

namespace cairn::repo {

class Catalog;

struct QueuedCopies {
  uint64_t versions_checked = 0;
  uint64_t versions_short = 0;  // lacking a complete ok copy on a wanted site
  uint64_t jobs_queued = 0;     // one per (version, wanted site) lacking copies
  // Partners whose policy cannot be met by the sites there are (the reason).
  std::vector<std::string> problems;
};

// For every version (of `partner` only when not empty): the sites the
// effective policy wants (PlanCopySites), and for each wanted site where any
// blob or tag file of the version lacks an ok replica, one replication job
// (JOB_KIND_REPLICATE, the whole version, source: a site holding ok copies).
// Jobs already queued are not duplicated (the catalog dedups them).
Result<QueuedCopies> QueueMissingCopies(Catalog& catalog, const std::string& partner = "");

}  // namespace cairn::repo

#endif  // CAIRN_REPO_COPIES_QUEUE_H_
