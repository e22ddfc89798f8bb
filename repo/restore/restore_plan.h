// Internal to restore: turns the catalog's view of one version (files, tag
// files, replicas and their states) into the ordered list of RestoreItems the
// engine copies, and remembers which replica each (item, site) pair is.
#ifndef CAIRN_REPO_RESTORE_PLAN_H_
#define CAIRN_REPO_RESTORE_PLAN_H_

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog.h"
#include "repo/restore/restore_engine.h"

namespace cairn::repo::restore_internal {

struct RestorePlan {
  VersionInfo version;  // without files (they are in `items`)
  // Tag files first (version.pb leading, check-only, then bagit.txt), then
  // payload sorted by path.
  std::vector<RestoreItem> items;
  std::vector<std::string> sites;  // every site any item may be read from
  // Tag file name -> tag_files row id (for replica updates).
  std::unordered_map<std::string, int64_t> tag_ids;
  // "b:<sha256>|<site>" and "t:<id>|<site>" for every replica the catalog has.
  std::set<std::string> recorded;

  ReplicaRef RefOf(const CopyProblem& p) const;
  bool HasReplica(const CopyProblem& p) const;
};

// True for the tag file that is not part of the depositor's bag whatever the
// version holds: version.pb (the files Cairn added are listed in
// cairn-added.txt, read at restore).
bool LeftOutOfRestore(const TagFileEntry& tag);
// Index of the first payload item of `items` (items.size() if none).
size_t FirstPayloadItem(const std::vector<RestoreItem>& items);

// Builds the plan for partner/object@version (0: latest). With `only_site`
// set every item is read from that site alone (NotFound if no such site).
// InvalidArgument if a catalog entry is unsafe to write (CheckRestoreItems);
// Corruption if the catalog lists no version.pb or manifest-sha256.txt for the
// version (nothing to check its files against).
Result<RestorePlan> PlanRestore(Catalog& catalog, const std::string& partner,
                                const std::string& object, uint32_t version,
                                const std::string& only_site);

}  // namespace cairn::repo::restore_internal

#endif  // CAIRN_REPO_RESTORE_PLAN_H_
