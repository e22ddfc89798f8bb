// Internal to deposit: committing a good ingest (tag files, version.pb last,
// one catalog transaction) and abandoning a refused one.
#ifndef CAIRN_REPO_DEPOSIT_COMMIT_H_
#define CAIRN_REPO_DEPOSIT_COMMIT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/catalog/catalog.h"
#include "repo/deposit/deposit_stage.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"

namespace cairn::proto {
class VersionRecord;
}  // namespace cairn::proto

namespace cairn::repo {

namespace deposit_internal {

struct CommitPlan {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  std::string depositor;
  std::string role;  // the depositor's (RoleName)
  std::string agent_version;
  std::string source;
  std::string profile;  // profile identifier or path, "" if none
  std::string first_site;
  std::vector<std::string> replicate_to;  // other sites the policy wants
  int64_t created_micros = 0;
  int64_t fixity_interval_micros = 0;
  // The partner's copy rule, so that what `cairn list` shows of the version
  // is kept with it (NewVersion::listed_rule). May be empty.
  std::optional<NewVersion::CountedSites> listed_rule;
  // Called with version.pb's SHA-256 just before it is committed to the site
  // (so a kill right after the commit still knows the record is this
  // deposit's); an error stops the commit. May be empty.
  std::function<Status(const std::string&)> before_version_record;
};

struct CommitSummary {
  // Tag files Cairn added to the bag (manifest-sha256.txt, cairn-empty-folders.txt), without
  // cairn-added.txt, which lists them.
  std::vector<std::string> cairn_added;
  uint64_t payload_bytes = 0;
  // True once this deposit's version.pb is on the first site (a failed
  // catalog commit after that must take it away again).
  bool wrote_version_record = false;
  // NewVersion::new_items of the inserted version.
  std::optional<uint64_t> new_items;
};

// REQUIRES: the ingest's report is valid and every payload blob is committed on
// `site`. Writes the tag files and version.pb (last) to `site`, then inserts
// the version with its events and one replication job per site in
// plan.replicate_to, in one transaction. Returns the version row id. A site
// error names the site; AlreadyExists if the version was taken meanwhile or a
// tag file or version.pb of that number already holds other bytes on the site
// (write-once: never replaced).
Result<int64_t> CommitVersion(Catalog& catalog, Site& site, const CommitPlan& plan, Ingest* ingest,
                              CommitSummary* summary);

// Writes version.pb: `record` (without files; with its empty folders) with the files of
// `scratch` in path order, to `out` in chunks. The bytes are exactly what
// SerializeToString gives for the record holding those files (FORMAT.md), but
// the files are never all in memory. Stops at the first error `out` returns.
Status StreamVersionRecord(const proto::VersionRecord& record, DepositScratch* scratch,
                           const std::function<Status(std::string_view)>& out);

// Aborts staged tag writers and, unless the ingest is committed, removes the
// blobs it created that no catalog entry references, but ONLY when `lock` (the
// deposit's shared writers' lock) can be made exclusive at once: then no other
// deposit is in flight, so none can have adopted one of those blobs ("already
// there") without the catalog listing it yet. Otherwise the blobs stay for
// `cairn gc` (repo/deposit/gc.h). Best effort; `lock` may be released on return.
void AbandonIngest(Catalog& catalog, Site& site, Repository::WriterLock& lock, Ingest* ingest);

// Two events per blob the deposit found damaged on `site` and replaced with
// the depositor's bytes: a failed fixity check (what the site held) and a
// successful recovery. `version` 0: the deposit made no version (refused).
std::vector<proto::Event> BlobRepairEvents(const std::vector<BlobRepair>& repairs,
                                           const std::string& partner, const std::string& object,
                                           uint32_t version, const std::string& site,
                                           const std::string& user, const std::string& role,
                                           const std::string& agent_version);

}  // namespace deposit_internal
}  // namespace cairn::repo

#endif  // CAIRN_REPO_DEPOSIT_COMMIT_H_
