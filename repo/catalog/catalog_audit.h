// The auditor's side of the catalog: the rows a sweep picks, checks and
// writes, and the two handles a sweep holds besides the Catalog itself.
//
//   Catalog::Reader       a connection of its own for reads (PRAGMA
//                         query_only), with a memory map: a sweep's pick and
//                         each worker's name lookups run beside the writer
//                         and beside the Catalog's mutex.
//   Catalog::AuditRecorder a writer connection of one sweep (synchronous=FULL,
//                         no memory map: SCHEMA.md): its audit_runs row, the
//                         batches of replica rows, findings and events, and
//                         the finished run.
//
// A second catalog engine implements these handles next to the Catalog's own
// methods; nothing outside repo/catalog/ runs SQL.
#ifndef CAIRN_REPO_CATALOG_CATALOG_AUDIT_H_
#define CAIRN_REPO_CATALOG_CATALOG_AUDIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "bagit/status.h"
#include "proto/event.pb.h"
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_audit_types.h"
#include "repo/catalog/sqlite.h"

namespace cairn::repo {

// A connection of its own to the catalog file, for reads only (PRAGMA
// query_only), made by Catalog::OpenReader. Not thread-safe: one per thread.
// The rows it reads may be as old as its read transaction (NameCopy keeps one
// open across kNamesPerRead names).
class Catalog::Reader {
 public:
  static constexpr int kNamesPerRead = 256;
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // The copies `pick` selects, in catalog order (mostly oldest next_due first:
  // the caller sorts). Tag file copies always come named.
  Result<std::vector<AuditCopy>> PickAuditCopies(const AuditPick& pick);
  // SQLite's steps for the blob copies of the last PickAuditCopies (they grow
  // with the rows its plan visited): what tests check the plan by.
  int64_t last_pick_steps() const { return last_pick_steps_; }
  // Fills size, partner, object, version, path, ref and key of a blob copy
  // picked without them (the first version and path that hold the blob); a
  // no-op for others. NotFound if the catalog has no blobs row for the copy.
  // Looks names up kNamesPerRead at a time inside one read transaction, not
  // one per copy: the names of a blob do not change during a sweep, and each
  // read transaction costs shared-memory locks and a WAL header check. The
  // transaction ends after kNamesPerRead names and when the Reader goes.
  Status NameCopy(AuditCopy& copy);
  // The copy of replica row `replica_id`, named; none when the row is gone (a purge).
  Result<std::optional<AuditCopy>> CopyOfReplica(int64_t replica_id);
  // The other replicas (not pending) of the copy's blob or tag file, ok ones
  // first, then the most recently verified.
  Result<std::vector<OtherReplica>> OtherReplicas(const AuditCopy& copy);
  // Sites with a replica of tag file `tag_file_id`, ok ones first, then by name.
  Result<std::vector<std::string>> TagFileSites(int64_t tag_file_id);
  // Every version of `partner` / `object` ("": all) with its version.pb row, by id.
  Result<std::vector<VersionRecordRow>> VersionRecordRows(const std::string& partner,
                                                          const std::string& object);
  // The files rows of version row `version_id` (path, size, sha256).
  Result<std::vector<FileEntry>> VersionFiles(int64_t version_id);
  // The version_empty_folders rows of version row `version_id` (paths), sorted.
  Result<std::vector<std::string>> VersionEmptyFolders(int64_t version_id);
  // The blobs with a replica row (any state) on `site`.
  Result<std::unordered_set<std::string>> BlobsListedOn(const std::string& site);
  // Blobs and tag files of `partner` / `object` ("": all) with no ok replica.
  Result<std::vector<UncopiedItem>> UncopiedItems(const std::string& partner,
                                                  const std::string& object);

 private:
  friend class Catalog;
  explicit Reader(sql::Db db) : db_(std::move(db)) {}
  sql::Db db_;
  std::optional<sql::Stmt> name_;  // NameCopy's lookup
  int names_in_read_ = 0;          // > 0: a read transaction is open
  int64_t last_pick_steps_ = 0;
};

// The writer connection of one sweep, made by Catalog::OpenAuditRecorder:
// synchronous=FULL and no memory map, like the Catalog's own. Not
// thread-safe: the caller writes one batch at a time.
class Catalog::AuditRecorder {
 public:
  ~AuditRecorder();
  AuditRecorder(const AuditRecorder&) = delete;
  AuditRecorder& operator=(const AuditRecorder&) = delete;

  // Inserts the audit_runs row of a sweep started at `now_micros`; returns its id: `id` when
  // not 0 (a run a catalog rebuild takes back under its number), else the next one.
  Result<int64_t> StartRun(const std::string& schedule, int64_t now_micros, int64_t id = 0);
  // Notes, committed before a repair touches the site, that run `run_id` repairs the copy
  // `replica_id`, with what it found (`found_kind`: audit::FindingKindName; `found`: its
  // detail); the WriteBatch of an update with `ends_repair` forgets it.
  Status BeginRepair(int64_t run_id, int64_t replica_id, int64_t now_micros,
                     const std::string& found_kind, const std::string& found);
  // The repairs noted by runs that are no longer running (killed: StartRun records them as
  // aborted), oldest first.
  Result<std::vector<BegunRepair>> BegunRepairsOfEndedRuns();
  // In ONE transaction: the replica rows, the run's counts (added), the
  // findings and the events (AppendEventsInTransaction, time `now_micros`
  // where unset): a sweep killed outright keeps both or neither.
  Status WriteBatch(int64_t run_id, std::span<const AuditReplicaUpdate> updates,
                    const AuditRunCounts& deltas, std::span<const AuditFindingRecord> findings,
                    std::vector<proto::Event>& events, int64_t now_micros);
  // In ONE transaction: the run's end (finished, state, summary JSON, `more` added to its
  // counts: what was found after the last WriteBatch), its per-site rows and the findings not
  // written by WriteBatch.
  Status FinishRun(int64_t run_id, int64_t finished_micros, const std::string& state,
                   const std::string& report_json, const AuditRunCounts& more,
                   std::span<const AuditRunSiteRecord> sites,
                   std::span<const AuditFindingRecord> findings);

 private:
  friend class Catalog;
  explicit AuditRecorder(sql::Db db) : db_(std::move(db)) {}
  Status InsertFindings(int64_t run_id, std::span<const AuditFindingRecord> findings);
  sql::Db db_;
  // Statements of every batch, prepared once (destroyed before db_).
  std::optional<sql::Stmt> update_, still_ok_, counts_, finding_, end_repair_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_CATALOG_CATALOG_AUDIT_H_
