// The catalog's file rows against the sites' own record of each version: a
// digest, size or path edited (or a row added or removed) in SQLite by hand,
// by a bug or by an attacker surfaces as a finding instead of being trusted.
#ifndef CAIRN_AUDIT_CATALOG_ROWS_H_
#define CAIRN_AUDIT_CATALOG_ROWS_H_

#include "audit/audit.h"
#include "repo/catalog/catalog_audit.h"

namespace cairn::audit {

// For every version in `scope` (partner/object; sites as given), reads its
// version.pb from a site whose copy matches the catalog's digest of that tag
// file (a copy that does not is the sweep's "corrupt" finding, not this one),
// and compares the payload files it lists (path, size, SHA-256) with the
// version's rows in `files`, and its empty folders with the version's rows in
// `version_empty_folders`. Each difference is a kCatalogMismatch finding
// naming the row (table, version id, path) and both values; counted in
// report.catalog_mismatch. A version with no readable version.pb anywhere is
// left to the sweep's own findings. Errors only when the catalog cannot be read.
Status CheckCatalogRows(repo::Repository& repo, repo::Catalog::Reader& reader,
                        const AuditScope& scope, AuditReport& report);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_CATALOG_ROWS_H_
