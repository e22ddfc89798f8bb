// A catalog older than its sites (put back from a backup, or rebuilt from a site that lagged)
// does not know versions the sites hold. Where a verb would say "not found", this says which
// sites hold the version and how to bring the catalog up to date.
#ifndef CAIRN_REPO_SITE_CATALOG_BEHIND_H_
#define CAIRN_REPO_SITE_CATALOG_BEHIND_H_

#include <cstdint>
#include <string>

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

}  // namespace cairn::repo

#endif  // CAIRN_REPO_SITE_CATALOG_BEHIND_H_
