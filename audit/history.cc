// LoadAuditHistory: runs, per-site counts, findings and overdue copies from
// the catalog.
#include "audit/history.h"

#include <algorithm>
#include <optional>

#include "repo/catalog/catalog.h"

namespace cairn::audit {
namespace {

std::optional<FindingKind> ParseKind(const std::string& name) {
  for (FindingKind k :
       {FindingKind::kCorrupt, FindingKind::kMissing, FindingKind::kUnavailable,
        FindingKind::kDamaged, FindingKind::kOrphan, FindingKind::kNoCopy,
        FindingKind::kCatalogMismatch, FindingKind::kUnreadable, FindingKind::kUncataloged,
        FindingKind::kUnrecordedCopy, FindingKind::kStrayFile}) {
    if (FindingKindName(k) == name) return k;
  }
  return std::nullopt;
}

Status LoadRuns(repo::Catalog& catalog, const HistoryQuery& q, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::AuditRunRecord> runs,
                         catalog.ListAuditRuns(q.run_id, q.since_micros));
  std::map<int64_t, size_t> index;
  for (const repo::AuditRunRecord& row : runs) {
    RunSummary r;
    r.id = row.id;
    r.schedule = row.schedule;
    r.started_micros = row.started_micros;
    r.finished_micros = row.finished_micros;
    r.state = row.state;
    r.counts.checked = row.counts.checked;
    r.counts.bytes = row.counts.bytes;
    r.counts.corrupt = row.counts.corrupt;
    r.counts.missing = row.counts.missing;
    r.counts.unavailable = row.counts.unavailable;
    r.counts.repaired = row.counts.repaired;
    r.counts.ok =
        r.counts.checked - std::min(r.counts.checked, r.counts.corrupt + r.counts.missing);
    if (!row.report.empty()) {
      nlohmann::json summary = nlohmann::json::parse(row.report, nullptr, false);
      if (summary.is_object() && summary.contains("rebuilt")) r.rebuilt = summary["rebuilt"];
    }
    index[r.id] = h.runs.size();
    h.runs.push_back(std::move(r));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::AuditRunSiteRecord> sites,
                         catalog.ListAuditRunSites(q.run_id, q.since_micros));
  for (const repo::AuditRunSiteRecord& row : sites) {
    auto it = index.find(row.run_id);
    if (it == index.end()) continue;
    SiteCounts c;
    c.checked = row.checked;
    c.ok = row.ok;
    c.corrupt = row.corrupt;
    c.missing = row.missing;
    c.unavailable = row.unavailable;
    c.repaired = row.repaired;
    c.damaged = row.damaged;
    c.bytes = row.bytes;
    RunSummary& run = h.runs[it->second];
    run.counts.damaged += c.damaged;
    run.sites[row.site] = c;
    if (!row.closed.empty()) {
      AddCounts(h.closed, c);
      h.closed_sites[row.site] = row.closed;
    }
  }
  for (const RunSummary& r : h.runs) {
    AddCounts(h.totals, r.counts);
    for (const auto& [site, c] : r.sites) AddCounts(h.sites[site], c);
  }
  return Status::OK();
}

Status LoadFindings(repo::Catalog& catalog, const HistoryQuery& q, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::AuditFindingRecord> rows,
                         catalog.ListAuditFindings(q.run_id, q.since_micros));
  for (repo::AuditFindingRecord& row : rows) {
    StoredFinding s;
    s.run_id = row.run_id;
    Finding& f = s.finding;
    f.kind = ParseKind(row.kind).value_or(FindingKind::kCorrupt);
    f.partner = std::move(row.partner);
    f.object = std::move(row.object);
    f.version = row.version;
    f.path = std::move(row.path);
    f.site = std::move(row.site);
    f.sha256 = std::move(row.sha256);
    f.detail = std::move(row.detail);
    f.repaired = row.repaired;
    f.repaired_from = std::move(row.repaired_from);
    f.closed = std::move(row.closed);
    if (f.repaired) ++h.findings_repaired;
    if (!f.closed.empty()) ++h.findings_closed;
    ++h.findings_by_kind[std::string(FindingKindName(f.kind))];
    h.findings.push_back(std::move(s));
  }
  return Status::OK();
}

Status LoadOverdue(repo::Catalog& catalog, const HistoryQuery& q, int64_t now, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(auto counts, catalog.CountOverdueCopies(now));
  for (const auto& [site, n] : counts) {
    h.overdue_by_site[site] = n;
    h.overdue += n;
  }
  if (h.overdue == 0 || q.max_overdue_listed == 0) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::OverdueCopyRecord> oldest,
                         catalog.ListOverdueCopies(now, q.max_overdue_listed));
  for (repo::OverdueCopyRecord& row : oldest) {
    OverdueCopy c;
    c.site = std::move(row.site);
    c.next_due_micros = row.next_due_micros;
    c.sha256 = std::move(row.sha256);
    c.partner = std::move(row.partner);
    c.object = std::move(row.object);
    c.version = row.version;
    c.path = std::move(row.path);
    h.overdue_oldest.push_back(std::move(c));
  }
  return Status::OK();
}

}  // namespace

Result<AuditHistory> LoadAuditHistory(repo::Repository& repo, const HistoryQuery& query) {
  AuditHistory h;
  h.generated_micros = repo.clock().NowMicros();
  h.since_micros = query.since_micros;
  h.run_id = query.run_id;
  repo::Catalog& catalog = repo.catalog();
  CAIRN_RETURN_IF_ERROR(LoadRuns(catalog, query, h));
  CAIRN_RETURN_IF_ERROR(LoadFindings(catalog, query, h));
  CAIRN_RETURN_IF_ERROR(LoadOverdue(catalog, query, h.generated_micros, h));
  return h;
}

void AddCounts(SiteCounts& to, const SiteCounts& from) {
  to.checked += from.checked;
  to.ok += from.ok;
  to.corrupt += from.corrupt;
  to.missing += from.missing;
  to.unavailable += from.unavailable;
  to.repaired += from.repaired;
  to.damaged += from.damaged;
  to.bytes += from.bytes;
}

bool HistoryHasProblems(const AuditHistory& history) {
  return CountsHaveProblems(history.totals, history.closed);
}

bool CountsHaveProblems(const SiteCounts& t, const SiteCounts& c) {
  auto open = [](uint64_t all, uint64_t closed) { return all - std::min(all, closed); };
  return open(t.damaged, c.damaged) > 0 || open(t.unavailable, c.unavailable) > 0 ||
         open(t.corrupt, c.corrupt) + open(t.missing, c.missing) > open(t.repaired, c.repaired);
}

}  // namespace cairn::audit
