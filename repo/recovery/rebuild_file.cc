// RebuildCatalogFile: the catalog rebuild as one step on files: a temp catalog
// filled from the site, then moved into place (the old one kept aside).
#include <boost/filesystem.hpp>
#include <boost/system/error_code.hpp>

#include "repo/catalog/catalog.h"
#include "repo/events/segments.h"
#include "repo/recovery/rebuild.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/storage/backend.h"
#include "repo/storage/retry_backend.h"

namespace cairn::repo {
namespace fs = boost::filesystem;
namespace {

// The SQLite companions of a database file that move with it.
constexpr const char* kSuffixes[] = {"", "-wal", "-shm"};

void RemoveDatabase(const std::string& path) {
  boost::system::error_code ec;
  for (const char* suffix : kSuffixes) fs::remove(path + suffix, ec);
}

Status MoveDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : kSuffixes) {
    boost::system::error_code ec;
    if (!fs::exists(from + suffix, ec)) continue;
    fs::rename(from + suffix, to + suffix, ec);
    if (ec)
      return Status::IOError("rename " + from + suffix + " to " + to + suffix + ": " +
                             ec.message());
  }
  return Status::OK();
}

// The new catalog is the repository's: its recovery event goes to the sites'
// segments now. The other sites the settings brought back may be the lost
// ones: not reaching them is the next step's business (site resync), not a
// problem of the rebuild (a note); the site rebuilt from must take the event.
void FlushRebuiltEvents(const std::string& root, RebuildReport* report) {
  Result<std::unique_ptr<Repository>> repo = Repository::Open(root);
  Result<FlushSummary> flushed =
      repo.ok() ? FlushEventSegments(**repo) : Result<FlushSummary>(repo.status());
  if (!flushed.ok()) {
    report->problems.push_back("event segments not written: " + flushed.status().message());
    return;
  }
  for (const SiteFlush& site : flushed->sites) {
    if (site.error.empty()) continue;
    (site.site == report->site ? report->problems : report->notes)
        .push_back("event segments, site " + site.site + ": " + site.error);
  }
}

}  // namespace

Result<RebuildReport> RebuildCatalogFile(const std::string& site_url,
                                         const std::string& catalog_path, bool replace,
                                         const RebuildOptions& options, Clock* clock) {
  boost::system::error_code ec;
  const bool exists = fs::exists(catalog_path, ec);
  if (exists && !replace) {
    return Status::AlreadyExists(catalog_path +
                                 " exists: a rebuild never overwrites a catalog unless asked "
                                 "(--force keeps the old one aside)");
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<StorageBackend> backend, OpenSiteBackend(site_url));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Site> site, Site::Open(std::move(backend)));

  fs::path parent = fs::path(catalog_path).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return Status::IOError("create " + parent.string() + ": " + ec.message());
  }
  const std::string temp = catalog_path + ".rebuild";
  RemoveDatabase(temp);
  RebuildReport report;
  {
    CatalogOptions catalog_options;
    catalog_options.clock = clock;
    catalog_options.create_if_missing = true;
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Catalog> catalog, Catalog::Open(temp, catalog_options));
    RebuildOptions with_url = options;
    if (with_url.site_url.empty()) with_url.site_url = site_url;
    Result<RebuildReport> built = RebuildCatalogFromSite(*site, *catalog, with_url);
    if (!built.ok()) {
      catalog.reset();
      RemoveDatabase(temp);
      return built.status();
    }
    report = std::move(built).value();
  }
  if (exists) {
    const std::string aside = catalog_path + ".replaced-" +
                              std::to_string((clock ? clock : SystemClock::Default())->NowMicros());
    CAIRN_RETURN_IF_ERROR(MoveDatabase(catalog_path, aside));
    report.previous_catalog = aside;
  }
  CAIRN_RETURN_IF_ERROR(MoveDatabase(temp, catalog_path));
  if (options.flush_events) {
    site.reset();
    FlushRebuiltEvents(fs::path(catalog_path).parent_path().string(), &report);
  }
  return report;
}

}  // namespace cairn::repo
