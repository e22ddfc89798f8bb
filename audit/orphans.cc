// FindOrphans: site listings against replica rows, and rows against copies.
#include "audit/orphans.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "repo/events/interrupted_deposit.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/site.h"
#include "repo/site_layout.h"

namespace cairn::audit {
namespace {

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

// A file Cairn did not write at `key` on `site`, where `rule` says what the layout allows:
// a kStrayFile finding (`f` may name the version it is in), never removed by Cairn.
void AddStrayFile(AuditReport& report, const std::string& site, const std::string& key,
                  uint64_t size, std::string_view rule, Finding f = {}) {
  ++report.stray_files;
  report.stray_files_sites.insert(site);
  f.kind = FindingKind::kStrayFile;
  f.site = site;
  if (f.path.empty()) f.path = key;
  const std::string what =
      key.ends_with('/') ? "a folder Cairn did not make" : "a file Cairn did not write";
  f.detail = key +
             (key.ends_with('/') ? " (a folder): " : " (" + std::to_string(size) + " bytes): ") +
             what + ", " + std::string(rule) +
             "; Cairn never removes files it did not write: look at it, then move or remove it "
             "yourself";
  report.findings.push_back(std::move(f));
}

// A blob on the site that the catalog does not list for it.
struct UnlistedBlob {
  std::string sha256;
  std::string key;
  uint64_t size = 0;
};

// Blobs on `site` named by a version record there that the catalog does not know (a catalog
// put back from a backup, or rebuilt from a site that lagged): not orphans (`cairn gc` keeps
// them too, reading the same records). Each is reported as uncataloged, naming the version
// and the rebuild that brings it back (one of a purged version as left of a purge, counted in
// report.left_of_purge, naming `cairn withdraw run`), and taken out of `unlisted`. False, the site
// noted in report.unavailable_sites, when the records could not be read: then no blob can be called
// an orphan.
bool TakeBlobsOfUnknownVersions(repo::Repository& repo, repo::Site& site, const std::string& name,
                                std::vector<UnlistedBlob>& unlisted, AuditReport& report) {
  Result<std::vector<repo::UnknownVersion>> unknown =
      repo::VersionsTheCatalogLacks(repo.catalog(), site);
  if (!unknown.ok()) {
    report.unavailable_sites.push_back(name +
                                       ": orphans not listed: the version records the catalog "
                                       "does not know could not be read: " +
                                       unknown.status().ToString());
    return false;
  }
  std::map<std::string, std::pair<const repo::UnknownVersion*, const repo::UnknownVersion::File*>>
      held;  // by sha256: the first version and file naming it
  for (const repo::UnknownVersion& v : *unknown) {
    for (const repo::UnknownVersion::File& f : v.files) held.emplace(f.sha256, std::pair{&v, &f});
  }
  std::set<const repo::UnknownVersion*> interrupted;  // leftovers of interrupted deposits
  for (const repo::UnknownVersion& v : *unknown) {
    if (repo::IsInterruptedDeposit(repo, v)) interrupted.insert(&v);
  }
  std::erase_if(unlisted, [&](const UnlistedBlob& blob) {
    auto it = held.find(blob.sha256);
    if (it == held.end()) return false;
    const auto& [v, f] = it->second;
    if (interrupted.count(v)) {
      ++report.uncataloged;
      ++report.interrupted_deposit_files;
      Finding finding = RecordFinding(
          FindingKind::kUncataloged, VersionKey{v->partner, v->object, v->version}, f->path, name,
          "blob on the site (" + std::to_string(blob.size) + " bytes) that the catalog does not " +
              "list: " + blob.key + "; it is " + f->path + " of " + v->partner + "/" + v->object +
              " v" + std::to_string(v->version) + ", whose record (" + v->record_key +
              ") a deposit interrupted before its catalog commit left (the repository's pending "
              "mark locks/" +
              v->partner + "/" + v->object +
              ".pending names it): never committed, never a version: the leftovers of an "
              "interrupted deposit, which `cairn gc` removes");
      finding.sha256 = blob.sha256;
      report.findings.push_back(std::move(finding));
      return true;
    }
    if (v->purged_by != 0) {
      ++report.left_of_purge;
      report.left_of_purge_sites.insert(name);
    } else {
      ++report.uncataloged;
    }
    const std::string version_name =
        v->partner + "/" + v->object + " v" + std::to_string(v->version);
    const std::string detail =
        v->purged_by != 0
            ? "blob on the site (" + std::to_string(blob.size) + " bytes) that the catalog " +
                  "does not list: " + blob.key + "; it is " + f->path + " of " + version_name +
                  ", left of a purge (withdrawal " + std::to_string(v->purged_by) +
                  "; the site put back from a copy taken before it?): its content must not " +
                  "come back, so never rebuild a catalog from this site's copy of it; `cairn " +
                  "withdraw run` removes it"
            : "blob on the site (" + std::to_string(blob.size) +
                  " bytes) that the catalog does not " + "list: " + blob.key + "; it is " +
                  f->path + " of " + v->partner + "/" + v->object + " v" +
                  std::to_string(v->version) + ", a version whose record the site holds (" +
                  v->record_key +
                  ") and the catalog does not know (put back from a backup, or rebuilt from a site "
                  "that lagged): not an orphan, `cairn gc` keeps it. Bring the catalog up to date "
                  "with `cairn catalog rebuild --from " +
                  name + "`";
    Finding finding =
        RecordFinding(FindingKind::kUncataloged, VersionKey{v->partner, v->object, v->version},
                      f->path, name, detail);
    finding.sha256 = blob.sha256;
    report.findings.push_back(std::move(finding));
    return true;
  });
  return true;
}

Status OrphansOnSite(repo::Repository& repo, repo::Catalog::Reader& reader, const std::string& site,
                     AuditReport& report) {
  CAIRN_ASSIGN_OR_RETURN(std::unordered_set<std::string> known, reader.BlobsListedOn(site));
  Result<repo::Site*> opened = repo.OpenSite(site);
  Status listed = opened.status();
  std::vector<UnlistedBlob> unlisted;
  if (opened.ok()) {
    // The site's own key for the empty file's digest: what a blob key looks like there.
    const std::string rule =
        "where the layout allows only blobs, each named by the SHA-256 of its bytes (lower-case "
        "hex) in its fan-out folder, as " +
        (*opened)->BlobKey("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    listed = (*opened)->List("blobs/", [&](const repo::ObjectInfo& info) {
      std::optional<std::string> digest = (*opened)->BlobDigestOf(info.key);
      if (!digest) {
        AddStrayFile(report, site, info.key, info.size, rule);
      } else if (!known.count(*digest)) {
        unlisted.push_back({*digest, info.key, info.size});
      }
      return Status::OK();
    });
  }
  if (!listed.ok()) {
    report.unavailable_sites.push_back(site + ": orphans not listed: " + listed.ToString());
    return Status::OK();
  }
  if (unlisted.empty() || !TakeBlobsOfUnknownVersions(repo, **opened, site, unlisted, report)) {
    return Status::OK();
  }
  for (const UnlistedBlob& blob : unlisted) {
    if (repo.catalog().BlobExists(blob.sha256)) {
      // A file of a version the catalog holds, whose copy here it does not record (a catalog
      // rebuilt while this site was out of reach): no orphan, and gc keeps it.
      ++report.unrecorded_copies;
      report.unrecorded_copies_sites.insert(site);
      Finding f;
      f.kind = FindingKind::kUnrecordedCopy;
      f.site = site;
      f.sha256 = blob.sha256;
      f.detail = "blob on the site (" + std::to_string(blob.size) + " bytes): " + blob.key +
                 ", a file of a version the catalog holds, whose copy on site " + site +
                 " the catalog does not record yet (rebuilt while the site was out of reach?): "
                 "not an orphan, `cairn gc` keeps it; `cairn replicate --wait` verifies and "
                 "records the copies the policies want on site " +
                 site;
      report.findings.push_back(std::move(f));
      continue;
    }
    // Reported once: the first sighting is kept as the gc candidate's
    // time (gc's grace period starts then); later sweeps only count it.
    Result<std::optional<int64_t>> since = repo.catalog().GcCandidateSince(site, blob.sha256);
    if (since.ok() && since->has_value()) {
      ++report.orphans_known;
      continue;
    }
    CAIRN_RETURN_IF_ERROR(
        repo.catalog().AddGcCandidate(site, blob.sha256, blob.size, repo.clock().NowMicros()));
    ++report.orphans;
    Finding f;
    f.kind = FindingKind::kOrphan;
    f.site = site;
    f.sha256 = blob.sha256;
    f.detail = "blob on the site (" + std::to_string(blob.size) +
               " bytes) that the catalog does not list: " + blob.key +
               " (no version references it, e.g. left by a killed or refused deposit: reported "
               "once; `cairn gc` removes it once its grace period has passed, counted from now)";
    report.findings.push_back(std::move(f));
  }
  return Status::OK();
}

// What the layout allows at a site's root, for a stray file there.
constexpr std::string_view kTopLevelRule =
    "at the site's top level, where the layout (repo/FORMAT.md) allows only CAIRN-SITE, "
    "README.txt and the folders blobs/, bags/, events/, settings/, lost-and-found/ and tmp/";

// Lists the names at the root of `site` (nothing below them): each one the layout does not use
// (layout::IsLayoutTopLevelName) is a stray file, or a stray folder named with its '/'.
Status TopLevelOnSite(repo::Repository& repo, const std::string& site, AuditReport& report) {
  Result<repo::Site*> opened = repo.OpenSite(site);
  Status listed = opened.status();
  if (opened.ok()) {
    listed = (*opened)->ListTopLevel([&](const repo::ObjectInfo& info) {
      if (!repo::layout::IsLayoutTopLevelName(info.key)) {
        AddStrayFile(report, site, info.key, info.size, kTopLevelRule);
      }
      return Status::OK();
    });
  }
  if (!listed.ok()) {
    report.unavailable_sites.push_back(site + ": top level not listed: " + listed.ToString());
  }
  return Status::OK();
}

// What the layout allows under bags/, for a stray file there.
constexpr std::string_view kBagsRule =
    "where the layout allows under bags/ only bags/<partner>/<object>/v<N>/ folders, each holding "
    "a version's tag files (not data/), its version.pb and its tombstones";

// Lists the version folders of `site` under bags/ (keys only, nothing read)
// against `known`: every tag file or version.pb of a version the catalog does
// not have is uncataloged; a file the catalog does not list for a version it has,
// or one the layout allows nowhere under bags/, is a stray file; every version.pb
// the catalog counts as ok on this site and that is not listed is missing.
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
      if (!ref && !repo::layout::ParseTombstoneKey(info.key) &&
          (scope.partner.empty() ||
           info.key.starts_with(std::string(repo::layout::kBagsPrefix) + scope.partner + "/"))) {
        AddStrayFile(report, site, info.key, info.size, kBagsRule);
      }
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
      if (version_known) {
        AddStrayFile(report, site, where + name, size,
                     "in the folder of a version the catalog knows, where the layout allows only "
                     "that version's files (the tag files the catalog lists for it, version.pb, "
                     "its tombstones)",
                     RecordFinding(FindingKind::kStrayFile, key, name, site, ""));
        continue;
      }
      std::string detail =
          where + name + " (" + std::to_string(size) + " bytes) is on site " + site + ", but ";
      Result<std::optional<repo::WithdrawalRecord>> withdrawn =
          repo.catalog().WithdrawalOf(std::get<0>(key), std::get<1>(key), std::get<2>(key));
      const bool purged = withdrawn.ok() && *withdrawn && (*withdrawn)->purge &&
                          (*withdrawn)->state != repo::WithdrawalState::kWithdrawn;
      if (purged) {
        detail += "the version was purged (withdrawal " + std::to_string((*withdrawn)->id) +
                  "): a leftover of the purge (the site put back from a copy taken before "
                  "it?), whose content must not come back; `cairn withdraw run` removes it";
      } else if (l.has_record &&
                 repo::IsInterruptedDepositRecord(repo, **opened, std::get<0>(key),
                                                  std::get<1>(key), std::get<2>(key))) {
        detail +=
            "the catalog has no such version: a deposit interrupted before its catalog commit "
            "left it (the repository's pending mark locks/" +
            std::get<0>(key) + "/" + std::get<1>(key) +
            ".pending names this version.pb): never committed, never a version: the leftovers "
            "of an interrupted deposit, which `cairn gc` removes";
        ++report.interrupted_deposit_files;
      } else if (l.has_record) {
        detail +=
            "the catalog has no such version (its rows were lost or deleted): bring it "
            "back with `cairn catalog rebuild --from " +
            site + "`";
      } else {
        detail +=
            "the catalog has no such version and the site no version.pb for it: the "
            "leftovers of an interrupted deposit (or one still running), never a version: "
            "`cairn gc` removes them";
        ++report.interrupted_deposit_files;
      }
      if (purged) {
        ++report.left_of_purge;
        report.left_of_purge_sites.insert(site);
      } else {
        ++report.uncataloged;
      }
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
    if (scope.partner.empty()) CAIRN_RETURN_IF_ERROR(TopLevelOnSite(repo, site.name, report));
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
