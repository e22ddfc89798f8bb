// The findings a later repair answers: a copy an audit found bad and could not repair at once,
// repaired afterwards (by a later sweep, or by the replication that copies it again), marks the
// findings of the finished runs about it repaired, with the runs' and sites' counts
// (Catalog::MarkFindingsRepaired, and AuditRecorder::WriteBatch for a sweep's own repairs).
#include "repo/catalog/catalog_findings_repaired.h"

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_sql.h"

namespace cairn::repo {
namespace catalog_internal {

Result<std::vector<RepairedFinding>> MarkFindingsOfReplicaRepaired(sql::Db& db, int64_t replica_id,
                                                                   const std::string& from_site) {
  std::vector<RepairedFinding> out;
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt copy,
      db.Prepare("SELECT s.name, COALESCE(b.sha256, ''), r.tag_file_id FROM replicas r "
                 "JOIN sites s ON s.id = r.site_id LEFT JOIN blobs b ON b.id = r.blob_id "
                 "WHERE r.id = ?1"));
  copy.Bind(1, replica_id);
  CAIRN_ASSIGN_OR_RETURN(bool found, copy.Step());
  if (!found) return out;
  const std::string site = copy.Text(0);
  std::string sha256 = copy.Text(1);
  const bool tag_file = !copy.IsNull(2);
  const int64_t tag_file_id = tag_file ? copy.Int(2) : 0;
  // A blob's findings are named by any version holding it (a payload path, or none); a tag
  // file's by its own version and name: bagit.txt is the same bytes in every bag.
  std::string sql =
      "SELECT f.id, f.run_id, f.kind, f.detail FROM audit_findings f WHERE f.repaired = 0 "
      "AND f.closed = '' AND f.site = ?1 AND f.sha256 = ?2 "
      "AND f.kind IN ('corrupt', 'missing', 'unreadable', 'damaged') "
      "AND f.run_id IN (SELECT id FROM audit_runs WHERE state <> 'running') ";
  std::string partner, object, path;
  int64_t version = 0;
  if (tag_file) {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt tag,
        db.Prepare("SELECT v.partner, v.object, v.version, t.name, t.sha256 FROM tag_files t "
                   "JOIN versions v ON v.id = t.version_id WHERE t.id = ?1"));
    tag.Bind(1, tag_file_id);
    CAIRN_ASSIGN_OR_RETURN(bool named, tag.Step());
    if (!named) return out;
    partner = tag.Text(0);
    object = tag.Text(1);
    version = tag.Int(2);
    path = tag.Text(3);
    sha256 = tag.Text(4);
    sql += "AND f.partner = ?3 AND f.object = ?4 AND f.version = ?5 AND f.path = ?6 ";
  } else {
    sql += "AND (f.path = '' OR substr(f.path, 1, 5) = 'data/') ";
  }
  sql += "ORDER BY f.id";
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt open, db.Prepare(sql));
  open.Bind(1, site).Bind(2, sha256);
  if (tag_file) open.Bind(3, partner).Bind(4, object).Bind(5, version).Bind(6, path);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, open.Step());
    if (!row) break;
    out.push_back({open.Int(0), open.Int(1), open.Text(2), open.Text(3)});
  }
  if (out.empty()) return out;
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt mark,
      db.Prepare("UPDATE audit_findings SET repaired = 1, repaired_from = ?2 WHERE id = ?1"));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt run,
                         db.Prepare("UPDATE audit_runs SET repaired = repaired + 1 WHERE id = ?1"));
  // A damaged copy (no good copy was left) repaired since is no longer damaged.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt site_row,
      db.Prepare("UPDATE audit_run_sites SET repaired = repaired + 1, "
                 "damaged = MAX(damaged - ?3, 0) WHERE run_id = ?1 AND site = ?2"));
  for (const RepairedFinding& f : out) {
    mark.Bind(1, f.id).Bind(2, from_site);
    CAIRN_RETURN_IF_ERROR(mark.Run());
    mark.Reset();
    run.Bind(1, f.run_id);
    CAIRN_RETURN_IF_ERROR(run.Run());
    run.Reset();
    site_row.Bind(1, f.run_id).Bind(2, site).Bind(3, int64_t{f.kind == "damaged" ? 1 : 0});
    CAIRN_RETURN_IF_ERROR(site_row.Run());
    site_row.Reset();
  }
  return out;
}

}  // namespace catalog_internal

Result<std::vector<RepairedFinding>> Catalog::MarkFindingsRepaired(const ReplicaRef& ref,
                                                                   const std::string& site,
                                                                   const std::string& from_site) {
  std::lock_guard lock(mu_);
  const bool blob = ref.kind == ReplicaRef::Kind::kBlob;
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt find,
      db_.Prepare(blob ? "SELECT r.id FROM replicas r WHERE r.site_id = (SELECT id FROM sites "
                         "WHERE name = ?1) AND r.blob_id = " +
                             catalog_sql::BlobIdOf(2)
                       : std::string("SELECT r.id FROM replicas r WHERE r.site_id = (SELECT id "
                                     "FROM sites WHERE name = ?1) AND r.tag_file_id = ?2")));
  find.Bind(1, site);
  if (blob) {
    find.Bind(2, ref.blob);
  } else {
    find.Bind(2, ref.tag_file_id);
  }
  CAIRN_ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) return std::vector<RepairedFinding>{};
  const int64_t replica_id = find.Int(0);
  find.Reset();
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      std::vector<RepairedFinding> marked,
      catalog_internal::MarkFindingsOfReplicaRepaired(db_, replica_id, from_site));
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return marked;
}

}  // namespace cairn::repo
