// The lines `cairn list` and `cairn show` print for each site they cannot open, and that
// GET /v1/objects and GET /v1/objects/{partner}/{object} send in X-Cairn-Warnings
// (views::kWarningsHeader), worded for the principal told: one place for the words, so that
// the remote verb says what the local one says.
#ifndef CAIRN_OPS_SERVER_UNREACHABLE_SITES_H_
#define CAIRN_OPS_SERVER_UNREACHABLE_SITES_H_

#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/principal.h"
#include "repo/site/repository.h"

namespace cairn::views {

// One line per site of `only` (empty: every site of the catalog) that cannot be opened now
// (Repository::UnreachableSites: gone, an unmounted share, its gateway down), saying that
// `what` ("the states shown for its copies": the catalog's record) were not checked there. To
// an operator with why (the site's URL or folder, and the way forward for a site without its
// marker); to any other principal the site's name alone: no URL or folder of the server's, no
// command it cannot run. Empty when every site opens; the catalog's error if it cannot say
// which sites there are.
Result<std::vector<std::string>> UnreachableSiteLines(repo::Repository& repository,
                                                      const std::string& what,
                                                      const repo::Principal& who,
                                                      const std::vector<std::string>& only = {});

}  // namespace cairn::views

#endif  // CAIRN_OPS_SERVER_UNREACHABLE_SITES_H_
