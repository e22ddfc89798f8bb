// Orphans and copyless entries: blobs a site holds that the catalog does not
// list for it, and catalog blobs or tag files with no ok copy anywhere.
#ifndef CAIRN_AUDIT_ORPHANS_H_
#define CAIRN_AUDIT_ORPHANS_H_

#include "audit/audit.h"
#include "repo/catalog/sqlite.h"

namespace cairn::audit {

// Lists blobs/ on every site in `scope` (a site that cannot be read is noted
// in report.unavailable_sites) and adds an kOrphan finding per blob with no
// replica row for that site; then adds a kNoCopy finding per blob or tag file
// in scope (partner/object) with no ok replica. Counts go to report.orphans
// and report.no_copy. Errors only when the catalog cannot be read.
Status FindOrphans(repo::Repository& repo, repo::sql::Db& db, const AuditScope& scope,
                   AuditReport& report);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_ORPHANS_H_
