// Catalog: the blobs `cairn gc` found unreferenced, with when it first saw
// each (the grace period runs from then).
#include "repo/catalog/catalog.h"

namespace cairn::repo {

Result<std::optional<int64_t>> Catalog::GcCandidateSince(const std::string& site,
                                                         const std::string& sha256) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT since FROM gc_candidates WHERE site_id = ? AND sha256 = ?"));
  stmt.Bind(1, site_id).Bind(2, sha256);
  CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt.Int(0));
}

Status Catalog::AddGcCandidate(const std::string& site, const std::string& sha256, uint64_t size,
                               int64_t since) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT INTO gc_candidates (site_id, sha256, since, size) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT DO NOTHING"));
  stmt.Bind(1, site_id).Bind(2, sha256).Bind(3, since).Bind(4, static_cast<int64_t>(size));
  return stmt.Run();
}

Status Catalog::RemoveGcCandidate(const std::string& site, const std::string& sha256) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("DELETE FROM gc_candidates WHERE site_id = ? AND sha256 = ?"));
  stmt.Bind(1, site_id).Bind(2, sha256);
  return stmt.Run();
}

Result<std::vector<std::string>> Catalog::ListGcCandidates(const std::string& site) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(int64_t site_id, SiteId(site));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT sha256 FROM gc_candidates WHERE site_id = ? ORDER BY sha256"));
  stmt.Bind(1, site_id);
  std::vector<std::string> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(stmt.Text(0));
  }
  return out;
}

}  // namespace cairn::repo
