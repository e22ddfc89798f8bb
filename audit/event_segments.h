// The sites' copies of the event log in a sweep (issue 14, item 10): every
// site in scope has its event segments checked against the catalog's chain
// (repo/events/site_log_check.h), missing and damaged ones rewritten when the
// sweep repairs.
#ifndef CAIRN_AUDIT_EVENT_SEGMENTS_H_
#define CAIRN_AUDIT_EVENT_SEGMENTS_H_

#include "audit/audit.h"
#include "bagit/status.h"
#include "repo/site/repository.h"

namespace cairn::audit {

// Adds one finding per segment problem (path = the segment's key; missing ->
// kMissing, damaged -> kCorrupt, different or ahead of the catalog ->
// kCatalogMismatch, with repaired / repaired_from "catalog" or the site) and
// counts them in report.missing / corrupt / catalog_mismatch / repaired. A
// site that cannot be read goes to report.unavailable_sites. An error Status
// only when the catalog cannot be read.
Status CheckEventSegments(repo::Repository& repo, const AuditOptions& options, AuditReport& report);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_EVENT_SEGMENTS_H_
