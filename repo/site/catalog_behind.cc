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

}  // namespace

Status WithCatalogBehindHint(Repository& repo, Status s, const std::string& partner,
                             const std::string& object, uint32_t version) {
  if (!s.IsNotFound()) return s;
  std::set<uint32_t> known;
  if (Result<std::vector<VersionInfo>> versions = repo.catalog().ListVersions(partner, object);
      versions.ok()) {
    for (const VersionInfo& v : *versions) known.insert(v.version);
  }
  Result<std::vector<SiteRecord>> sites = repo.catalog().ListSites();
  if (!sites.ok()) return s;
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
  if (unknown.empty()) return s;
  const auto& [v, holders] = *unknown.rbegin();
  return Status::NotFound(
      s.message() + "; but " + SiteNames(holders) + " hold" + (holders.size() == 1 ? "s " : " ") +
      partner + "/" + object + " v" + std::to_string(v) +
      ": the catalog is older than the sites (put back from a backup, or rebuilt from a site "
      "that lagged). Bring it up to date from a site that holds it: cairn catalog rebuild --from " +
      holders.front() + " --force (the catalog it replaces is kept beside it)");
}

}  // namespace cairn::repo
