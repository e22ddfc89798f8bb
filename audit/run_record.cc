// The audit_runs row of a sweep at its end, its per-site counts
// (audit_run_sites) and findings (audit_findings), read back by the report;
// written through Catalog::AuditRecorder.
#include <map>
#include <nlohmann/json.hpp>

#include "audit/audit_internal.h"

namespace cairn::audit::internal {

std::vector<repo::AuditFindingRecord> FindingsToStore(
    std::span<const Finding> findings, std::map<std::string, size_t>& unavailable_stored) {
  std::vector<repo::AuditFindingRecord> rows;
  rows.reserve(findings.size());
  for (const Finding& f : findings) {
    if (f.kind == FindingKind::kUnavailable &&
        ++unavailable_stored[f.site] > kMaxUnavailableFindingsStored) {
      continue;
    }
    repo::AuditFindingRecord row;
    row.kind = std::string(FindingKindName(f.kind));  // each its own kind (migration 23)
    row.partner = f.partner;
    row.object = f.object;
    row.version = f.version;
    row.path = f.path;
    row.site = f.site;
    row.sha256 = f.sha256;
    row.detail = f.detail;
    row.repaired = f.repaired;
    row.repaired_from = f.repaired_from;
    rows.push_back(std::move(row));
  }
  return rows;
}

repo::AuditRunCounts RunCounts(const AuditReport& report) {
  return {.checked = report.checked,
          .bytes = report.bytes,
          .corrupt = report.corrupt,
          .missing = report.missing,
          .unavailable = report.unavailable,
          .repaired = report.repaired};
}

Status FinishRun(repo::Catalog::AuditRecorder& recorder, const AuditReport& report,
                 size_t first_unstored, std::map<std::string, size_t>& unavailable_stored,
                 const repo::AuditRunCounts& after_batches) {
  nlohmann::json summary = {{"planned", report.planned},
                            {"ok", report.ok},
                            {"damaged", report.damaged},
                            {"orphans", report.orphans},
                            {"no_copy", report.no_copy},
                            {"unreadable", report.unreadable},
                            {"uncataloged", report.uncataloged},
                            {"left_of_purge", report.left_of_purge},
                            {"unrecorded_copies", report.unrecorded_copies},
                            {"stray_files", report.stray_files},
                            {"records_missing", report.records_missing},
                            {"busy_sites", report.busy_sites},
                            {"stopped", report.stopped},
                            {"unavailable_sites", report.unavailable_sites},
                            {"select_micros", report.select_micros}};
  std::vector<repo::AuditRunSiteRecord> sites;
  for (const auto& [site, c] : report.sites) {
    repo::AuditRunSiteRecord row;
    row.site = site;
    row.checked = c.checked;
    row.ok = c.ok;
    row.corrupt = c.corrupt;
    row.missing = c.missing;
    row.unavailable = c.unavailable;
    row.repaired = c.repaired;
    row.damaged = c.damaged;
    row.bytes = c.bytes;
    sites.push_back(std::move(row));
  }
  std::vector<repo::AuditFindingRecord> findings;
  if (first_unstored < report.findings.size()) {
    findings = FindingsToStore(std::span<const Finding>(report.findings).subspan(first_unstored),
                               unavailable_stored);
  }
  return recorder.FinishRun(report.run_id, report.finished_micros,
                            report.stopped ? "aborted" : "done", summary.dump(), after_batches,
                            sites, findings);
}

}  // namespace cairn::audit::internal
