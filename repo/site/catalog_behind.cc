#include "repo/site/catalog_behind.h"

#include <map>
#include <set>
#include <vector>

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
         "that lagged). Bring it up to date from a site that holds it: cairn catalog rebuild "
         "--from " +
         holders.front() + " --force (the catalog it replaces is kept beside it)";
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

}  // namespace cairn::repo
