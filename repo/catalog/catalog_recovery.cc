// Catalog: the rows `cairn site resync` and `cairn catalog rebuild` read and
// write besides the general API (repo/recovery/resync.cc, repo/recovery/rebuild.cc).
#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_sql.h"

namespace cairn::repo {

Result<std::vector<VersionRef>> Catalog::VersionsWithReplicasOn(int64_t site_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare(
          "SELECT v.partner, v.object, v.version FROM versions v WHERE "
          "EXISTS (SELECT 1 FROM tag_files t JOIN replicas r ON r.tag_file_id = t.id "
          "WHERE t.version_id = v.id AND r.site_id = ?1) OR "
          "EXISTS (SELECT 1 FROM files f JOIN replicas r ON r.blob_id = f.blob_id "
          "WHERE f.version_id = v.id AND r.site_id = ?1) ORDER BY v.partner, v.object, v.version"));
  stmt.Bind(1, site_id);
  std::vector<VersionRef> out;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(VersionRef{stmt.Text(0), stmt.Text(1), static_cast<uint32_t>(stmt.Int(2))});
  }
  return out;
}

Result<uint64_t> Catalog::CountReplicasOn(int64_t site_id) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt count,
                         db_.Prepare("SELECT COUNT(*) FROM replicas WHERE site_id = ?"));
  count.Bind(1, site_id);
  CAIRN_ASSIGN_OR_RETURN(bool row, count.Step());
  return static_cast<uint64_t>(row ? count.Int(0) : 0);
}

Status Catalog::ReleaseLeaseOf(int64_t id, const std::string& lease_owner) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("UPDATE jobs SET state = 'queued', lease_owner = "
                                     "'', lease_until = 0 WHERE id = ? AND state = "
                                     "'leased' AND lease_owner = ?"));
  stmt.Bind(1, id).Bind(2, lease_owner);
  return stmt.Run();
}

Status Catalog::MarkReplicasVerified(int64_t site_id, const std::vector<ReplicaRef>& refs,
                                     int64_t now_micros, int64_t next_due_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt blob,
                         db_.Prepare("UPDATE replicas SET state = 'ok', last_verified = "
                                     "?1, next_due = ?2, detail = '' WHERE site_id = ?3 "
                                     "AND blob_id = " +
                                     catalog_sql::BlobIdOf(4)));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt tag,
                         db_.Prepare("UPDATE replicas SET state = 'ok', last_verified = "
                                     "?1, next_due = ?2, detail = '' WHERE site_id = ?3 "
                                     "AND tag_file_id = ?4"));
  for (const ReplicaRef& ref : refs) {
    const bool is_blob = ref.kind == ReplicaRef::Kind::kBlob;
    sql::Stmt& stmt = is_blob ? blob : tag;
    stmt.Reset();
    stmt.Bind(1, now_micros).Bind(2, next_due_micros).Bind(3, site_id);
    if (is_blob) {
      stmt.Bind(4, ref.blob);
    } else {
      stmt.Bind(4, ref.tag_file_id);
    }
    CAIRN_RETURN_IF_ERROR(stmt.Run());
  }
  return tx.Commit();
}

Status Catalog::MarkAllReplicasUnverified(int64_t now_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt lazy,
                         db_.Prepare("UPDATE replicas SET last_verified = 0, next_due = ?"));
  lazy.Bind(1, now_micros);
  return lazy.Run();
}

}  // namespace cairn::repo
