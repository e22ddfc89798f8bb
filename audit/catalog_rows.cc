// CheckCatalogRows (audit/catalog_rows.h): files rows against version.pb.
#include "audit/catalog_rows.h"

#include <map>
#include <utility>

#include "bagit/digest.h"
#include "proto/version.pb.h"
#include "repo/site.h"

namespace cairn::audit {
namespace {

struct VersionRow {
  int64_t id = 0;
  std::string partner, object;
  uint32_t version = 0;
  int64_t record_tag_id = 0;
  std::string record_sha256;  // catalog's digest of version.pb
};

struct FileRow {
  uint64_t size = 0;
  std::string sha256;
};

// The version.pb of `v` from the first site whose copy has the catalog's digest.
Result<std::optional<std::pair<std::string, proto::VersionRecord>>> ReadRecord(
    repo::Repository& repo, repo::sql::Db& db, const VersionRow& v, const AuditScope& scope) {
  CAIRN_ASSIGN_OR_RETURN(
      repo::sql::Stmt stmt,
      db.Prepare("SELECT s.name FROM replicas r JOIN sites s ON s.id = r.site_id "
                 "WHERE r.tag_file_id = ?1 ORDER BY r.state = 'ok' DESC, s.name"));
  stmt.Bind(1, v.record_tag_id);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string site_name = stmt.Text(0);
    if (!scope.site.empty() && site_name != scope.site) continue;
    Result<repo::Site*> site = repo.OpenSite(site_name);
    if (!site.ok()) continue;
    Result<std::string> bytes = (*site)->ReadVersionRecord(v.partner, v.object, v.version);
    if (!bytes.ok()) continue;
    std::string sha =
        bagit::HashBytes(*bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
    proto::VersionRecord record;
    if (sha != v.record_sha256 || !record.ParseFromString(*bytes)) continue;
    return std::make_optional(std::make_pair(site_name, std::move(record)));
  }
  return std::optional<std::pair<std::string, proto::VersionRecord>>();
}

void AddMismatch(const VersionRow& v, const std::string& path, const std::string& sha256,
                 const std::string& site, std::string detail, AuditReport& report) {
  ++report.catalog_mismatch;
  Finding f;
  f.kind = FindingKind::kCatalogMismatch;
  f.partner = v.partner;
  f.object = v.object;
  f.version = v.version;
  f.path = path;
  f.site = site;
  f.sha256 = sha256;
  f.detail = "catalog row files(version_id=" + std::to_string(v.id) + ", path=" + path +
             "): " + std::move(detail) + " (version.pb on site " + site + ")";
  report.findings.push_back(std::move(f));
}

Status CheckVersion(repo::Repository& repo, repo::sql::Db& db, const VersionRow& v,
                    const AuditScope& scope, AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(auto found, ReadRecord(repo, db, v, scope));
  if (!found) return Status::OK();
  const auto& [site, record] = *found;
  std::map<std::string, FileRow> rows;
  CAIRN_ASSIGN_OR_RETURN(repo::sql::Stmt stmt,
                         db.Prepare("SELECT path, size, sha256 FROM files WHERE version_id = ?1"));
  stmt.Bind(1, v.id);
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    rows[stmt.Text(0)] = FileRow{static_cast<uint64_t>(stmt.Int(1)), stmt.Text(2)};
  }
  for (const proto::VersionFile& file : record.files()) {
    auto it = rows.find(file.path());
    if (it == rows.end()) {
      AddMismatch(v, file.path(), file.sha256(), site, "missing from the catalog", report);
      continue;
    }
    if (it->second.sha256 != file.sha256()) {
      AddMismatch(v, file.path(), it->second.sha256, site,
                  "sha256 " + it->second.sha256 + " but the version holds " + file.sha256(),
                  report);
    } else if (it->second.size != file.size()) {
      AddMismatch(v, file.path(), file.sha256(), site,
                  "size " + std::to_string(it->second.size) + " but the version holds " +
                      std::to_string(file.size()),
                  report);
    }
    rows.erase(it);
  }
  for (const auto& [path, row] : rows) {
    AddMismatch(v, path, row.sha256, site, "a file the version does not hold", report);
  }
  return Status::OK();
}

}  // namespace

Status CheckCatalogRows(repo::Repository& repo, repo::sql::Db& db, const AuditScope& scope,
                        AuditReport& report) {
  std::vector<VersionRow> versions;
  {
    CAIRN_ASSIGN_OR_RETURN(
        repo::sql::Stmt stmt,
        db.Prepare("SELECT v.id, v.partner, v.object, v.version, t.id, t.sha256 FROM versions v "
                   "JOIN tag_files t ON t.version_id = v.id AND t.name = 'version.pb' "
                   "WHERE (?1 = '' OR v.partner = ?1) AND (?2 = '' OR v.object = ?2) "
                   "ORDER BY v.id"));
    stmt.Bind(1, scope.partner).Bind(2, scope.object);
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      versions.push_back(VersionRow{stmt.Int(0), stmt.Text(1), stmt.Text(2),
                                    static_cast<uint32_t>(stmt.Int(3)), stmt.Int(4), stmt.Text(5)});
    }
  }
  for (const VersionRow& v : versions) {
    CAIRN_RETURN_IF_ERROR(CheckVersion(repo, db, v, scope, report));
  }
  return Status::OK();
}

}  // namespace cairn::audit
