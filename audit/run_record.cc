// StartRun and FinishRun: the audit_runs row of a sweep, its per-site counts
// (audit_run_sites) and findings (audit_findings), read back by the report.
#include <map>
#include <nlohmann/json.hpp>

#include "audit/audit_internal.h"

namespace cairn::audit::internal {
namespace {

Status WriteSites(repo::sql::Db& db, const AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("INSERT OR REPLACE INTO audit_run_sites (run_id, site, checked, ok, corrupt, "
                 "missing, unavailable, repaired, damaged, bytes) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  for (const auto& [site, c] : report.sites) {
    stmt.Bind(1, report.run_id).Bind(2, site);
    int index = 3;
    for (uint64_t v :
         {c.checked, c.ok, c.corrupt, c.missing, c.unavailable, c.repaired, c.damaged, c.bytes}) {
      stmt.Bind(index++, static_cast<int64_t>(v));
    }
    CAIRN_RETURN_IF_ERROR(stmt.Run());
    stmt.Reset();
  }
  return Status::OK();
}

}  // namespace

Status InsertFindings(repo::sql::Db& db, int64_t run_id, std::span<const Finding> findings,
                      std::map<std::string, size_t>& unavailable_stored) {
  if (findings.empty()) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("INSERT INTO audit_findings (run_id, kind, partner, object, version, path, "
                 "site, sha256, detail, repaired, repaired_from) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  for (const Finding& f : findings) {
    if (f.kind == FindingKind::kUnavailable &&
        ++unavailable_stored[f.site] > kMaxUnavailableFindingsStored) {
      continue;
    }
    stmt.Bind(1, run_id)
        .Bind(2, FindingKindName(f.kind))
        .Bind(3, f.partner)
        .Bind(4, f.object)
        .Bind(5, int64_t{f.version})
        .Bind(6, f.path)
        .Bind(7, f.site)
        .Bind(8, f.sha256)
        .Bind(9, f.detail)
        .Bind(10, int64_t{f.repaired ? 1 : 0})
        .Bind(11, f.repaired_from);
    CAIRN_RETURN_IF_ERROR(stmt.Run());
    stmt.Reset();
  }
  return Status::OK();
}

Result<int64_t> StartRun(repo::sql::Db& db, const std::string& schedule, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt,
                         db.Prepare("INSERT INTO audit_runs (schedule, started) VALUES (?1, ?2)"));
  stmt.Bind(1, schedule).Bind(2, now);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return db.LastInsertRowId();
}

Status FinishRun(repo::sql::Db& db, const AuditReport& report, size_t first_unstored,
                 std::map<std::string, size_t>& unavailable_stored) {
  nlohmann::json summary = {{"planned", report.planned},
                            {"ok", report.ok},
                            {"damaged", report.damaged},
                            {"orphans", report.orphans},
                            {"no_copy", report.no_copy},
                            {"unreadable", report.unreadable},
                            {"uncataloged", report.uncataloged},
                            {"records_missing", report.records_missing},
                            {"busy_sites", report.busy_sites},
                            {"stopped", report.stopped},
                            {"unavailable_sites", report.unavailable_sites},
                            {"select_micros", report.select_micros}};
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Transaction tx, repo::sql::Transaction::Begin(db));
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("UPDATE audit_runs SET finished = ?1, state = ?2, report = ?3 WHERE id = ?4"));
  stmt.Bind(1, report.finished_micros)
      .Bind(2, report.stopped ? "aborted" : "done")
      .Bind(3, summary.dump())
      .Bind(4, report.run_id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  CAIRN_RETURN_IF_ERROR(WriteSites(db, report));
  if (first_unstored < report.findings.size()) {
    CAIRN_RETURN_IF_ERROR(InsertFindings(
        db, report.run_id, std::span<const Finding>(report.findings).subspan(first_unstored),
        unavailable_stored));
  }
  return tx.Commit();
}

}  // namespace cairn::audit::internal
