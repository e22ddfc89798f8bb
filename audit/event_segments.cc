// CheckEventSegments: a sweep's check of the sites' event logs (see event_segments.h).
#include "audit/event_segments.h"

#include "repo/events/site_log_check.h"

namespace cairn::audit {

Status CheckEventSegments(repo::Repository& repo, const AuditOptions& options,
                          AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::SiteLogCheck> sites,
                         repo::CheckEventLogCopies(repo, options.scope.site, options.repair));
  for (const repo::SiteLogCheck& site : sites) {
    if (!site.checked) {
      bool named = false;  // the sweep may have found the site down already
      for (const std::string& u : report.unavailable_sites)
        named = named || u.starts_with(site.site + ": ");
      if (!named) {
        report.unavailable_sites.push_back(site.site + ": event log not checked: " + site.error);
      }
      continue;
    }
    for (const repo::SegmentFinding& s : site.findings) {
      Finding f;
      // Counted for the site too, so that the stored run and the site's row say what the
      // printed run says (they said 0 before).
      SiteCounts& counts = report.sites[site.site];
      switch (s.kind) {
        case repo::SegmentProblem::kMissing:
          f.kind = FindingKind::kMissing;
          ++report.missing;
          ++counts.missing;
          break;
        case repo::SegmentProblem::kDamaged:
          f.kind = FindingKind::kCorrupt;
          ++report.corrupt;
          ++counts.corrupt;
          break;
        case repo::SegmentProblem::kDifferent:
        case repo::SegmentProblem::kAhead:
          f.kind = FindingKind::kCatalogMismatch;
          ++report.catalog_mismatch;
          break;
      }
      f.site = site.site;
      f.path = s.key;
      f.detail = "event segment " + s.key + ": " + std::string(repo::SegmentProblemName(s.kind)) +
                 ": " + s.detail;
      if (!s.repair_error.empty()) f.detail += " (NOT repaired: " + s.repair_error + ")";
      f.repaired = s.repaired;
      if (s.repaired) {
        ++report.repaired;
        if (s.kind == repo::SegmentProblem::kMissing || s.kind == repo::SegmentProblem::kDamaged) {
          ++counts.repaired;
        }
        f.repaired_from = s.repaired_from.starts_with("site ") ? s.repaired_from.substr(5)
                                                               : std::string("catalog");
      }
      report.findings.push_back(std::move(f));
    }
  }
  return Status::OK();
}

}  // namespace cairn::audit
