// Audit schedules: parse, store, list, remove, and run the due ones.
#include "audit/schedule.h"

#include <charconv>

#include "audit/sample.h"
#include "repo/catalog/catalog.h"
#include "repo/site/settings.h"

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

Schedule ScheduleFromRecord(const repo::ScheduleRecord& r) {
  Schedule s;
  s.name = r.name;
  s.every_micros = r.every_micros;
  s.scope.site = r.site;
  s.scope.partner = r.partner;
  s.scope.object = r.object;
  s.sample = r.sample;
  s.rate_bytes_per_sec = r.rate_bytes_per_sec;
  s.mode = r.mode == "all" ? AuditMode::kAll : AuditMode::kDue;
  s.last_run_micros = r.last_run_micros;
  s.next_run_micros = r.next_run_micros;
  s.created_micros = r.created_micros;
  return s;
}

std::vector<Schedule> SchedulesFromRecords(const std::vector<repo::ScheduleRecord>& records) {
  std::vector<Schedule> out;
  out.reserve(records.size());
  for (const repo::ScheduleRecord& r : records) out.push_back(ScheduleFromRecord(r));
  return out;
}

// "3/4" after a run of bucket 3 of 4 becomes "4/4", and "4/4" becomes "1/4".
std::string NextSample(const std::string& sample) {
  Result<Sample> parsed = ParseSample(sample);
  if (!parsed.ok() || parsed->kind != Sample::Kind::kBucket) return sample;
  uint32_t next = parsed->bucket % parsed->buckets + 1;
  return std::to_string(next) + "/" + std::to_string(parsed->buckets);
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("duration '" + std::string(text) +
                                   "': expected a whole number above 0 and a unit s, m, h, d "
                                   "or w (e.g. 90d, 12h, 2w)");
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
  repo::ScheduleRecord record;
  record.name = s.name;
  record.every_micros = s.every_micros;
  record.site = s.scope.site;
  record.partner = s.scope.partner;
  record.object = s.scope.object;
  record.sample = s.sample;
  record.rate_bytes_per_sec = s.rate_bytes_per_sec;
  record.mode = s.mode == AuditMode::kAll ? "all" : "due";
  record.next_run_micros = s.next_run_micros ? s.next_run_micros : now;
  record.created_micros = now;
  Status inserted = catalog.AddSchedule(record);
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
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::ScheduleRecord> records, repo.catalog().ListSchedules());
  return SchedulesFromRecords(records);
}

Status RemoveSchedule(repo::Repository& repo, const std::string& name,
                      std::vector<std::string>* warnings) {
  CAIRN_RETURN_IF_ERROR(repo.catalog().RemoveSchedule(name));
  std::vector<std::string> unsynced = repo::SyncSettingsAfterChange(repo);
  if (warnings) *warnings = std::move(unsynced);
  return Status::OK();
}

Result<std::vector<ScheduleRun>> RunDueSchedules(repo::Repository& repo,
                                                 const ScheduleRunOptions& options) {
  int64_t now = repo.clock().NowMicros();
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::ScheduleRecord> records,
                         repo.catalog().DueSchedules(now));
  const std::vector<Schedule> due = SchedulesFromRecords(records);
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
      if (!run.report.stopped) {
        CAIRN_RETURN_IF_ERROR(repo.catalog().RecordScheduleRun(
            s.name, started, started + s.every_micros, NextSample(s.sample)));
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace cairn::audit
