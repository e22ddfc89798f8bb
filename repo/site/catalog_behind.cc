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

// "sites a and b hold P/O vN: the catalog is older than the sites (...)", or "" when no
// reachable site holds a complete version (`version`, or any when 0) the catalog lacks.
std::string CatalogBehindText(Repository& repo, const std::string& partner,
                              const std::string& object, uint32_t version) {
  std::set<uint32_t> known;
  if (Result<std::vector<VersionInfo>> versions = repo.catalog().ListVersions(partner, object);
      versions.ok()) {
    for (const VersionInfo& v : *versions) known.insert(v.version);
  }
  Result<std::vector<SiteRecord>> sites = repo.catalog().ListSites();
  if (!sites.ok()) return "";
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
  if (unknown.empty()) return "";
  const auto& [v, holders] = *unknown.rbegin();
  return SiteNames(holders) + " hold" + (holders.size() == 1 ? "s " : " ") + partner + "/" +
         object + " v" + std::to_string(v) +
         ": the catalog is older than the sites (put back from a backup, or rebuilt from a site "
         "that lagged). Bring it up to date from a site that holds it: cairn catalog rebuild "
         "--from " +
         holders.front() + " --force (the catalog it replaces is kept beside it)";
}

}  // namespace

Status WithCatalogBehindHint(Repository& repo, Status s, const std::string& partner,
                             const std::string& object, uint32_t version) {
  if (!s.IsNotFound()) return s;
  std::string behind = CatalogBehindText(repo, partner, object, version);
  return behind.empty() ? s : Status::NotFound(s.message() + "; but " + behind);
}

Status RefuseIfCatalogBehind(Repository& repo, const std::string& partner,
                             const std::string& object, const std::string& what) {
  std::string behind = CatalogBehindText(repo, partner, object, 0);
  if (behind.empty()) return Status::OK();
  return Status::AlreadyExists(what + " refused, nothing stored: " + behind);
}

}  // namespace cairn::repo
