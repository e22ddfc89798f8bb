// RebuildCatalogFile: the catalog rebuild as one step on files: a temp catalog
// filled from the site, then moved into place (the old one kept aside).
#include <boost/filesystem.hpp>
#include <boost/system/error_code.hpp>
#include <map>
#include <set>

#include "repo/catalog/catalog.h"
#include "repo/events/event_types.h"
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

// Whether an event of the replaced catalog is kept by a rebuild that does not find it on the
// site: what a read records (a restore's dissemination and the bad copies it met, an audit's
// checks, gc's deletions), which the sites' bytes cannot give back and which a catalog behind
// its sites still records (segments.h, FlushSummary::Behind). A change the rebuilt catalog
// does not hold (an ingestion, a replication, a withdrawal) is never carried: the sites' records
// are its truth.
bool CarriedOverByRebuild(const proto::Event& e) {
  return e.type() == kDissemination.label || e.type() == kFixityCheck.label ||
         e.type() == kDeletion.label;
}

// The replaced catalog at `old_path` may hold events its sites never took: recorded while it was
// behind them (put back from a backup), under numbers their logs hold for others. Those past
// the point where its log and the rebuilt one part, that the rebuilt log lacks (by id) and that
// CarriedOverByRebuild keeps, are appended to the rebuilt catalog with their ids and times (new
// numbers), so that the rebuild does not lose the restores made meanwhile; the others are named.
// A replaced catalog that cannot be read, or that shares no event with the rebuilt one, is
// named in a note, nothing carried.
Status CarryOverEvents(const std::string& old_path, Catalog& rebuilt, RebuildReport* report) {
  CatalogOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<Catalog>> old = Catalog::Open(old_path, options);
  if (!old.ok()) {
    report->notes.push_back("the events of the replaced catalog were not read (" +
                            old.status().message() + "): none carried over");
    return Status::OK();
  }
  // Where the two logs part: the first seq whose events differ (or that one of them lacks).
  constexpr uint64_t kBatch = 5000;
  uint64_t parted = 0;
  for (uint64_t after = 0; parted == 0; after += kBatch) {
    EventFilter filter;
    filter.after_seq = after;
    filter.limit = kBatch;
    CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> theirs, (*old)->ListEvents(filter));
    CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> ours, rebuilt.ListEvents(filter));
    if (theirs.empty()) return Status::OK();  // the old log is a prefix of the rebuilt one
    for (size_t i = 0; i < theirs.size() && parted == 0; ++i) {
      if (i >= ours.size() || ours[i].hash() != theirs[i].hash()) parted = theirs[i].seq();
    }
  }
  if (parted == 1) {
    report->notes.push_back(
        "the replaced catalog's event log shares no event with the sites': "
        "none of its events carried over");
    return Status::OK();
  }
  EventFilter after_parting;
  after_parting.after_seq = parted - 1;
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> theirs, (*old)->ListEvents(after_parting));
  CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> ours, rebuilt.ListEvents(after_parting));
  std::set<std::string> ids;
  for (const proto::Event& e : ours) ids.insert(e.id());
  std::vector<proto::Event> carried;
  std::map<std::string, uint64_t> left;  // by type
  for (proto::Event& e : theirs) {
    if (ids.contains(e.id())) continue;
    if (!CarriedOverByRebuild(e)) {
      ++left[e.type()];
      continue;
    }
    e.clear_seq();
    e.clear_prev_hash();
    e.clear_hash();
    carried.push_back(std::move(e));
  }
  if (!carried.empty()) {
    CAIRN_ASSIGN_OR_RETURN(uint64_t last, rebuilt.AppendEvents(carried));
    report->events_carried_over = carried.size();
    report->notes.push_back(
        std::to_string(carried.size()) +
        " events the replaced catalog recorded after its log and the sites' parted (at seq " +
        std::to_string(parted) +
        ": restores, checks and deletions made while it was behind them) carried over as events " +
        std::to_string(last - carried.size() + 1) + "-" + std::to_string(last) +
        ", with their ids and times");
  }
  if (!left.empty()) {
    std::string types;
    for (const auto& [type, n] : left) {
      types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + type;
    }
    report->notes.push_back(
        "events of the replaced catalog that no site holds were not carried over (" + types +
        "): they record changes the sites do not hold; they stay in " + old_path);
  }
  return Status::OK();
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
    Status carried = exists ? CarryOverEvents(catalog_path, *catalog, &report) : Status::OK();
    if (!carried.ok()) {
      catalog.reset();
      RemoveDatabase(temp);
      return carried.WithContext("catalog rebuild: the replaced catalog's events");
    }
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
