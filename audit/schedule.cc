// Audit schedules: parse, store, list, remove, and run the due ones.
#include "audit/schedule.h"

#include <charconv>

#include "audit/sample.h"
#include "repo/catalog/catalog.h"
#include "repo/settings.h"

namespace cairn::audit {
namespace {

struct Unit {
  char letter;
  int64_t micros;
};
constexpr Unit kUnits[] = {{'w', 7 * repo::kMicrosPerDay},
                           {'d', repo::kMicrosPerDay},
                           {'h', 3600 * repo::kMicrosPerSecond},
                           {'m', 60 * repo::kMicrosPerSecond},
                           {'s', repo::kMicrosPerSecond}};

constexpr std::string_view kColumns =
    "name, every_micros, site, partner, object, sample, rate_bytes_per_sec, mode, last_run, "
    "next_run, created";

Schedule FromRow(const repo::sql::Stmt& row) {
  Schedule s;
  s.name = row.Text(0);
  s.every_micros = row.Int(1);
  s.scope.site = row.Text(2);
  s.scope.partner = row.Text(3);
  s.scope.object = row.Text(4);
  s.sample = row.Text(5);
  s.rate_bytes_per_sec = static_cast<uint64_t>(row.Int(6));
  s.mode = row.Text(7) == "all" ? AuditMode::kAll : AuditMode::kDue;
  s.last_run_micros = row.Int(8);
  s.next_run_micros = row.Int(9);
  s.created_micros = row.Int(10);
  return s;
}

Result<std::vector<Schedule>> Query(repo::sql::Db& db, std::string_view where, int64_t now) {
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt, db.Prepare("SELECT " + std::string(kColumns) +
                                                          " FROM schedules " + std::string(where)));
  if (now >= 0) stmt.Bind(1, now);
  std::vector<Schedule> out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(FromRow(stmt));
  }
  return out;
}

// "3/4" after a run of bucket 3 of 4 becomes "4/4", and "4/4" becomes "1/4".
std::string NextSample(const std::string& sample) {
  Result<Sample> parsed = ParseSample(sample);
  if (!parsed.ok() || parsed->kind != Sample::Kind::kBucket) return sample;
  uint32_t next = parsed->bucket % parsed->buckets + 1;
  return std::to_string(next) + "/" + std::to_string(parsed->buckets);
}

Status RecordRun(repo::sql::Db& db, const Schedule& s, int64_t started) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("UPDATE schedules SET last_run = ?1, next_run = ?2, sample = ?3 WHERE name = ?4"));
  stmt.Bind(1, started)
      .Bind(2, started + s.every_micros)
      .Bind(3, NextSample(s.sample))
      .Bind(4, s.name);
  return stmt.Run();
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("duration '" + std::string(text) +
                                   "': expected a whole number and a unit s, m, h, d or w "
                                   "(e.g. 90d, 12h, 2w)");
  };
  if (text.size() < 2) return bad();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || n <= 0) return bad();
  for (const Unit& u : kUnits) {
    if (text.back() != u.letter) continue;
    if (n > INT64_MAX / u.micros) return bad();
    return n * u.micros;
  }
  return bad();
}

std::string FormatDuration(int64_t micros) {
  for (const Unit& u : kUnits) {
    if (micros % u.micros == 0) return std::to_string(micros / u.micros) + u.letter;
  }
  return std::to_string(micros) + "us";
}

namespace {

Status StoreSchedule(repo::Repository& repo, Schedule s) {
  repo::Catalog& catalog = repo.catalog();
  if (!repo::IsValidName(s.name)) {
    return Status::InvalidArgument("schedule name '" + s.name +
                                   "': use [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 characters");
  }
  if (s.every_micros <= 0) {
    return Status::InvalidArgument("schedule " + s.name + ": the interval must be positive");
  }
  CAIRN_RETURN_IF_ERROR(ParseSample(s.sample).status().WithContext("schedule " + s.name));
  if (!s.scope.site.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetSite(s.scope.site).status());
  if (!s.scope.object.empty() && s.scope.partner.empty()) {
    return Status::InvalidArgument("schedule " + s.name +
                                   ": an object needs its partner (--object PARTNER/OBJECT)");
  }
  if (!s.scope.partner.empty()) CAIRN_RETURN_IF_ERROR(catalog.GetPartner(s.scope.partner).status());
  if (!s.scope.object.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog.ListVersions(s.scope.partner, s.scope.object).status());
  }
  int64_t now = repo.clock().NowMicros();
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      catalog.db().Prepare("INSERT INTO schedules (" + std::string(kColumns) +
                           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)"));
  stmt.Bind(1, s.name)
      .Bind(2, s.every_micros)
      .Bind(3, s.scope.site)
      .Bind(4, s.scope.partner)
      .Bind(5, s.scope.object)
      .Bind(6, s.sample)
      .Bind(7, static_cast<int64_t>(s.rate_bytes_per_sec))
      .Bind(8, s.mode == AuditMode::kAll ? "all" : "due")
      .Bind(9, s.next_run_micros ? s.next_run_micros : now)
      .Bind(10, now);
  Status inserted = stmt.Run();
  if (inserted.IsAlreadyExists()) {
    return Status::AlreadyExists("schedule " + s.name +
                                 " already exists (remove it first to change it)");
  }
  return inserted;
}

}  // namespace

Status AddSchedule(repo::Repository& repo, Schedule s, std::vector<std::string>* warnings) {
  CAIRN_RETURN_IF_ERROR(StoreSchedule(repo, std::move(s)));
  std::vector<std::string> unsynced = repo::SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return Status::OK();
}

Result<std::vector<Schedule>> ListSchedules(repo::Repository& repo) {
  return Query(repo.catalog().db(), "ORDER BY name", -1);
}

Status RemoveSchedule(repo::Repository& repo, const std::string& name,
                      std::vector<std::string>* warnings) {
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt,
                         repo.catalog().db().Prepare("DELETE FROM schedules WHERE name = ?1"));
  stmt.Bind(1, name);
  CAIRN_RETURN_IF_ERROR(stmt.Run());
  if (repo.catalog().db().Changes() == 0) return Status::NotFound("no schedule " + name);
  std::vector<std::string> unsynced = repo::SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return Status::OK();
}

Result<std::vector<ScheduleRun>> RunDueSchedules(repo::Repository& repo,
                                                 const ScheduleRunOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Db db,
                         repo::sql::Db::Open(repo.catalog().path(), false, 30'000));
  int64_t now = repo.clock().NowMicros();
  CAIRN_ASSIGN_OR_RETURN(std::vector<Schedule> due,
                         Query(db, "WHERE next_run <= ?1 ORDER BY next_run, name", now));
  std::vector<ScheduleRun> runs;
  for (const Schedule& s : due) {
    if (options.cancel && options.cancel->load()) break;
    AuditOptions audit;
    audit.scope = s.scope;
    audit.sample = s.sample;
    audit.rate_bytes_per_sec = s.rate_bytes_per_sec;
    audit.mode = s.mode;
    audit.schedule = s.name;
    audit.user = options.user;
    audit.agent_version = options.agent_version;
    audit.cancel = options.cancel;
    ScheduleRun run;
    run.schedule = s.name;
    int64_t started = repo.clock().NowMicros();
    Result<AuditReport> report = RunAudit(repo, audit);
    if (!report.ok()) {
      run.status = report.status().WithContext("schedule " + s.name);
    } else {
      run.report = std::move(*report);
      if (!run.report.stopped) CAIRN_RETURN_IF_ERROR(RecordRun(db, s, started));
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace cairn::audit
