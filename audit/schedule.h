// Audit schedules (`cairn audit schedule add|list|remove`): named sweeps that
// run every N days, stored in the catalog's `schedules` table, and the
// function the daemon calls to run the ones that are due.
//
//   Schedule s;
//   s.name = "quarterly";
//   CAIRN_ASSIGN_OR_RETURN(s.every_micros, ParseDuration("90d"));
//   CAIRN_RETURN_IF_ERROR(AddSchedule(repo, s));
//   ...
//   CAIRN_ASSIGN_OR_RETURN(auto runs, RunDueSchedules(repo, {}));  // by repo.clock()
#ifndef CAIRN_AUDIT_SCHEDULE_H_
#define CAIRN_AUDIT_SCHEDULE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "bagit/status.h"
#include "repo/site/repository.h"

namespace cairn::audit {

struct Schedule {
  std::string name;  // [A-Za-z0-9][A-Za-z0-9._-]*, at most 64
  int64_t every_micros = 0;
  AuditScope scope;
  std::string sample;  // as AuditOptions::sample; "n/t" advances to n+1 after each run
  uint64_t rate_bytes_per_sec = 0;
  AuditMode mode = AuditMode::kDue;
  int64_t last_run_micros = 0;  // 0: never ran
  int64_t next_run_micros = 0;  // AddSchedule: 0 means "now" (runs at the next round)
  int64_t created_micros = 0;
};

// Parses "90d", "12h", "30m", "45s", "2w" (a whole number and one unit).
// InvalidArgument naming the text and the accepted forms.
Result<int64_t> ParseDuration(std::string_view text);
// The shortest exact form of a duration: "90d", "36h", "1w".
std::string FormatDuration(int64_t micros);

// Stores a new schedule. InvalidArgument for a bad name, a non-positive
// interval, a bad sample or an object without partner; NotFound (naming it)
// for an unknown site, partner or object; AlreadyExists when the name is taken.
// Then writes the settings to every site; the sites that did not take them
// are named in *warnings (repo::SyncSettingsAfterChange), when not null.
Status AddSchedule(repo::Repository& repo, Schedule schedule,
                   std::vector<std::string>* warnings = nullptr);
// Every schedule, by name.
Result<std::vector<Schedule>> ListSchedules(repo::Repository& repo);
// NotFound naming the schedule when there is none by that name. Then the
// settings to every site, as AddSchedule.
Status RemoveSchedule(repo::Repository& repo, const std::string& name,
                      std::vector<std::string>* warnings = nullptr);

// What running one due schedule gave.
struct ScheduleRun {
  std::string schedule;
  Status status;       // the sweep could not run (the schedule stays due)
  AuditReport report;  // when status is ok
};

struct ScheduleRunOptions {
  std::string user;  // for events; "" : $USER
  std::string agent_version;
  std::atomic<bool>* cancel = nullptr;  // set: stop after the checks in flight
};

// Runs, oldest next_run first, every schedule whose next_run <= the
// repository clock's now, one sweep each (RunAudit with the schedule's scope,
// sample, rate and mode, schedule name recorded in audit_runs). A finished
// sweep sets last_run = its start and next_run = start + every, and moves an
// "n/t" sample on to the next bucket; a stopped (cancelled) or failed one
// leaves the schedule due, so the next round resumes it. Errors only when
// the catalog cannot be read or written. The caller holds the writer lock.
Result<std::vector<ScheduleRun>> RunDueSchedules(repo::Repository& repo,
                                                 const ScheduleRunOptions& options);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_SCHEDULE_H_
