// FindOrphans: site listings against replica rows, and rows against copies.
#include "audit/orphans.h"

#include <unordered_set>

#include "repo/site.h"
#include "repo/site_layout.h"

namespace cairn::audit {
namespace {

Status OrphansOnSite(repo::Repository& repo, repo::sql::Db& db, const std::string& site,
                     AuditReport& report) {
  std::unordered_set<std::string> known;
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("SELECT r.blob FROM replicas r JOIN sites s ON s.id = r.site_id "
                 "WHERE s.name = ?1 AND r.blob IS NOT NULL"));
  stmt.Bind(1, site);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    known.insert(stmt.Text(0));
  }
  Result<repo::Site*> opened = repo.OpenSite(site);
  Status listed = opened.status();
  if (opened.ok()) {
    listed = (*opened)->List("blobs/", [&](const repo::ObjectInfo& info) {
      std::optional<std::string> digest = repo::layout::ParseBlobKey(info.key);
      if (!digest || known.count(*digest)) return Status::OK();
      ++report.orphans;
      Finding f;
      f.kind = FindingKind::kOrphan;
      f.site = site;
      f.sha256 = *digest;
      f.detail = "blob on the site (" + std::to_string(info.size) +
                 " bytes) that the catalog does not list: " + info.key;
      if (!repo.catalog().BlobExists(*digest)) {
        f.detail +=
            " (no version references it: `cairn gc` removes such blobs after its grace "
            "period)";
      }
      report.findings.push_back(std::move(f));
      return Status::OK();
    });
  }
  if (!listed.ok()) {
    report.unavailable_sites.push_back(site + ": orphans not listed: " + listed.ToString());
  }
  return Status::OK();
}

constexpr std::string_view kNoCopyQuery = R"sql(
SELECT b.sha256, MIN(v.partner), MIN(v.object), MIN(v.version), MIN(f.path)
FROM blobs b JOIN files f ON f.sha256 = b.sha256 JOIN versions v ON v.id = f.version_id
WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2)
  AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.blob = b.sha256 AND r.state = 'ok')
GROUP BY b.sha256
UNION ALL
SELECT t.sha256, v.partner, v.object, v.version, t.name
FROM tag_files t JOIN versions v ON v.id = t.version_id
WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2)
  AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.tag_file_id = t.id AND r.state = 'ok'))sql";

}  // namespace

Status FindOrphans(repo::Repository& repo, repo::sql::Db& db, const AuditScope& scope,
                   AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::SiteRecord> sites, repo.catalog().ListSites());
  for (const repo::SiteRecord& site : sites) {
    if (!scope.site.empty() && site.name != scope.site) continue;
    CAIRN_RETURN_IF_ERROR(OrphansOnSite(repo, db, site.name, report));
  }
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt, db.Prepare(kNoCopyQuery));
  stmt.Bind(1, scope.partner).Bind(2, scope.object);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ++report.no_copy;
    Finding f;
    f.kind = FindingKind::kNoCopy;
    f.partner = stmt.Text(1);
    f.object = stmt.Text(2);
    f.version = static_cast<uint32_t>(stmt.Int(3));
    f.path = stmt.Text(4);
    f.sha256 = stmt.Text(0);
    f.detail = "no ok copy on any site";
    report.findings.push_back(std::move(f));
  }
  return Status::OK();
}

}  // namespace cairn::audit
