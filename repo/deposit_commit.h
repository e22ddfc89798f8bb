// Internal to deposit: committing a good ingest (tag files, version.pb last,
// one catalog transaction) and abandoning a refused one.
#ifndef CAIRN_REPO_DEPOSIT_COMMIT_H_
#define CAIRN_REPO_DEPOSIT_COMMIT_H_

#include <string>
#include <string_view>
#include <vector>

#include "repo/catalog/catalog.h"
#include "repo/deposit_stage.h"
#include "repo/site.h"

namespace cairn::repo {

namespace deposit_internal {

struct CommitPlan {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string depositor;
  std::string agent_version;
  std::string source;
  std::string profile;  // profile identifier or path, "" if none
  std::string first_site;
  std::vector<std::string> replicate_to;  // other sites the policy wants
  int64_t created_micros = 0;
  int64_t fixity_interval_micros = 0;
};

struct CommitSummary {
  std::vector<std::string> cairn_added;  // tag files Cairn added to the bag
  uint64_t payload_bytes = 0;
};

// REQUIRES: the ingest's report is valid and every payload blob is committed on
// `site`. Writes the tag files and version.pb (last) to `site`, then inserts
// the version with its events and one replication job per site in
// plan.replicate_to, in one transaction. Returns the version row id. A site
// error names the site; AlreadyExists if the version was taken meanwhile.
Result<int64_t> CommitVersion(Catalog& catalog, Site& site, const CommitPlan& plan, Ingest* ingest,
                              CommitSummary* summary);

// Aborts staged tag writers and removes the blobs this ingest created that no
// catalog entry references (best effort).
void AbandonIngest(Catalog& catalog, StorageBackend& site, Ingest* ingest);

}  // namespace deposit_internal
}  // namespace cairn::repo

#endif  // CAIRN_REPO_DEPOSIT_COMMIT_H_
