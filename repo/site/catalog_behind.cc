#include "repo/site/catalog_behind.h"

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "proto/version.pb.h"
#include "repo/site/tombstone.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {
namespace {

// "site a", "sites a and b", "sites a, b and c".
std::string SiteNames(const std::vector<std::string>& names) {
  std::string out = names.size() == 1 ? "site " : "sites ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// The latest complete version (`version`, or any when 0) of P/O that a reachable site holds
// and the catalog lacks, with the sites holding it; version 0 when there is none.
struct Unlisted {
  uint32_t version = 0;
  std::vector<std::string> holders;
};

Unlisted LatestUnlisted(Repository& repo, const std::string& partner, const std::string& object,
                        uint32_t version) {
  std::set<uint32_t> known;
  if (Result<std::vector<VersionInfo>> versions = repo.catalog().ListVersions(partner, object);
      versions.ok()) {
    for (const VersionInfo& v : *versions) known.insert(v.version);
  }
  Result<std::vector<SiteRecord>> sites = repo.catalog().ListSites();
  if (!sites.ok()) return {};
  std::map<uint32_t, std::vector<std::string>> unknown;  // version -> sites holding it
  for (const SiteRecord& record : *sites) {
    Result<Site*> site = repo.OpenSite(record.name);
    if (!site.ok()) continue;
    Result<std::vector<Site::VersionFolder>> folders = (*site)->ListVersionFolders(partner, object);
    if (!folders.ok()) continue;
    for (const Site::VersionFolder& f : *folders) {
      if (!f.complete || known.count(f.version)) continue;
      if (version != 0 && f.version != version) continue;
      unknown[f.version].push_back(record.name);
    }
  }
  if (unknown.empty()) return {};
  return {unknown.rbegin()->first, unknown.rbegin()->second};
}

// "sites a and b hold P/O vN: the catalog is older than the sites (...)" for `u`.
std::string UnlistedText(const Unlisted& u, const std::string& partner, const std::string& object) {
  const uint32_t v = u.version;
  const std::vector<std::string>& holders = u.holders;
  return SiteNames(holders) + " hold" + (holders.size() == 1 ? "s " : " ") + partner + "/" +
         object + " v" + std::to_string(v) +
         ": the catalog is older than the sites (put back from a backup, or rebuilt from a site "
         "that lagged); `cairn catalog rebuild --from " +
         holders.front() +
         " --force` brings it up to date from a site that holds it (the catalog it replaces is "
         "kept beside it)";
}

// UnlistedText of LatestUnlisted, or "" when there is none.
std::string CatalogBehindText(Repository& repo, const std::string& partner,
                              const std::string& object, uint32_t version) {
  Unlisted u = LatestUnlisted(repo, partner, object, version);
  return u.version == 0 ? "" : UnlistedText(u, partner, object);
}

}  // namespace

Status WithCatalogBehindHint(Repository& repo, Status s, const std::string& partner,
                             const std::string& object, uint32_t version) {
  // Not twice: a refusal of RefuseIfNewerOnSites says it already.
  if (!s.IsNotFound() ||
      s.message().find("the catalog is older than the sites") != std::string::npos)
    return s;
  std::string behind = CatalogBehindText(repo, partner, object, version);
  return behind.empty() ? s : Status::NotFound(s.message() + "; but " + behind);
}

Status RefuseIfCatalogBehind(Repository& repo, const std::string& partner,
                             const std::string& object, const std::string& what) {
  std::string behind = CatalogBehindText(repo, partner, object, 0);
  if (behind.empty()) return Status::OK();
  return Status::AlreadyExists(what + " refused, nothing stored: " + behind);
}

Status RefuseIfNewerOnSites(Repository& repo, const std::string& partner, const std::string& object,
                            uint32_t catalog_latest, const std::string& what) {
  Unlisted u = LatestUnlisted(repo, partner, object, 0);
  if (u.version <= catalog_latest) return Status::OK();
  return Status::NotFound(what + " refused, nothing written: the catalog's latest is v" +
                          std::to_string(catalog_latest) + ", but " +
                          UnlistedText(u, partner, object) + "; or ask for " + partner + "/" +
                          object + "@v" + std::to_string(catalog_latest) + " by its number");
}

Result<std::vector<UnknownVersion>> VersionsTheCatalogLacks(Catalog& catalog, Site& site) {
  std::vector<layout::TagFileRef> records;
  CAIRN_RETURN_IF_ERROR(site.List(layout::kBagsPrefix, [&](const ObjectInfo& info) -> Status {
    std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
    if (!ref || !ref->is_version_record()) return Status::OK();
    Result<VersionInfo> known = catalog.GetVersion(ref->partner, ref->object, ref->version, false);
    if (known.ok()) return Status::OK();
    if (!known.status().IsNotFound()) return known.status();
    records.push_back(*ref);
    return Status::OK();
  }));
  std::vector<UnknownVersion> unknown;
  for (const layout::TagFileRef& ref : records) {
    UnknownVersion& v = unknown.emplace_back();
    v.partner = ref.partner;
    v.object = ref.object;
    v.version = ref.version;
    v.record_key = layout::VersionRecordKey(ref.partner, ref.object, ref.version);
    CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> w,
                           catalog.WithdrawalOf(ref.partner, ref.object, ref.version));
    if (w && w->purge && w->state != WithdrawalState::kWithdrawn) v.purged_by = w->id;
    CAIRN_ASSIGN_OR_RETURN(std::string bytes,
                           site.ReadVersionRecord(ref.partner, ref.object, ref.version));
    v.record_sha256 = Sha256Hex(bytes);
    proto::VersionRecord record;
    if (!record.ParseFromString(bytes)) {
      return Status::Corruption(v.record_key + " cannot be parsed: its blobs cannot be told apart");
    }
    for (const proto::VersionFile& f : record.files()) {
      v.files.push_back({f.path(), f.sha256(), f.size()});
    }
  }
  return unknown;
}

Result<VersionInfo> VersionToRead(Repository& repo, const std::string& partner,
                                  const std::string& object, uint32_t version,
                                  const std::string& what, std::vector<VersionInfo>* versions) {
  Catalog& catalog = repo.catalog();
  Result<std::vector<VersionInfo>> listed = catalog.ListVersions(partner, object);
  if (!listed.ok()) return WithCatalogBehindHint(repo, listed.status(), partner, object, version);
  *versions = std::move(*listed);
  Result<VersionInfo> chosen = catalog.GetVersion(
      partner, object, version ? std::optional(version) : std::nullopt, /*with_files=*/false);
  if (versions->empty() || !chosen.ok()) {
    // A purged version is gone from the catalog: say why (issue 18).
    CAIRN_RETURN_IF_ERROR(catalog.RefuseIfWithdrawn(partner, object, version).WithContext(what));
    Status missing = versions->empty() ? Status::NotFound(partner + "/" + object + " not found")
                                       : chosen.status();
    return WithCatalogBehindHint(repo, missing, partner, object, version);
  }
  if (version == 0) {
    // "Latest" from a catalog put back from a backup would be an older version, said as the
    // latest: refused as restore refuses it, naming the sites and the rebuild.
    CAIRN_RETURN_IF_ERROR(
        RefuseIfNewerOnSites(repo, partner, object, chosen->version,
                             what + " of the latest version of " + partner + "/" + object));
  }
  CAIRN_RETURN_IF_ERROR(
      catalog.RefuseIfWithdrawn(partner, object, chosen->version).WithContext(what));
  // A withdrawal the catalog does not know (put back from an older backup): the sites' tombstone.
  CAIRN_RETURN_IF_ERROR(
      RefuseIfTombstoned(repo, partner, object, chosen->version, what + " refused")
          .WithContext(what));
  return chosen;
}

}  // namespace cairn::repo
