// Internal to repo/catalog/: the findings a later repair of their copy answers, marked repaired
// on a connection the caller holds in a transaction (the Catalog's own, or a sweep's recorder).
#ifndef CAIRN_REPO_CATALOG_CATALOG_FINDINGS_REPAIRED_H_
#define CAIRN_REPO_CATALOG_CATALOG_FINDINGS_REPAIRED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bagit/status.h"
#include "repo/catalog/catalog_audit_types.h"
#include "repo/catalog/sqlite.h"

namespace cairn::repo::catalog_internal {

// The findings of finished runs (state not `running`: a running sweep writes its site rows at
// its end) about the copy of replica row `replica_id` that are not repaired (kinds corrupt,
// missing, unreadable, damaged; a blob's by site and digest, under any payload path; a tag
// file's by its version and name too, as bagit.txt is the same bytes in every bag): marked
// repaired from `from_site`, each run's repaired count and its site row's (damaged down for a
// damaged one) counted. REQUIRES: a write transaction on `db`.
Result<std::vector<RepairedFinding>> MarkFindingsOfReplicaRepaired(sql::Db& db, int64_t replica_id,
                                                                   const std::string& from_site);

}  // namespace cairn::repo::catalog_internal

#endif  // CAIRN_REPO_CATALOG_CATALOG_FINDINGS_REPAIRED_H_
