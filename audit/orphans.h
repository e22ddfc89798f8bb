// Orphans and copyless entries: blobs a site holds that the catalog does not
// list for it, tag files and version records a site holds that no catalog
// version lists, version records missing from a site that should hold them,
// and catalog blobs or tag files with no ok copy anywhere.
#ifndef CAIRN_AUDIT_ORPHANS_H_
#define CAIRN_AUDIT_ORPHANS_H_

#include "audit/audit.h"
#include "repo/catalog/catalog_audit.h"

namespace cairn::audit {

// Lists blobs/ on every site in `scope` (a site that cannot be read is noted
// in report.unavailable_sites) and adds an kOrphan finding per blob with no
// replica row for that site, unless a version record on the site that the
// catalog does not know names it (repo::VersionsTheCatalogLacks, as `cairn gc`
// reads them): then a kUncataloged finding naming that version, its record and
// `cairn catalog rebuild --from SITE`. Lists bags/ (keys only, nothing is read) and
// adds a kUncataloged finding per tag file or version.pb of a version in
// scope that the catalog does not have (or a tag file it does not list for
// that version), naming partner, object, version, site and how to bring it
// back; and a kMissing finding per version whose version.pb the catalog
// counts as ok on that site but the listing lacks. A file under blobs/sha256/ that is no blob
// key, one under bags/ that the layout allows nowhere, or one in the folder of a version the
// catalog has that is none of its files, is a kStrayFile finding (report.stray_files) naming
// it, its site and what the layout allows there: Cairn never removes it; so is, when the scope
// names no partner, a file or folder at the site's top level whose name the layout does not use
// (layout::IsLayoutTopLevelName; a folder is named, nothing below it). Then adds a kNoCopy
// finding per blob or tag file in scope (partner/object) with no ok replica.
// Counts go to report.orphans, uncataloged, records_missing and no_copy; the uncataloged
// files of a version the catalog records as purged go to report.left_of_purge instead.
// Errors only when the catalog cannot be read.
Status FindOrphans(repo::Repository& repo, repo::Catalog::Reader& reader, const AuditScope& scope,
                   AuditReport& report);

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_ORPHANS_H_
