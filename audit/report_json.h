// An AuditReport as JSON and as the short text summary `cairn audit run`
// prints: the same figures in both.
#ifndef CAIRN_AUDIT_REPORT_JSON_H_
#define CAIRN_AUDIT_REPORT_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "audit/audit.h"

namespace cairn::audit {

// {"run_id", "started", "finished" (ISO 8601 UTC), "planned", "checked", "ok",
//  "corrupt", "missing", "unavailable", "unreadable", "repaired", "damaged", "bytes",
//  "orphans", "no_copy", "catalog_mismatch", "uncataloged", "left_of_purge",
//  "unrecorded_copies", "stray_files", "records_missing",
//  "select_micros" (time spent picking the copies), "stopped", "problems",
//  "unavailable_sites", "busy_sites", "findings": [{"kind", "partner", "object", "version", "path",
//  "site", "sha256", "detail", "repaired", "repaired_from"}]}
nlohmann::json AuditReportJson(const AuditReport& report);

// One finding: {"kind", "partner", "object", "version", "path", "site",
// "sha256", "detail", "repaired", "repaired_from"}.
nlohmann::json FindingJson(const Finding& finding);

// Several lines: the counts, then each finding (at most `max_findings`
// unavailable ones; every corrupt, missing, damaged, orphan one), then what
// the exit code means.
std::string AuditReportText(const AuditReport& report, size_t max_unavailable = 10);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_REPORT_JSON_H_
