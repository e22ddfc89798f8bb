// A catalog older than its sites (put back from a backup, or rebuilt from a site that lagged)
// does not know versions the sites hold. Where a verb would say "not found", this says which
// sites hold the version and how to bring the catalog up to date.
#ifndef CAIRN_REPO_SITE_CATALOG_BEHIND_H_
#define CAIRN_REPO_SITE_CATALOG_BEHIND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/site/repository.h"

namespace cairn::repo {

// `s` itself unless it is NotFound and a reachable site holds a complete version (one with its
// version.pb) of partner/object that the catalog does not list: `version`, or when 0 any, the
// latest. Then NotFound with the sites that hold it, that the catalog is older than the sites,
// and the `cairn catalog rebuild` command that catches up from the first of them. Sites are
// only listed (one folder listing each), never read further.
Status WithCatalogBehindHint(Repository& repo, Status s, const std::string& partner,
                             const std::string& object, uint32_t version);

// For a write to partner/object (a deposit): AlreadyExists when a reachable site holds a
// complete version of it that the catalog does not list (the latest such is named, as above),
// since a new version stored into a catalog behind its sites would start events of its own
// that the sites' logs cannot take (they hold others under the same numbers) and that a
// catch-up rebuild from a site would not have; OK otherwise.
Status RefuseIfCatalogBehind(Repository& repo, const std::string& partner,
                             const std::string& object, const std::string& what);

// For a read of an object's latest version (restore without @vN): NotFound when a reachable
// site holds a complete version of partner/object newer than `catalog_latest` (the catalog's
// latest), named as above, since "latest" would silently be an older version; OK otherwise.
// `what` begins the message ("restore of the latest version of P/O").
Status RefuseIfNewerOnSites(Repository& repo, const std::string& partner, const std::string& object,
                            uint32_t catalog_latest, const std::string& what);

// A complete version on a site (its version.pb is there) that the catalog does not list, with
// the payload files its record names.
struct UnknownVersion {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string record_key;  // its version.pb on the site
  // The purge withdrawal under way or done that the catalog records for it (0: none): such a
  // version is not the catalog's lag but the leftover of a purge (a site put back from a backup
  // taken before it), never to be rebuilt or copied; `cairn withdraw run` removes it.
  int64_t purged_by = 0;
  std::string record_sha256;  // of the version.pb the site holds
  struct File {
    std::string path;  // payload path, "data/..."
    std::string sha256;
    uint64_t size = 0;
  };
  std::vector<File> files;
};

// The versions whose version.pb `site` holds and the catalog does not list (bags/ listed, then
// only those records read and parsed): what `cairn gc` keeps the blobs of, and what the audit's
// orphans pass tells apart from orphans. Errors: the site's listing or a record's read (the
// site's own error), Corruption for a record that cannot be parsed (its blobs cannot be told
// apart), a catalog error.
Result<std::vector<UnknownVersion>> VersionsTheCatalogLacks(Catalog& catalog, Site& site);

// The version of partner/object a read of its metadata describes (`version`, 0: the latest), and
// in `*versions` every version the catalog lists, as `cairn show` and `cairn serve`'s GET
// /v1/objects/P/O choose them: NotFound for an unknown object or version, with the hint of
// WithCatalogBehindHint when a site holds it; Withdrawn (`what` first) for a withdrawn or purged
// one; NotFound as RefuseIfNewerOnSites when "the latest" is older than a site's. `what` names
// the read ("show").
Result<VersionInfo> VersionToRead(Repository& repo, const std::string& partner,
                                  const std::string& object, uint32_t version,
                                  const std::string& what, std::vector<VersionInfo>* versions);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_CATALOG_BEHIND_H_
