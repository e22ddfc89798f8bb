// LoadAuditHistory: runs, per-site counts, findings and overdue copies from
// the catalog.
#include "audit/history.h"

#include <optional>

#include "repo/catalog/catalog.h"

namespace cairn::audit {
namespace {

std::optional<FindingKind> ParseKind(const std::string& name) {
  for (FindingKind k :
       {FindingKind::kCorrupt, FindingKind::kMissing, FindingKind::kUnavailable,
        FindingKind::kDamaged, FindingKind::kOrphan, FindingKind::kNoCopy,
        FindingKind::kCatalogMismatch, FindingKind::kUnreadable, FindingKind::kUncataloged}) {
    if (FindingKindName(k) == name) return k;
  }
  return std::nullopt;
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

constexpr std::string_view kRunWhere = " WHERE (?1 = 0 OR id = ?1) AND started >= ?2";

Status LoadRuns(repo::sql::Db& db, const HistoryQuery& q, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt runs,
      db.Prepare("SELECT id, schedule, started, finished, state, checked, bytes, corrupt, "
                 "missing, unavailable, repaired FROM audit_runs" +
                 std::string(kRunWhere) + " ORDER BY started, id"));
  runs.Bind(1, q.run_id).Bind(2, q.since_micros);
  std::map<int64_t, size_t> index;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, runs.Step());
    if (!row) break;
    RunSummary r;
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
    r.counts.ok =
        r.counts.checked - std::min(r.counts.checked, r.counts.corrupt + r.counts.missing);
    index[r.id] = h.runs.size();
    h.runs.push_back(std::move(r));
  }
  if (q.run_id != 0 && h.runs.empty()) {
    return Status::NotFound("no audit run " + std::to_string(q.run_id) + " in " + db.path());
  }
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt sites,
      db.Prepare("SELECT run_id, site, checked, ok, corrupt, missing, unavailable, repaired, "
                 "damaged, bytes FROM audit_run_sites WHERE run_id IN (SELECT id FROM audit_runs" +
                 std::string(kRunWhere) + ") ORDER BY run_id, site"));
  sites.Bind(1, q.run_id).Bind(2, q.since_micros);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, sites.Step());
    if (!row) break;
    auto it = index.find(sites.Int(0));
    if (it == index.end()) continue;
    SiteCounts c;
    uint64_t* fields[] = {&c.checked,     &c.ok,       &c.corrupt, &c.missing,
                          &c.unavailable, &c.repaired, &c.damaged, &c.bytes};
    for (int i = 0; i < 8; ++i) *fields[i] = static_cast<uint64_t>(sites.Int(2 + i));
    RunSummary& run = h.runs[it->second];
    run.counts.damaged += c.damaged;
    run.sites[sites.Text(1)] = c;
  }
  for (const RunSummary& r : h.runs) {
    AddCounts(h.totals, r.counts);
    for (const auto& [site, c] : r.sites) AddCounts(h.sites[site], c);
  }
  return Status::OK();
}

Status LoadFindings(repo::sql::Db& db, const HistoryQuery& q, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("SELECT run_id, kind, partner, object, version, path, site, sha256, detail, "
                 "repaired, repaired_from FROM audit_findings WHERE run_id IN (SELECT id FROM "
                 "audit_runs" +
                 std::string(kRunWhere) + ") ORDER BY run_id, id"));
  stmt.Bind(1, q.run_id).Bind(2, q.since_micros);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    StoredFinding s;
    s.run_id = stmt.Int(0);
    Finding& f = s.finding;
    f.kind = ParseKind(stmt.Text(1)).value_or(FindingKind::kCorrupt);
    f.partner = stmt.Text(2);
    f.object = stmt.Text(3);
    f.version = static_cast<uint32_t>(stmt.Int(4));
    f.path = stmt.Text(5);
    f.site = stmt.Text(6);
    f.sha256 = stmt.Text(7);
    f.detail = stmt.Text(8);
    f.repaired = stmt.Int(9) != 0;
    f.repaired_from = stmt.Text(10);
    if (f.repaired) ++h.findings_repaired;
    h.findings.push_back(std::move(s));
  }
  return Status::OK();
}

Status LoadOverdue(repo::sql::Db& db, const HistoryQuery& q, int64_t now, AuditHistory& h) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt counts,
      db.Prepare("SELECT s.name, COUNT(*) FROM replicas r JOIN sites s ON s.id = r.site_id "
                 "WHERE r.state <> 'pending' AND r.next_due < ?1 GROUP BY s.name ORDER BY s.name"));
  counts.Bind(1, now);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, counts.Step());
    if (!row) break;
    uint64_t n = static_cast<uint64_t>(counts.Int(1));
    h.overdue_by_site[counts.Text(0)] = n;
    h.overdue += n;
  }
  if (h.overdue == 0 || q.max_overdue_listed == 0) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt oldest, db.Prepare(R"sql(
SELECT s.name, r.next_due, COALESCE(r.blob, t.sha256), v.partner, v.object, v.version,
  COALESCE(f.path, t.name)
FROM (SELECT id, site_id, blob, tag_file_id, next_due FROM replicas
      WHERE state <> 'pending' AND next_due < ?1 ORDER BY next_due, id LIMIT ?2) r
JOIN sites s ON s.id = r.site_id
LEFT JOIN tag_files t ON t.id = r.tag_file_id
LEFT JOIN files f ON f.sha256 = r.blob
  AND f.version_id = (SELECT MIN(version_id) FROM files WHERE sha256 = r.blob)
LEFT JOIN versions v ON v.id = COALESCE(f.version_id, t.version_id)
GROUP BY r.id ORDER BY r.next_due, r.id LIMIT ?2)sql"));
  oldest.Bind(1, now).Bind(2, static_cast<int64_t>(q.max_overdue_listed));
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, oldest.Step());
    if (!row) break;
    OverdueCopy c;
    c.site = oldest.Text(0);
    c.next_due_micros = oldest.Int(1);
    c.sha256 = oldest.Text(2);
    c.partner = oldest.Text(3);
    c.object = oldest.Text(4);
    c.version = static_cast<uint32_t>(oldest.Int(5));
    c.path = oldest.Text(6);
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
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Db db,
                         repo::sql::Db::Open(repo.catalog().path(), false, 30'000));
  CAIRN_RETURN_IF_ERROR(LoadRuns(db, query, h));
  CAIRN_RETURN_IF_ERROR(LoadFindings(db, query, h));
  CAIRN_RETURN_IF_ERROR(LoadOverdue(db, query, h.generated_micros, h));
  return h;
}

}  // namespace cairn::audit
