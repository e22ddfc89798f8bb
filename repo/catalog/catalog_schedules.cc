// Catalog: the auditor's schedules (table schedules).
#include "repo/catalog/catalog.h"

namespace cairn::repo {
namespace {

constexpr std::string_view kScheduleColumns =
    "name, every_micros, site, partner, object, sample, rate_bytes_per_sec, mode, last_run, "
    "next_run, created";

ScheduleRecord ScheduleFromRow(const sql::Stmt& row) {
  ScheduleRecord s;
  s.name = row.Text(0);
  s.every_micros = row.Int(1);
  s.site = row.Text(2);
  s.partner = row.Text(3);
  s.object = row.Text(4);
  s.sample = row.Text(5);
  s.rate_bytes_per_sec = static_cast<uint64_t>(row.Int(6));
  s.mode = row.Text(7);
  s.last_run_micros = row.Int(8);
  s.next_run_micros = row.Int(9);
  s.created_micros = row.Int(10);
  return s;
}

Result<std::vector<ScheduleRecord>> QuerySchedules(sql::Db& db, std::string_view where,
                                                   int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT " + std::string(kScheduleColumns) +
                                                    " FROM schedules " + std::string(where)));
  if (now >= 0) stmt.Bind(1, now);
  std::vector<ScheduleRecord> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ScheduleFromRow(stmt));
  }
  return out;
}

}  // namespace

Status Catalog::AddSchedule(const ScheduleRecord& s) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                         db_.Prepare("INSERT INTO schedules (" + std::string(kScheduleColumns) +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)"));
  stmt.Bind(1, s.name)
      .Bind(2, s.every_micros)
      .Bind(3, s.site)
      .Bind(4, s.partner)
      .Bind(5, s.object)
      .Bind(6, s.sample)
      .Bind(7, static_cast<int64_t>(s.rate_bytes_per_sec))
      .Bind(8, s.mode)
      .Bind(9, s.next_run_micros)
      .Bind(10, s.created_micros);
  return stmt.Run();
}

Result<std::vector<ScheduleRecord>> Catalog::ListSchedules() {
  std::lock_guard lock(mu_);
  return QuerySchedules(db_, "ORDER BY name", -1);
}

Result<std::vector<ScheduleRecord>> Catalog::DueSchedules(int64_t now_micros) {
  std::lock_guard lock(mu_);
  return QuerySchedules(db_, "WHERE next_run <= ?1 ORDER BY next_run, name", now_micros);
}

Status Catalog::RemoveSchedule(const std::string& name) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("DELETE FROM schedules WHERE name = ?1"));
  stmt.Bind(1, name);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return Status::NotFound("no schedule " + name);
  return Status::OK();
}

Status Catalog::RecordScheduleRun(const std::string& name, int64_t last_run_micros,
                                  int64_t next_run_micros, const std::string& sample) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(
      sql::Stmt stmt,
      db_.Prepare(
          "UPDATE schedules SET last_run = ?1, next_run = ?2, sample = ?3 WHERE name = ?4"));
  stmt.Bind(1, last_run_micros).Bind(2, next_run_micros).Bind(3, sample).Bind(4, name);
  return stmt.Run();
}

}  // namespace cairn::repo
