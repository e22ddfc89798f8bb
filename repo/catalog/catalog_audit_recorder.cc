// Catalog::AuditRecorder (catalog_audit.h): a sweep's audit_runs row, its
// batches of replica rows, findings and events, and its end.
#include <unistd.h>

#include <vector>

#include "repo/catalog/catalog_audit.h"
#include "repo/catalog/catalog_findings_repaired.h"
#include "repo/catalog/dead_owner.h"

namespace cairn::repo {

Catalog::AuditRecorder::~AuditRecorder() = default;

Result<int64_t> Catalog::AuditRecorder::StartRun(const std::string& schedule, int64_t now,
                                                 int64_t id) {
  // Runs whose process is gone (killed: a SIGTERM records its run as aborted itself) said
  // `running` for ever in `audit report`: recorded as aborted now.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt running,
      db_.Prepare("SELECT id, owner FROM audit_runs WHERE state = 'running' AND owner <> ''"));
  std::vector<int64_t> dead;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, running.Step());
    if (!row) break;
    if (catalog_internal::OwnerIsDead(running.Text(1))) dead.push_back(running.Int(0));
  }
  for (int64_t id : dead) {
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt abort,
        db_.Prepare("UPDATE audit_runs SET state = 'aborted', finished = ?1 WHERE id = ?2 AND "
                    "state = 'running'"));
    abort.Bind(1, now).Bind(2, id);
    CAIRN_RETURN_IF_ERROR(abort.Run());
  }
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("INSERT INTO audit_runs (id, schedule, started, owner) "
                                     "VALUES (NULLIF(?4, 0), ?1, ?2, ?3)"));
  stmt.Bind(1, schedule).Bind(2, now).Bind(3, "cairn " + std::to_string(::getpid())).Bind(4, id);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  return db_.LastInsertRowId();
}

Status Catalog::AuditRecorder::BeginRepair(int64_t run_id, int64_t replica_id, int64_t now_micros,
                                           const std::string& found_kind,
                                           const std::string& found) {
  // One row a copy: the site's lock lets one sweep at a time repair it.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("INSERT OR REPLACE INTO audit_repairs_begun "
                  "(replica_id, run_id, began, found_kind, found) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.Bind(1, replica_id).Bind(2, run_id).Bind(3, now_micros).Bind(4, found_kind).Bind(5, found);
  return stmt.Run();
}

Result<std::vector<BegunRepair>> Catalog::AuditRecorder::BegunRepairsOfEndedRuns() {
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("SELECT b.replica_id, b.run_id, b.began, b.found_kind, b.found "
                  "FROM audit_repairs_begun b "
                  "LEFT JOIN audit_runs r ON r.id = b.run_id "
                  "WHERE r.state IS NULL OR r.state <> 'running' ORDER BY b.began"));
  std::vector<BegunRepair> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Int(0), stmt.Int(1), stmt.Int(2), stmt.Text(3), stmt.Text(4)});
  }
  return out;
}

Status Catalog::AuditRecorder::InsertFindings(int64_t run_id,
                                              std::span<const AuditFindingRecord> findings) {
  if (findings.empty()) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt * stmt,
      sql::PrepareOnce(db_, &finding_,
                       "INSERT INTO audit_findings (run_id, kind, partner, object, version, path, "
                       "site, sha256, detail, repaired, repaired_from) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  for (const AuditFindingRecord& f : findings) {
    stmt->Bind(1, run_id)
        .Bind(2, f.kind)
        .Bind(3, f.partner)
        .Bind(4, f.object)
        .Bind(5, int64_t{f.version})
        .Bind(6, f.path)
        .Bind(7, f.site)
        .Bind(8, f.sha256)
        .Bind(9, f.detail)
        .Bind(10, int64_t{f.repaired ? 1 : 0})
        .Bind(11, f.repaired_from);
    CAIRN_RETURN_IF_ERROR(stmt->Run());
    stmt->Reset();
  }
  return Status::OK();
}

Status Catalog::AuditRecorder::WriteBatch(int64_t run_id,
                                          std::span<const AuditReplicaUpdate> updates,
                                          const AuditRunCounts& d,
                                          std::span<const AuditFindingRecord> findings,
                                          std::vector<proto::Event>& events, int64_t now_micros) {
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt * update,
      sql::PrepareOnce(db_, &update_,
                       "UPDATE replicas SET state = COALESCE(?1, state), next_due = ?2, "
                       "detail = ?3, last_verified = CASE WHEN ?4 < 0 THEN last_verified ELSE ?4 "
                       "END, read_failures = ?6 WHERE id = ?5"));
  // A good copy that was good before (nearly every check) leaves `state`
  // alone: setting it, even to the same value, re-evaluates the CHECK on
  // state (an ephemeral table per row for its IN list) and the index of
  // non-ok states. When no row changed, the full update runs.
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt * still_ok,
      sql::PrepareOnce(db_, &still_ok_,
                       "UPDATE replicas SET next_due = ?1, detail = ?2, last_verified = ?3, "
                       "read_failures = 0 WHERE id = ?4 AND state = 'ok'"));
  for (const AuditReplicaUpdate& u : updates) {
    if (u.state == ReplicaState::kOk && u.last_verified >= 0 && !u.keep_state) {
      still_ok->Bind(1, u.next_due)
          .Bind(2, u.detail)
          .Bind(3, u.last_verified)
          .Bind(4, u.replica_id);
      CAIRN_RETURN_IF_ERROR(still_ok->Run());
      still_ok->Reset();
      if (db_.Changes() > 0) continue;
    }
    if (u.keep_state) {
      update->BindNull(1);
    } else {
      update->Bind(1, ReplicaStateName(u.state));
    }
    update->Bind(2, u.next_due)
        .Bind(3, u.detail)
        .Bind(4, u.last_verified)
        .Bind(5, u.replica_id)
        .Bind(6, u.read_failures);
    CAIRN_RETURN_IF_ERROR(update->Run());
    update->Reset();
  }
  for (const AuditReplicaUpdate& u : updates) {
    if (!u.ends_repair) continue;
    CAIRN_ASSIGN_OR_RETURN(
        sql::Stmt * end, sql::PrepareOnce(db_, &end_repair_,
                                          "DELETE FROM audit_repairs_begun WHERE replica_id = ?1"));
    end->Bind(1, u.replica_id);
    CAIRN_RETURN_IF_ERROR(end->Run());
    end->Reset();
    // Repaired: what earlier runs found of the copy and could not repair is answered too.
    if (u.state == ReplicaState::kOk && !u.keep_state) {
      CAIRN_RETURN_IF_ERROR(
          catalog_internal::MarkFindingsOfReplicaRepaired(db_, u.replica_id, u.repaired_from)
              .status());
    }
  }
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt * counts,
      sql::PrepareOnce(db_, &counts_,
                       "UPDATE audit_runs SET checked = checked + ?1, bytes = bytes + ?2, "
                       "corrupt = corrupt + ?3, missing = missing + ?4, "
                       "unavailable = unavailable + ?5, repaired = repaired + ?6 WHERE id = ?7"));
  counts->Bind(1, static_cast<int64_t>(d.checked))
      .Bind(2, static_cast<int64_t>(d.bytes))
      .Bind(3, static_cast<int64_t>(d.corrupt))
      .Bind(4, static_cast<int64_t>(d.missing))
      .Bind(5, static_cast<int64_t>(d.unavailable))
      .Bind(6, static_cast<int64_t>(d.repaired))
      .Bind(7, run_id);
  CAIRN_RETURN_IF_ERROR(counts->Run());
  counts->Reset();
  CAIRN_RETURN_IF_ERROR(InsertFindings(run_id, findings));
  // The batch's PREMIS events in the same transaction as its rows: a kill
  // keeps both or neither (a copy no longer due always has its event), and
  // one commit instead of two per batch.
  if (!events.empty()) {
    CAIRN_RETURN_IF_ERROR(AppendEventsInTransaction(db_, now_micros, events).status());
  }
  return tx.Commit();
}

Status Catalog::AuditRecorder::FinishRun(int64_t run_id, int64_t finished_micros,
                                         const std::string& state, const std::string& report_json,
                                         const AuditRunCounts& more,
                                         std::span<const AuditRunSiteRecord> sites,
                                         std::span<const AuditFindingRecord> findings) {
  CAIRN_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare("UPDATE audit_runs SET finished = ?1, state = ?2, report = ?3, "
                  "checked = checked + ?5, bytes = bytes + ?6, corrupt = corrupt + ?7, "
                  "missing = missing + ?8, unavailable = unavailable + ?9, "
                  "repaired = repaired + ?10 WHERE id = ?4"));
  stmt.Bind(1, finished_micros).Bind(2, state).Bind(3, report_json).Bind(4, run_id);
  int index = 5;
  for (uint64_t v :
       {more.checked, more.bytes, more.corrupt, more.missing, more.unavailable, more.repaired}) {
    stmt.Bind(index++, static_cast<int64_t>(v));
  }
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt site_row,
      db_.Prepare("INSERT OR REPLACE INTO audit_run_sites (run_id, site, checked, ok, corrupt, "
                  "missing, unavailable, repaired, damaged, bytes) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  for (const AuditRunSiteRecord& c : sites) {
    site_row.Bind(1, run_id).Bind(2, c.site);
    int index = 3;
    for (uint64_t v :
         {c.checked, c.ok, c.corrupt, c.missing, c.unavailable, c.repaired, c.damaged, c.bytes}) {
      site_row.Bind(index++, static_cast<int64_t>(v));
    }
    CAIRN_RETURN_IF_ERROR(site_row.Run());
    site_row.Reset();
  }
  CAIRN_RETURN_IF_ERROR(InsertFindings(run_id, findings));
  return tx.Commit();
}

}  // namespace cairn::repo
