// Catalog: what past sweeps recorded (audit_runs, audit_run_sites,
// audit_findings) and the copies overdue now, for `cairn audit report`.
#include "repo/catalog/catalog.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kRunWhere = " WHERE (?1 = 0 OR id = ?1) AND started >= ?2";

}  // namespace

Result<std::vector<AuditRunRecord>> Catalog::ListAuditRuns(int64_t run_id, int64_t since_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt runs,
      db_.Prepare("SELECT id, schedule, started, finished, state, checked, bytes, corrupt, "
                  "missing, unavailable, repaired, COALESCE(report, '') FROM audit_runs" +
                  std::string(kRunWhere) + " ORDER BY started, id"));
  runs.Bind(1, run_id).Bind(2, since_micros);
  std::vector<AuditRunRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, runs.Step());
    if (!row) break;
    AuditRunRecord r;
    r.id = runs.Int(0);
    r.schedule = runs.Text(1);
    r.started_micros = runs.Int(2);
    r.finished_micros = runs.Int(3);
    r.state = runs.Text(4);
    r.counts.checked = static_cast<uint64_t>(runs.Int(5));
    r.counts.bytes = static_cast<uint64_t>(runs.Int(6));
    r.counts.corrupt = static_cast<uint64_t>(runs.Int(7));
    r.counts.missing = static_cast<uint64_t>(runs.Int(8));
    r.counts.unavailable = static_cast<uint64_t>(runs.Int(9));
    r.counts.repaired = static_cast<uint64_t>(runs.Int(10));
    r.report = runs.Text(11);
    out.push_back(std::move(r));
  }
  if (run_id != 0 && out.empty()) {
    return Status::NotFound("no audit run " + std::to_string(run_id) + " (see cairn audit report)");
  }
  return out;
}

Result<std::vector<AuditRunSiteRecord>> Catalog::ListAuditRunSites(int64_t run_id,
                                                                   int64_t since_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt sites,
      db_.Prepare(
          "SELECT run_id, site, checked, ok, corrupt, missing, unavailable, repaired, "
          "damaged, bytes, closed FROM audit_run_sites WHERE run_id IN (SELECT id FROM audit_runs" +
          std::string(kRunWhere) + ") ORDER BY run_id, site"));
  sites.Bind(1, run_id).Bind(2, since_micros);
  std::vector<AuditRunSiteRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, sites.Step());
    if (!row) break;
    AuditRunSiteRecord c;
    c.run_id = sites.Int(0);
    c.site = sites.Text(1);
    uint64_t* fields[] = {&c.checked,     &c.ok,       &c.corrupt, &c.missing,
                          &c.unavailable, &c.repaired, &c.damaged, &c.bytes};
    for (int i = 0; i < 8; ++i) *fields[i] = static_cast<uint64_t>(sites.Int(2 + i));
    c.closed = sites.Text(10);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<AuditFindingRecord>> Catalog::ListAuditFindings(int64_t run_id,
                                                                   int64_t since_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare(
          "SELECT run_id, kind, partner, object, version, path, site, sha256, detail, "
          "repaired, repaired_from, closed FROM audit_findings WHERE run_id IN (SELECT id FROM "
          "audit_runs" +
          std::string(kRunWhere) + ") ORDER BY run_id, id"));
  stmt.Bind(1, run_id).Bind(2, since_micros);
  std::vector<AuditFindingRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    AuditFindingRecord f;
    f.run_id = stmt.Int(0);
    f.kind = stmt.Text(1);
    f.partner = stmt.Text(2);
    f.object = stmt.Text(3);
    f.version = static_cast<uint32_t>(stmt.Int(4));
    f.path = stmt.Text(5);
    f.site = stmt.Text(6);
    f.sha256 = stmt.Text(7);
    f.detail = stmt.Text(8);
    f.repaired = stmt.Int(9) != 0;
    f.repaired_from = stmt.Text(10);
    f.closed = stmt.Text(11);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<std::pair<std::string, uint64_t>>> Catalog::CountOverdueCopies(
    int64_t now_micros) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt counts,
      db_.Prepare(
          "SELECT s.name, COUNT(*) FROM replicas r JOIN sites s ON s.id = r.site_id "
          "WHERE r.state <> 'pending' AND r.next_due < ?1 GROUP BY s.name ORDER BY s.name"));
  counts.Bind(1, now_micros);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, counts.Step());
    if (!row) break;
    out.emplace_back(counts.Text(0), static_cast<uint64_t>(counts.Int(1)));
  }
  return out;
}

Result<std::vector<OverdueCopyRecord>> Catalog::ListOverdueCopies(int64_t now_micros,
                                                                  size_t limit) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt oldest, db_.Prepare(R"sql(
SELECT s.name, r.next_due, COALESCE(b.sha256, t.sha256), v.partner, v.object, v.version,
  COALESCE(f.path, t.name)
FROM (SELECT id, site_id, blob_id, tag_file_id, next_due FROM replicas
      WHERE state <> 'pending' AND next_due < ?1 ORDER BY next_due, id LIMIT ?2) r
JOIN sites s ON s.id = r.site_id
LEFT JOIN blobs b ON b.id = r.blob_id
LEFT JOIN tag_files t ON t.id = r.tag_file_id
LEFT JOIN files f ON f.blob_id = r.blob_id
  AND f.version_id = (SELECT MIN(version_id) FROM files WHERE blob_id = r.blob_id)
LEFT JOIN versions v ON v.id = COALESCE(f.version_id, t.version_id)
GROUP BY r.id ORDER BY r.next_due, r.id LIMIT ?2)sql"));
  oldest.Bind(1, now_micros).Bind(2, static_cast<int64_t>(limit));
  std::vector<OverdueCopyRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, oldest.Step());
    if (!row) break;
    OverdueCopyRecord c;
    c.site = oldest.Text(0);
    c.next_due_micros = oldest.Int(1);
    c.sha256 = oldest.Text(2);
    c.partner = oldest.Text(3);
    c.object = oldest.Text(4);
    c.version = static_cast<uint32_t>(oldest.Int(5));
    c.path = oldest.Text(6);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace cairn::repo
