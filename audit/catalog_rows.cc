// CheckCatalogRows (audit/catalog_rows.h): files rows against version.pb.
#include "audit/catalog_rows.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "bagit/digest.h"
#include "proto/version.pb.h"
#include "repo/site/site.h"

namespace cairn::audit {
namespace {

using VersionRow = repo::VersionRecordRow;

struct FileRow {
  uint64_t size = 0;
  std::string sha256;
};

// The version.pb of `v` from the first site whose copy has the catalog's digest.
Result<std::optional<std::pair<std::string, proto::VersionRecord>>> ReadRecord(
    repo::Repository& repo, repo::Catalog::Reader& reader, const VersionRow& v,
    const AuditScope& scope) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> sites, reader.TagFileSites(v.record_tag_id));
  for (const std::string& site_name : sites) {
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
                 const std::string& site, std::string detail, AuditReport& report,
                 std::string_view table = "files") {
  ++report.catalog_mismatch;
  Finding f;
  f.kind = FindingKind::kCatalogMismatch;
  f.partner = v.partner;
  f.object = v.object;
  f.version = v.version;
  f.path = path;
  f.site = site;
  f.sha256 = sha256;
  f.detail = "catalog row " + std::string(table) + "(version_id=" + std::to_string(v.version_id) +
             ", path=" + path + "): " + std::move(detail) + " (version.pb on site " + site + ")";
  report.findings.push_back(std::move(f));
}

// The version's empty folders (version_empty_folders) against those version.pb lists: a restore
// makes the record's and refuses a catalog that disagrees (restore.catalog-disagrees).
Status CheckEmptyFolders(repo::Catalog::Reader& reader, const VersionRow& v,
                         const std::string& site, const proto::VersionRecord& record,
                         AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> rows, reader.VersionEmptyFolders(v.version_id));
  std::set<std::string> in_record(record.empty_folders().begin(), record.empty_folders().end());
  for (const std::string& path : in_record) {
    if (!std::binary_search(rows.begin(), rows.end(), path)) {
      AddMismatch(v, path, "", site, "an empty folder of the version, missing from the catalog",
                  report, "version_empty_folders");
    }
  }
  for (const std::string& path : rows) {
    if (!in_record.contains(path)) {
      AddMismatch(v, path, "", site, "an empty folder the version does not hold", report,
                  "version_empty_folders");
    }
  }
  return Status::OK();
}

Status CheckVersion(repo::Repository& repo, repo::Catalog::Reader& reader, const VersionRow& v,
                    const AuditScope& scope, AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(auto found, ReadRecord(repo, reader, v, scope));
  if (!found) return Status::OK();
  const auto& [site, record] = *found;
  std::map<std::string, FileRow> rows;
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::FileEntry> files, reader.VersionFiles(v.version_id));
  for (repo::FileEntry& file : files) {
    rows[std::move(file.path)] = FileRow{file.size, std::move(file.sha256)};
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
  return CheckEmptyFolders(reader, v, site, record, report);
}

}  // namespace

Status CheckCatalogRows(repo::Repository& repo, repo::Catalog::Reader& reader,
                        const AuditScope& scope, AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<VersionRow> versions,
                         reader.VersionRecordRows(scope.partner, scope.object));
  for (const VersionRow& v : versions) {
    CAIRN_RETURN_IF_ERROR(CheckVersion(repo, reader, v, scope, report));
  }
  return Status::OK();
}

}  // namespace cairn::audit
