// What past sweeps found, for `cairn audit report`: the runs (from
// audit_runs), their per-site counts and findings (audit_run_sites,
// audit_findings, written by each sweep), and the copies overdue for a check
// now. One AuditHistory, four formats carrying the same figures.
#ifndef CAIRN_AUDIT_HISTORY_H_
#define CAIRN_AUDIT_HISTORY_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "repo/site/repository.h"

namespace cairn::audit {

struct RunSummary {
  int64_t id = 0;
  std::string schedule;  // "" : run by hand
  int64_t started_micros = 0;
  int64_t finished_micros = 0;  // 0 while running (or killed)
  std::string state;            // running | done | aborted
  SiteCounts counts;            // the whole run
  std::map<std::string, SiteCounts> sites;
  // Set for the run a catalog rebuild made of the fixity checks and repairs of the event log it
  // loaded (repo/recovery/rebuild_audit.cc): when (`at`), from which site (`from_site`), whose log
  // (`events_site`), what is not known (`not_known`). Null for a sweep's own run.
  nlohmann::json rebuilt;
};

struct StoredFinding {
  int64_t run_id = 0;
  Finding finding;
};

struct OverdueCopy {
  std::string partner, object, path, site, sha256;
  uint32_t version = 0;
  int64_t next_due_micros = 0;
};

struct AuditHistory {
  int64_t generated_micros = 0;
  int64_t since_micros = 0;      // 0: from the first run
  int64_t run_id = 0;            // set: only that run
  std::vector<RunSummary> runs;  // oldest first
  std::vector<StoredFinding> findings;
  SiteCounts totals;
  std::map<std::string, SiteCounts> sites;  // totals per site
  // The part of `totals` closed since (the runs' counts on a site taken out: nothing left to do
  // about them), and per site with why ("site removed").
  SiteCounts closed;
  std::map<std::string, std::string> closed_sites;
  uint64_t findings_repaired = 0;
  uint64_t findings_closed = 0;  // not repaired, closed since (Finding::closed)
  // The findings counted by kind (FindingKindName: "corrupt", "unrecorded-copy", "stray-file",
  // ...), each under its own; kinds with none are left out.
  std::map<std::string, uint64_t> findings_by_kind;
  uint64_t overdue = 0;  // copies whose next check is past (not pending)
  std::map<std::string, uint64_t> overdue_by_site;
  std::vector<OverdueCopy> overdue_oldest;  // at most max_overdue_listed, oldest first
};

struct HistoryQuery {
  int64_t run_id = 0;        // 0: every run since since_micros
  int64_t since_micros = 0;  // runs started at or after this
  size_t max_overdue_listed = 100;
};

// Reads the runs and findings `query` selects and the overdue copies as of
// the repository clock. NotFound naming the run when --run names none.
Result<AuditHistory> LoadAuditHistory(repo::Repository& repo, const HistoryQuery& query);

// True when the report shows a problem the audit verbs exit 1 for: a damaged or unavailable
// copy, or a corrupt or missing one not repaired, outside the counts closed since (a site taken
// out). CountsHaveProblems: the same of `totals` less `closed` (a report read as JSON).
bool HistoryHasProblems(const AuditHistory& history);
bool CountsHaveProblems(const SiteCounts& totals, const SiteCounts& closed);

// Adds every count of `from` to `to`.
void AddCounts(SiteCounts& to, const SiteCounts& from);

// The formats. Each carries the same figures: per run and in total checked,
// ok, corrupt, missing, unavailable, repaired, damaged, bytes; per site the
// same; each finding and their counts by kind; overdue copies.
nlohmann::json HistoryJson(const AuditHistory& history);
// For a run a catalog rebuild made (`rebuilt` set): what it holds and what is not known.
std::string RebuiltText(const RunSummary& run);
std::string HistoryText(const AuditHistory& history);
// One header line, then rows whose first column is the record type: "run",
// "site", "finding", "overdue", "total" (exactly one).
std::string HistoryCsv(const AuditHistory& history);
// One self-contained HTML file: inline CSS, inline SVG charts (checks and
// failures per run over time, and per site), tables; no scripts. The time
// chart keeps a readable width however many runs there are: one bar pair per
// run (labelled with its id) up to kMaxChartBars runs, else per day, ISO week
// or month. At most kMaxHtmlFindings findings are listed; the page says how
// many exist and which format lists them all.
inline constexpr size_t kMaxChartBars = 30;
inline constexpr size_t kMaxHtmlFindings = 1000;
std::string HistoryHtml(const AuditHistory& history);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_HISTORY_H_
