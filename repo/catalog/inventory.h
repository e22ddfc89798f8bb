// Inventory: what `cairn list` and `cairn show` print, read from the catalog
// with indexed queries. Files of a version are streamed one by one with the
// state of their copy on every site, so showing an object of 200,000 files
// never holds them all in memory.
#ifndef CAIRN_REPO_INVENTORY_H_
#define CAIRN_REPO_INVENTORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "proto/policy.pb.h"
#include "repo/catalog/catalog.h"

namespace cairn::repo {

// CopyState and FileCopies: repo/catalog/catalog_types.h.

// Which copies count toward a policy: ok copies on the sites it names (every
// site when it names none), in the regions it allows; with regions, copies in
// one region count once (the policy asks for distinct regions).
struct CopyRule {
  uint32_t wanted = 0;
  std::vector<int64_t> site_ids;               // sites whose copies count
  std::map<std::string, std::string> by_site;  // those sites: name -> region
  bool distinct_regions = false;

  static CopyRule FromPolicy(const proto::Policy& policy, const std::vector<SiteRecord>& sites);
  // The copies among `copies` that count: ok or unverified (on the site, not yet audited).
  uint32_t Count(const std::vector<CopyState>& copies) const;
  // "2 copies" / "2 copies on sites a, s3" / "2 copies in distinct regions of eu, us".
  std::string Describe(const proto::Policy& policy) const;
};

// One object in a listing, with how its latest version stands against the
// copies its policy demands.
struct ObjectListing {
  ObjectSummary summary;
  int64_t latest_version_id = 0;
  uint32_t copies_wanted = 0;  // the partner's effective policy
  // Fewest copies that count (CopyRule) among the latest version's blobs and tag files.
  uint32_t copies_ok = 0;
  std::string policy_text;  // CopyRule::Describe of the partner's policy
  // Why the latest version is refused (withdrawn: reason and date); empty when it is not.
  std::string withdrawn;
  bool has_wanted_copies() const { return copies_ok >= copies_wanted; }
};

// Objects of `partner` (every partner when empty), by partner then object.
// NotFound if a non-empty partner is unknown.
Result<std::vector<ObjectListing>> ListObjectsWithCopies(Catalog& catalog,
                                                         const std::string& partner);

// Computes what `cairn list` shows for `version_id` of `partner` (its fewest
// copies that count toward the partner's policy) and keeps it in the catalog's
// memo (migration 9), so that the next listing reads one row instead of making
// a pass over the version's files (47 s for the first list of 100 versions of
// 100,000 files each, 0.03 s from the memo). Called when a deposit ends; the
// memo is dropped again by any later change of a copy.
Status KeepListedCopies(Catalog& catalog, const std::string& partner, int64_t version_id);

// The same for the latest version of every object of `partner` (every partner
// when empty), as `cairn list` would: computed where no count is kept, read
// where one is. Called when a replication run or a daemon round that changed
// copies ends.
Status KeepListedCopiesOfObjects(Catalog& catalog, const std::string& partner);

// Calls `fn` for each payload file of the version (VersionInfo::id), by path,
// with the state of its blob on each site, by site name. One indexed query, streamed.
// `owed`: the sites the partner's policy puts a copy on (PlanCopySites, which the
// replication queue reconciles against); one of them holding no copy of a file is
// given as "pending" (the copy owed there, queued for replication), as a deposit's
// receipt counts it, since the catalog records no row for a copy not made yet.
Status ForEachFileCopies(Catalog& catalog, int64_t version_id,
                         const std::function<Status(const FileCopies&)>& fn,
                         const std::vector<std::string>& owed = {});
// The same for the version's tag files (version.pb included), by name.
Status ForEachTagFileCopies(Catalog& catalog, int64_t version_id,
                            const std::function<Status(const FileCopies&)>& fn,
                            const std::vector<std::string>& owed = {});

// Per site, how many of a version's distinct blobs and tag files have a copy
// there in each state. Every site of the catalog is listed (zeros included).
struct VersionCopyCounts {
  std::string site;
  uint64_t ok = 0, pending = 0, corrupt = 0, missing = 0, unavailable = 0, unreadable = 0;
};
Result<std::vector<VersionCopyCounts>> CountVersionCopies(Catalog& catalog, int64_t version_id);

// How many distinct blobs and tag files a version has (what each site should hold).
Result<uint64_t> CountVersionItems(Catalog& catalog, int64_t version_id);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_INVENTORY_H_
