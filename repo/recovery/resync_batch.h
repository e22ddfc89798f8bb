// Internal to site resync: one batch of leased version jobs, checked and
// copied on a few threads.
#ifndef CAIRN_REPO_RESYNC_BATCH_H_
#define CAIRN_REPO_RESYNC_BATCH_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "repo/catalog/catalog_types.h"
#include "repo/recovery/resync.h"
#include "repo/replicate/site_copy.h"

namespace cairn::repo {

class Repository;
class Site;

namespace resync_internal {

// One blob or tag file the catalog puts on the target site.
struct ResyncItem {
  SiteCopyItem copy;
  bool target_state_ok = false;  // the catalog's replica on the target is "ok"
  // kDuplicate: the same key was handled by another item of this run (a blob
  // shared by two versions): not counted twice, no second state update.
  enum class Outcome { kTodo, kPresent, kCopied, kFailed, kDuplicate } outcome = Outcome::kTodo;
  std::string source;  // the site it was copied from
  std::string error;
};

// A leased job with its items.
struct ResyncJob {
  JobRecord record;
  std::string name;  // "partner/object@vN"
  std::vector<ResyncItem> items;
  uint32_t fixity_days = 0;
  Status plan_error;  // the job could not be planned (version gone, catalog error)
};

// Reads what the job covers from the catalog: the version's blobs and tag
// files with a replica on `target`, restricted to job.blob / job.tag_file
// when set. The catalog error, if any, goes in job->plan_error.
void PlanJob(Repository& repo, const std::string& target, ResyncJob* job);

// Shared progress of the run, reported through options.progress.
struct ProgressState {
  std::mutex mu;
  ResyncProgress progress;
};

// Runs every item of `jobs` on `threads` threads: Stat, then copy what is
// missing or of the wrong size; version.pb of a job only after all its other
// items succeeded. Each key is handled once per run: `handled` maps the keys
// done in earlier batches to whether they succeeded (a failed key is tried
// again). Never touches the catalog (callers record the outcome).
void RunItems(Repository& repo, Site& target, std::vector<ResyncJob>& jobs,
              const ResyncOptions& options, ProgressState* progress,
              std::unordered_map<std::string, bool>* handled);

}  // namespace resync_internal
}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESYNC_BATCH_H_
