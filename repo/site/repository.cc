// Repository: opening and making a repository folder, and its sites.
#include "repo/site/repository.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <fstream>

#include "policies/policy.h"
#include "repo/site_layout.h"
#include "repo/storage/retry_backend.h"

namespace cairn::repo {
namespace fs = boost::filesystem;
namespace {

std::string Absolute(const std::string& path) {
  boost::system::error_code ec;
  fs::path abs = fs::absolute(fs::path(path), ec);
  if (ec) return path;
  abs = abs.lexically_normal();
  std::string s = abs.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.size() > 1 && s.ends_with("/.")) s.resize(s.size() - 2);
  return s;
}

}  // namespace

std::string FileUrl(const std::string& path) { return "file://" + Absolute(path); }

Result<std::unique_ptr<Repository>> Repository::Init(const std::string& root_arg,
                                                     const RepositoryOptions& options) {
  std::string root = Absolute(root_arg);
  boost::system::error_code ec;
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) {
      return Status::AlreadyExists(root + ": exists and is not a folder");
    }
    if (!fs::is_empty(root, ec)) {
      return Status::AlreadyExists(root +
                                   ": exists and is not empty; cairn init needs a new "
                                   "or empty folder");
    }
  }
  // Only the repository folder itself is made here, never missing parents'
  // modes changed: private, or shared with options.group.
  fs::create_directories(fs::path(root).parent_path(), ec);
  if (ec) return Status::IOError("create " + root + ": " + ec.message());
  CAIRN_RETURN_IF_ERROR(MakeDirWithModes(root, kPrivateModes));
  if (!options.group.empty()) {
    Status shared = ShareWithGroup(root, options.group);
    if (!shared.ok()) {
      (void)rmdir(root.c_str());  // made just now, and empty
      return shared;
    }
  } else if (chmod(root.c_str(), kPrivateModes.dir) != 0) {
    return Status::FromErrno(errno, "chmod", root);
  }

  CatalogOptions catalog_options;
  catalog_options.clock = options.clock;
  catalog_options.create_if_missing = true;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Catalog> catalog,
                         Catalog::Open(repo_layout::CatalogPath(root), catalog_options));
  std::unique_ptr<Repository> repo(new Repository(root, std::move(catalog)));
  // The sites' parent folder is the repository's own: made here, since a
  // posix site makes only its last folder (never an unmounted share's parents).
  CAIRN_RETURN_IF_ERROR(repo->MakePrivateDir(repo_layout::SitesDir(root)));
  for (const char* name : {"a", "b"}) {
    const std::string site_root = repo_layout::SiteDir(root, name);
    CAIRN_RETURN_IF_ERROR(repo->AddSite(name, FileUrl(site_root), "").status());
  }
  PolicyRecord policy;
  policy.scope = std::string(kDefaultPolicyScope);
  policy.text = policies::BuiltinDefaultPolicyText();
  policy.source = "cairn init";
  policy.base_dir = root;
  CAIRN_RETURN_IF_ERROR(repo->catalog().SetPolicy(policy));
  return repo;
}

Result<std::unique_ptr<Repository>> Repository::Open(const std::string& root_arg,
                                                     const RepositoryOptions& options) {
  std::string root = Absolute(root_arg);
  boost::system::error_code ec;
  if (!fs::exists(repo_layout::CatalogPath(root), ec)) {
    // Catalogs an earlier `catalog rebuild --force` set aside are named: staff looking for the
    // lost one see them, and what they are. The latest one, CATALOG.replaced-<micros> itself,
    // never the -wal, -shm or -journal SQLite keeps beside it.
    std::string aside;
    const std::string prefix = std::string(kCatalogFileName) + ".replaced-";
    auto later = [](const std::string& a, const std::string& b) {  // as numbers: a > b
      return a.size() != b.size() ? a.size() > b.size() : a > b;
    };
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (!name.starts_with(prefix) || name.size() == prefix.size() ||
          name.find_first_not_of("0123456789", prefix.size()) != std::string::npos) {
        continue;
      }
      if (aside.empty() || later(name, aside)) aside = name;
    }
    // A site's folder (staff pointing at what is left after losing the catalog): it is said
    // so, with the rebuild from it, not that `cairn init` would make a repository there.
    if (std::ifstream in(root + "/" + std::string(layout::kSiteMarkerKey)); in) {
      std::string marker_text(4096, '\0');
      in.read(marker_text.data(), static_cast<std::streamsize>(marker_text.size()));
      marker_text.resize(static_cast<size_t>(in.gcount()));
      if (Result<layout::SiteMarker> marker = layout::ParseSiteMarker(marker_text, root);
          marker.ok()) {
        return Status::NotFound(
            root + " is site '" + marker->site_id + "' of a repository (it holds " +
            std::string(layout::kSiteMarkerKey) +
            "), not a repository: --repo names the folder "
            "that holds the repository's " +
            std::string(kCatalogFileName) +
            "; if that catalog was lost, cairn --repo NEW-FOLDER catalog rebuild --from file://" +
            root + " rebuilds one from this site");
      }
    }
    return Status::NotFound(
        "no repository at " + root + " (no " + std::string(kCatalogFileName) + "): cairn init " +
        root + " makes a new one; if its catalog was lost, cairn --repo " + root +
        " catalog rebuild --from file:///PATH/TO/A/SITE (or s3://...) rebuilds it from "
        "any one site" +
        (aside.empty() ? std::string()
                       : " (" + root + "/" + aside +
                             " is a catalog an earlier `catalog rebuild --force` set aside: "
                             "older than the one that replaced it)"));
  }
  CatalogOptions catalog_options;
  catalog_options.clock = options.clock;
  catalog_options.create_if_missing = false;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Catalog> catalog,
                         Catalog::Open(repo_layout::CatalogPath(root), catalog_options));
  return std::unique_ptr<Repository>(new Repository(root, std::move(catalog)));
}

Result<Site*> Repository::OpenSite(const std::string& name) {
  std::lock_guard<std::mutex> lock(sites_mu_);
  if (auto it = sites_.find(name); it != sites_.end()) return it->second.get();
  CAIRN_ASSIGN_OR_RETURN(SiteRecord record, catalog_->GetSite(name));
  Result<std::unique_ptr<StorageBackend>> backend = OpenSiteBackend(record.url);
  if (!backend.ok()) return backend.status().WithContext("site " + name);
  Result<std::unique_ptr<Site>> site = Site::Open(std::move(backend).value());
  if (!site.ok()) return site.status().WithContext("site " + name);
  if ((*site)->id() != name) {
    return Status::InvalidArgument("site " + name + " (" + record.url +
                                   "): its CAIRN-SITE names site '" + (*site)->id() + "'");
  }
  const std::string& owner = (*site)->marker().repository_id;
  if (!owner.empty() && owner != record.adopted_from) {
    CAIRN_ASSIGN_OR_RETURN(std::string ours, catalog_->RepositoryId());
    if (owner != ours) {
      return Status::InvalidArgument(
          "site " + name + " (" + (*site)->DisplayUrl() +
          "): its CAIRN-SITE belongs to repository " + owner + ", not to this one (" + ours +
          "): refusing to use it (swapped, or shared with another repository?)");
    }
  }
  Site* raw = site->get();
  sites_[name] = std::move(site).value();
  return raw;
}

Result<std::vector<std::pair<std::string, Status>>> Repository::UnreachableSites(
    const std::vector<std::string>& only) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog_->ListSites());
  std::vector<std::pair<std::string, Status>> down;
  for (const SiteRecord& record : sites) {
    if (!only.empty() && std::find(only.begin(), only.end(), record.name) == only.end()) continue;
    Result<Site*> site = OpenSite(record.name);
    if (!site.ok()) down.emplace_back(record.name, WithMarkerNextStep(record.name, site.status()));
  }
  return down;
}

Result<SiteRecord> Repository::AddSite(const std::string& name, const std::string& url,
                                       const std::string& region, bool adopt) {
  CAIRN_RETURN_IF_ERROR(layout::ValidateSiteId(name));
  if (catalog_->GetSite(name).ok()) {
    return Status::AlreadyExists("site " + name + " is already in the catalog");
  }
  Result<std::unique_ptr<StorageBackend>> backend = OpenSiteBackend(url);
  if (!backend.ok()) return backend.status().WithContext("site " + name);
  std::string display = (*backend)->DisplayUrl();
  Site::Owner owner;
  CAIRN_ASSIGN_OR_RETURN(owner.repository_id, catalog_->RepositoryId());
  owner.adopt = adopt;
  Result<std::unique_ptr<Site>> site = Site::Init(std::move(backend).value(), name, "", owner);
  if (!site.ok()) return site.status().WithContext("site " + name + " (" + display + ")");
  const std::string& marked = (*site)->marker().repository_id;
  const std::string adopted_from = marked.empty() || marked == owner.repository_id ? "" : marked;
  // The catalog keeps the URL as given (it may carry options such as the S3
  // endpoint); credentials never travel in site URLs (they come from the
  // environment), and listings print DisplayUrl().
  CAIRN_ASSIGN_OR_RETURN(SiteRecord record, catalog_->AddSite(name, url, region));
  if (!adopted_from.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog_->SetSiteAdoptedFrom(name, adopted_from));
    record.adopted_from = adopted_from;
  }
  std::lock_guard<std::mutex> lock(sites_mu_);
  sites_[name] = std::move(site).value();
  return record;
}

Result<SiteRecord> Repository::MoveSite(const std::string& name, const std::string& url,
                                        bool empty) {
  CAIRN_ASSIGN_OR_RETURN(SiteRecord before, catalog_->GetSite(name));
  const std::string not_moved = "site " + name + " was not moved";
  if (url == before.url) {
    return Status::InvalidArgument("site " + name + " is already at " + url + ": " + not_moved);
  }
  Result<std::unique_ptr<StorageBackend>> backend = OpenSiteBackend(url);
  if (!backend.ok()) return backend.status().WithContext(not_moved);
  const std::string display = (*backend)->DisplayUrl();
  Site::Owner owner;
  CAIRN_ASSIGN_OR_RETURN(owner.repository_id, catalog_->RepositoryId());
  Result<std::unique_ptr<Site>> site = Status::Unavailable("not opened");
  if (empty) {
    site = Site::Init(std::move(backend).value(), name, "", owner);
  } else {
    site = Site::Open(std::move(backend).value());
    if (site.status().IsUnavailable()) {
      return Status::InvalidArgument(
          display + " holds no copy of site " + name + " (" + site.status().message() +
          "): a site whose files were moved keeps its CAIRN-SITE there (mount the share, or "
          "give the place its files were moved to); if site " +
          name + "'s files are lost and this is a new empty place, `cairn site move " + name + " " +
          display +
          " --empty` (with --create-bucket for a new bucket) points the site there and `cairn site "
          "resync " +
          name + "` copies back what it should hold; " + not_moved);
    }
  }
  if (!site.ok()) return site.status().WithContext(not_moved);
  const layout::SiteMarker& marker = (*site)->marker();
  if (marker.site_id != name) {
    return Status::AlreadyExists("site " + display + " is already Cairn site '" + marker.site_id +
                                 "', not '" + name + "': " + not_moved);
  }
  if (!marker.repository_id.empty() && marker.repository_id != owner.repository_id) {
    return Status::AlreadyExists("site " + display + " belongs to repository " +
                                 marker.repository_id + ", not this one: " + not_moved);
  }
  CAIRN_RETURN_IF_ERROR(catalog_->SetSiteUrl(name, url));
  std::lock_guard<std::mutex> lock(sites_mu_);
  sites_[name] = std::move(site).value();
  return before;
}

}  // namespace cairn::repo
