// FindOrphans: site listings against replica rows, and rows against copies.
#include "audit/orphans.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "repo/site/site.h"
#include "repo/site_layout.h"

namespace cairn::audit {
namespace {

Status OrphansOnSite(repo::Repository& repo, repo::Catalog::Reader& reader, const std::string& site,
                     AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::unordered_set<std::string> known, reader.BlobsListedOn(site));
  Result<repo::Site*> opened = repo.OpenSite(site);
  Status listed = opened.status();
  if (opened.ok()) {
    listed = (*opened)->List("blobs/", [&](const repo::ObjectInfo& info) {
      std::optional<std::string> digest = (*opened)->BlobDigestOf(info.key);
      if (!digest || known.count(*digest)) return Status::OK();
      const bool unreferenced = !repo.catalog().BlobExists(*digest);
      if (unreferenced) {
        // Reported once: the first sighting is kept as the gc candidate's
        // time (gc's grace period starts then); later sweeps only count it.
        Result<std::optional<int64_t>> since = repo.catalog().GcCandidateSince(site, *digest);
        if (since.ok() && since->has_value()) {
          ++report.orphans_known;
          return Status::OK();
        }
        CAIRN_RETURN_IF_ERROR(
            repo.catalog().AddGcCandidate(site, *digest, info.size, repo.clock().NowMicros()));
      }
      ++report.orphans;
      Finding f;
      f.kind = FindingKind::kOrphan;
      f.site = site;
      f.sha256 = *digest;
      f.detail = "blob on the site (" + std::to_string(info.size) +
                 " bytes) that the catalog does not list: " + info.key;
      if (unreferenced) {
        f.detail +=
            " (no version references it, e.g. left by a killed or refused deposit: reported "
            "once; `cairn gc` removes it once its grace period has passed, counted from now)";
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

// partner, object, version.
using VersionKey = std::tuple<std::string, std::string, uint32_t>;
using Holdings = std::map<VersionKey, const repo::VersionHoldings*>;

Finding RecordFinding(FindingKind kind, const VersionKey& v, const std::string& name,
                      const std::string& site, std::string detail) {
  Finding f;
  f.kind = kind;
  f.partner = std::get<0>(v);
  f.object = std::get<1>(v);
  f.version = std::get<2>(v);
  f.path = name;
  f.site = site;
  f.detail = std::move(detail);
  return f;
}

// Lists the version folders of `site` under bags/ (keys only, nothing read)
// against `known`: every tag file or version.pb of a version the catalog does
// not have, or that it does not list for a version it has, is uncataloged;
// every version.pb the catalog counts as ok on this site and that is not
// listed is missing.
Status RecordsOnSite(repo::Repository& repo, const std::string& site, const Holdings& known,
                     const AuditScope& scope, AuditReport& report) {
  Result<repo::Site*> opened = repo.OpenSite(site);
  Status listed = opened.status();
  struct Listed {
    std::vector<std::pair<std::string, uint64_t>> files;  // unknown names and sizes
    bool has_record = false;
  };
  std::map<VersionKey, Listed> unknown;
  std::set<VersionKey> records;  // known versions whose version.pb is listed
  if (opened.ok()) {
    std::string prefix = scope.object.empty()
                             ? std::string(repo::layout::kBagsPrefix)
                             : repo::layout::ObjectPrefix(scope.partner, scope.object);
    listed = (*opened)->List(prefix, [&](const repo::ObjectInfo& info) {
      std::optional<repo::layout::TagFileRef> ref = repo::layout::ParseTagFileKey(info.key);
      if (!ref || (!scope.partner.empty() && ref->partner != scope.partner)) return Status::OK();
      VersionKey key{ref->partner, ref->object, ref->version};
      auto it = known.find(key);
      if (it != known.end()) {
        if (ref->is_version_record()) records.insert(key);
        const std::vector<std::string>& names = it->second->tag_files;
        if (std::binary_search(names.begin(), names.end(), ref->name)) return Status::OK();
      }
      Listed& l = unknown[key];
      l.files.emplace_back(ref->name, info.size);
      if (ref->is_version_record()) l.has_record = true;
      return Status::OK();
    });
  }
  if (!listed.ok()) {
    report.unavailable_sites.push_back(site + ": version records not listed: " + listed.ToString());
    return Status::OK();
  }
  for (const auto& [key, l] : unknown) {
    const bool version_known = known.count(key) > 0;
    const std::string where =
        repo::layout::VersionPrefix(std::get<0>(key), std::get<1>(key), std::get<2>(key));
    for (const auto& [name, size] : l.files) {
      std::string detail =
          where + name + " (" + std::to_string(size) + " bytes) is on site " + site + ", but ";
      if (version_known) {
        detail += "the catalog lists no such tag file for this version";
      } else if (l.has_record) {
        detail +=
            "the catalog has no such version (its rows were lost or deleted): bring it "
            "back with `cairn catalog rebuild --from " +
            site + "`";
      } else {
        detail +=
            "the catalog has no such version and the site no version.pb for it: the "
            "leftovers of an interrupted deposit (or one still running)";
      }
      ++report.uncataloged;
      report.findings.push_back(
          RecordFinding(FindingKind::kUncataloged, key, name, site, std::move(detail)));
    }
  }
  for (const auto& [key, holdings] : known) {
    if (records.count(key) || !std::binary_search(holdings->record_ok_sites.begin(),
                                                  holdings->record_ok_sites.end(), site)) {
      continue;
    }
    ++report.records_missing;
    report.findings.push_back(RecordFinding(
        FindingKind::kMissing, key, std::string(repo::layout::kVersionRecordName), site,
        "the catalog counts this version's record on site " + site +
            " as good, but the site's listing has no " +
            repo::layout::VersionRecordKey(std::get<0>(key), std::get<1>(key), std::get<2>(key)) +
            ": `cairn audit run --all --site " + site + " --object " + std::get<0>(key) + "/" +
            std::get<1>(key) + "` checks and repairs it"));
  }
  return Status::OK();
}

}  // namespace

Status FindOrphans(repo::Repository& repo, repo::Catalog::Reader& reader, const AuditScope& scope,
                   AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::SiteRecord> sites, repo.catalog().ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::VersionHoldings> versions,
                         repo.catalog().ListVersionHoldings(scope.partner, scope.object));
  Holdings known;
  for (const repo::VersionHoldings& v : versions) {
    known.emplace(VersionKey{v.partner, v.object, v.version}, &v);
  }
  for (const repo::SiteRecord& site : sites) {
    if (!scope.site.empty() && site.name != scope.site) continue;
    CAIRN_RETURN_IF_ERROR(OrphansOnSite(repo, reader, site.name, report));
    CAIRN_RETURN_IF_ERROR(RecordsOnSite(repo, site.name, known, scope, report));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<repo::UncopiedItem> uncopied,
                         reader.UncopiedItems(scope.partner, scope.object));
  for (repo::UncopiedItem& item : uncopied) {
    ++report.no_copy;
    Finding f;
    f.kind = FindingKind::kNoCopy;
    f.partner = std::move(item.partner);
    f.object = std::move(item.object);
    f.version = item.version;
    f.path = std::move(item.path);
    f.sha256 = std::move(item.sha256);
    f.detail = "no ok copy on any site";
    report.findings.push_back(std::move(f));
  }
  return Status::OK();
}

}  // namespace cairn::audit
