// Catalog: the queries of `cairn list` and `cairn show` (repo/catalog/inventory.h),
// on the indexes of SCHEMA.md (files by (version_id, path), replicas by
// (blob, site_id) and (tag_file_id, site_id)), streaming their rows.
#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_sql.h"

namespace cairn::repo {
namespace {

// A copy's state as `show` gives it: "unverified" for one recorded ok that no one has verified
// yet (a rebuilt catalog's copies, read from a site's listing), else the state recorded.
constexpr std::string_view kShownState =
    "CASE WHEN r.state = 'ok' AND r.last_verified = 0 THEN 'unverified' ELSE r.state END";

// Runs `query` (bound to version_id) whose rows are (path, size, sha256,
// site, state), ordered by path, and calls `fn` once per path.
Status StreamFileCopies(sql::Db& db, std::string_view query, int64_t version_id,
                        const std::function<Status(const FileCopies&)>& fn) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare(query));
  stmt.Bind(1, version_id);
  FileCopies current;
  bool have = false;
  auto flush = [&]() -> Status {
    if (!have) return Status::OK();
    std::sort(current.copies.begin(), current.copies.end(),
              [](const CopyState& a, const CopyState& b) { return a.site < b.site; });
    return fn(current);
  };
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string path = stmt.Text(0);
    if (!have || path != current.path) {
      CAIRN_RETURN_IF_ERROR(flush());
      current.path = std::move(path);
      current.size = static_cast<uint64_t>(stmt.Int(1));
      current.sha256 = stmt.Text(2);
      current.copies.clear();
      have = true;
    }
    if (!stmt.IsNull(3)) current.copies.push_back(CopyState{stmt.Text(3), stmt.Text(4)});
  }
  return flush();
}

}  // namespace

Status Catalog::ForEachFileCopies(int64_t version_id,
                                  const std::function<Status(const FileCopies&)>& fn) {
  std::lock_guard lock(mu_);
  return StreamFileCopies(db_,
                          "SELECT f.path, f.size, b.sha256, s.name, " + std::string(kShownState) +
                              " FROM files f "
                              "LEFT JOIN blobs b ON b.id = f.blob_id "
                              "LEFT JOIN replicas r ON r.blob_id = f.blob_id "
                              "LEFT JOIN sites s ON s.id = r.site_id "
                              "WHERE f.version_id = ?1 ORDER BY f.path",
                          version_id, fn);
}

Status Catalog::ForEachTagFileCopies(int64_t version_id,
                                     const std::function<Status(const FileCopies&)>& fn) {
  std::lock_guard lock(mu_);
  return StreamFileCopies(db_,
                          "SELECT t.name, t.size, t.sha256, s.name, " + std::string(kShownState) +
                              " FROM tag_files t "
                              "LEFT JOIN replicas r ON r.tag_file_id = t.id "
                              "LEFT JOIN sites s ON s.id = r.site_id "
                              "WHERE t.version_id = ?1 ORDER BY t.name",
                          version_id, fn);
}

Result<uint32_t> Catalog::MinCountedCopies(int64_t version_id, const std::vector<int64_t>& site_ids,
                                           bool distinct_regions) {
  std::string ids;
  for (int64_t id : site_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  // The memo's key: what was counted. A policy naming other sites or regions
  // makes the row useless rather than wrong.
  const std::string rule = catalog_sql::VersionCopiesRule(site_ids, distinct_regions);
  std::lock_guard lock(mu_);
  {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt memo,
        db_.Prepare("SELECT copies_ok FROM version_copies WHERE version_id = ? AND rule = ?"));
    memo.Bind(1, version_id).Bind(2, rule);
    CAIRN_ASSIGN_OR_RETURN(bool hit, memo.Step());
    if (hit) return static_cast<uint32_t>(memo.Int(0));
  }
  // Computed (one pass over the version's blobs: a second for 100,000 files)
  // and kept, in one deferred transaction: if another connection wrote since
  // this read began, the write fails at once and the answer is not kept (the
  // triggers of migration 9 could not have removed a row written afterwards).
  const std::string key = distinct_regions ? "s.region" : "r.site_id";
  const std::string counted = "SELECT COUNT(DISTINCT " + key +
                              ") FROM replicas r JOIN sites s ON s.id = r.site_id WHERE r.state = "
                              "'ok' AND r.site_id IN (" +
                              ids + ") AND ";
  // (Inside a transaction of this connection's own, it is only computed.)
  const bool keep = sqlite3_get_autocommit(db_.raw()) != 0;
  if (keep) CAIRN_RETURN_IF_ERROR(db_.Exec("BEGIN DEFERRED"));
  struct EndRead {
    sql::Db& db;
    bool open;
    ~EndRead() {
      if (open) (void)db.Exec("ROLLBACK");
    }
  } end{db_, keep};
  uint32_t copies = 0;
  {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt stmt,
        db_.Prepare("SELECT COALESCE(MIN(n), 0) FROM (SELECT (" + counted +
                    "r.blob_id = d.blob_id) AS n FROM " +
                    std::string(catalog_sql::kVersionBlobIds) + " d UNION ALL SELECT (" + counted +
                    "r.tag_file_id = t.id) FROM tag_files t WHERE t.version_id = ?1)"));
    stmt.Bind(1, version_id);
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    copies = static_cast<uint32_t>(row ? stmt.Int(0) : 0);
  }
  // Keeping it is best effort: never wait for a writer (busy timeout 0 while
  // storing), never fail the listing (a read-only catalog, a busy one).
  if (!keep) return copies;
  if (sql::NoBusyWait no_wait(db_); no_wait.ok()) {
    Result<sql::Stmt> store = db_.Prepare(
        "INSERT OR REPLACE INTO version_copies (version_id, rule, copies_ok) VALUES (?, ?, ?)");
    if (store.ok()) {
      store->Bind(1, version_id).Bind(2, rule).Bind(3, static_cast<int64_t>(copies));
      if (store->Step().ok() && db_.Exec("COMMIT").ok()) end.open = false;
    }
  }
  return copies;
}

Result<std::vector<ReplicaStateCount>> Catalog::CountVersionReplicas(int64_t version_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT s.name, r.state, COUNT(*) FROM " +
                  std::string(catalog_sql::kVersionBlobIds) +
                  " d JOIN replicas r ON r.blob_id = d.blob_id "
                  "JOIN sites s ON s.id = r.site_id GROUP BY s.name, r.state "
                  "UNION ALL SELECT s.name, r.state, COUNT(*) FROM tag_files t "
                  "JOIN replicas r ON r.tag_file_id = t.id JOIN sites s ON s.id = r.site_id "
                  "WHERE t.version_id = ?1 GROUP BY s.name, r.state"));
  stmt.Bind(1, version_id);
  std::vector<ReplicaStateCount> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(
        ReplicaStateCount{stmt.Text(0), stmt.Text(1), static_cast<uint64_t>(stmt.Int(2))});
  }
  return out;
}

Result<uint64_t> Catalog::CountVersionItems(int64_t version_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("SELECT (SELECT COUNT(DISTINCT blob_id) FROM files WHERE "
                                     "version_id = ?1) + (SELECT COUNT(*) FROM tag_files WHERE "
                                     "version_id = ?1)"));
  stmt.Bind(1, version_id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return static_cast<uint64_t>(row ? stmt.Int(0) : 0);
}

Result<Catalog::PartnerNewBlobs> Catalog::CountBlobsNewToPartner(int64_t version_id) {
  std::lock_guard lock(mu_);
  // One probe of files_by_blob per distinct blob, stopping at the first version of the
  // same partner that holds it.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT COUNT(*), COALESCE(SUM(b.size), 0) FROM (SELECT DISTINCT blob_id "
                  "FROM files WHERE version_id = ?1) d JOIN blobs b ON b.id = d.blob_id "
                  "WHERE NOT EXISTS (SELECT 1 FROM files f JOIN versions w ON w.id = "
                  "f.version_id WHERE f.blob_id = d.blob_id AND f.version_id <> ?1 AND "
                  "w.partner = (SELECT partner FROM versions WHERE id = ?1))"));
  stmt.Bind(1, version_id);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  PartnerNewBlobs out;
  if (row) {
    out.blobs = static_cast<uint64_t>(stmt.Int(0));
    out.bytes = static_cast<uint64_t>(stmt.Int(1));
  }
  return out;
}

Result<std::vector<std::pair<std::string, uint64_t>>> Catalog::CountCopiesVerifiedSince(
    int64_t version_id, int64_t since_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT s.name, COUNT(*) FROM " + std::string(catalog_sql::kVersionBlobIds) +
                  " d JOIN replicas r ON r.blob_id = d.blob_id JOIN sites s ON s.id = r.site_id "
                  "WHERE r.state = 'ok' AND r.last_verified >= ?2 GROUP BY s.name "
                  "UNION ALL SELECT s.name, COUNT(*) FROM tag_files t JOIN replicas r ON "
                  "r.tag_file_id = t.id JOIN sites s ON s.id = r.site_id WHERE t.version_id = ?1 "
                  "AND r.state = 'ok' AND r.last_verified >= ?2 GROUP BY s.name"));
  stmt.Bind(1, version_id).Bind(2, since_micros);
  std::map<std::string, uint64_t> by_site;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    by_site[stmt.Text(0)] += static_cast<uint64_t>(stmt.Int(1));
  }
  return std::vector<std::pair<std::string, uint64_t>>(by_site.begin(), by_site.end());
}

}  // namespace cairn::repo
