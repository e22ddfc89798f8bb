// CollectGarbage: per site, the version records the catalog does not know,
// then every blob against the catalog's blobs, under the exclusive writers' lock.
#include "repo/deposit/gc.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "bagit/time_text.h"
#include "repo/events/event_types.h"
#include "repo/events/interrupted_deposit.h"
#include "repo/events/premis.h"
#include "repo/events/segments.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

std::string GcDurationText(int64_t micros) {
  int64_t s = micros / 1'000'000;
  if (s % 86400 == 0 && s > 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0 && s > 0) return std::to_string(s / 3600) + "h";
  return std::to_string(s) + "s";
}

// Blobs named by the version records on `site` that the catalog does not
// list, but for the records interrupted deposits left (IsInterruptedDeposit), which go to
// `*interrupted` instead. An unreadable or unparsable record makes the site uncollectable.
Status GcBlobsOfUnknownVersions(Repository& repo, Site& site, const std::string& name,
                                std::unordered_set<std::string>* keep,
                                std::vector<UnknownVersion>* interrupted, GcReport* report) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<UnknownVersion> unknown,
                         VersionsTheCatalogLacks(repo.catalog(), site));
  for (UnknownVersion& v : unknown) {
    if (IsInterruptedDeposit(repo, v)) {
      interrupted->push_back(std::move(v));
      continue;
    }
    for (const UnknownVersion::File& f : v.files) keep->insert(f.sha256);
    if (v.purged_by != 0) {
      // Not the catalog's lag: what the site still holds of a purged version. Removed by the
      // purge's own rules (tombstone first, shared blobs kept), not here.
      report->unknown_versions.push_back(
          "site " + name + ": " + v.record_key + " is left of a version purged by withdrawal " +
          std::to_string(v.purged_by) + " (the site put back from a copy taken before?): " +
          "`cairn withdraw run` removes it and its blobs; never rebuild a catalog from it");
      continue;
    }
    report->unknown_versions.push_back("site " + name + ": " + v.record_key + " (" +
                                       std::to_string(v.files.size()) +
                                       " files) is not in the catalog: its blobs are kept");
  }
  return Status::OK();
}

// The version folders on `site` that hold tag files but neither version.pb nor a tombstone, of a
// version the catalog neither lists nor records as withdrawn or ingested: what a deposit killed
// before its version.pb left. Never acknowledged, so not a version: removed (REQUIRES: the
// exclusive writers' lock, which every deposit holds shared while it writes them), each a
// deletion event. A folder of a version the catalog knows is a copy being made or damaged: the
// replication's and the auditor's, not gc's.
Status GcInterruptedDeposits(Catalog& catalog, Site& site, const GcOptions& options,
                             const std::string& name, GcReport* report,
                             std::vector<proto::Event>* events) {
  struct Folder {
    uint64_t tag_files = 0;
    bool record_or_tombstone = false;
  };
  std::map<std::tuple<std::string, std::string, uint32_t>, Folder> folders;
  CAIRN_RETURN_IF_ERROR(site.List(layout::kBagsPrefix, [&](const ObjectInfo& info) -> Status {
    if (std::optional<layout::TagFileRef> t = layout::ParseTombstoneKey(info.key)) {
      folders[{t->partner, t->object, t->version}].record_or_tombstone = true;
    } else if (std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key)) {
      Folder& f = folders[{ref->partner, ref->object, ref->version}];
      if (ref->is_version_record()) f.record_or_tombstone = true;
      ++f.tag_files;
    }
    return Status::OK();
  }));
  for (const auto& [key, folder] : folders) {
    const auto& [partner, object, version] = key;
    if (folder.record_or_tombstone) continue;
    Result<VersionInfo> known = catalog.GetVersion(partner, object, version, false);
    if (known.ok()) continue;
    if (!known.status().IsNotFound()) return known.status();
    CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> w,
                           catalog.WithdrawalOf(partner, object, version));
    if (w) continue;
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<proto::Event> ingested,
        catalog.ListEvents(
            {.partner = partner, .object = object, .type = std::string(kIngestion.label)}));
    const std::string where = layout::VersionPrefix(partner, object, version);
    if (std::any_of(ingested.begin(), ingested.end(),
                    [v = version](const proto::Event& e) { return e.version() == v; })) {
      report->unknown_versions.push_back(
          "site " + name + ": " + where +
          " has no version.pb, but the event log records its ingestion: kept (a version whose "
          "record was lost; `cairn catalog rebuild --from SITE` from a site that holds it whole)");
      continue;
    }
    const std::string text = "site " + name + ": " + where + " (" +
                             std::to_string(folder.tag_files) + " tag files, no version.pb)";
    if (!options.dry_run) {
      Status removed = site.RemoveUnacknowledgedVersion(partner, object, version, "");
      if (!removed.ok()) {
        report->errors.push_back(text + ": not removed: " + removed.ToString());
        continue;
      }
      events->push_back(NewEvent(
          kDeletion, {.agent = "cairn gc",
                      .agent_version = options.agent_version,
                      .user = options.user,
                      .partner = partner,
                      .object = object,
                      .version = version,
                      .site = name,
                      .outcome = "success",
                      .detail = "removed " + std::to_string(folder.tag_files) + " tag files of " +
                                where + " from site " + name +
                                ": left by an interrupted deposit (no version.pb, a version "
                                "the catalog does not list)"}));
    }
    report->interrupted_deposits.push_back(text);
  }
  return Status::OK();
}

// The blobs named by the version records the catalog does not list on every site but
// `name`, leftovers of interrupted deposits aside. False when a site could not be opened or
// read: then no blob of `name` can be known to be named nowhere else.
bool GcBlobsOfUnknownVersionsElsewhere(Repository& repo, const std::string& name,
                                       std::unordered_set<std::string>* out) {
  Result<std::vector<SiteRecord>> sites = repo.catalog().ListSites();
  if (!sites.ok()) return false;
  for (const SiteRecord& record : *sites) {
    if (record.name == name) continue;
    Result<Site*> other = repo.OpenSite(record.name);
    if (!other.ok()) return false;
    Result<std::vector<UnknownVersion>> unknown = VersionsTheCatalogLacks(repo.catalog(), **other);
    if (!unknown.ok()) return false;
    for (const UnknownVersion& v : *unknown) {
      if (IsInterruptedDeposit(repo, v)) continue;
      for (const UnknownVersion::File& f : v.files) out->insert(f.sha256);
    }
  }
  return true;
}

// The version.pb and tag files on `site` of deposits killed between their version.pb and their
// catalog commit (`interrupted`, each named by its object's pending mark: IsInterruptedDeposit):
// never acknowledged, so removed (REQUIRES: the exclusive writers' lock, which every deposit
// holds shared until its commit), each a deletion event. Their blobs are left out of `keep`
// (gc then removes them as any unreferenced blob, after the grace period) unless a version
// record the catalog does not list names them on another site (all kept when another site
// cannot be read). The objects whose leftovers went are added to `*removed` (their marks are
// cleared once every site is done); a dry run removes nothing.
void GcInterruptedRecords(Repository& repo, Site& site, const GcOptions& options,
                          const std::string& name, const std::vector<UnknownVersion>& interrupted,
                          std::unordered_set<std::string>* keep,
                          std::set<std::pair<std::string, std::string>>* removed, GcReport* report,
                          std::vector<proto::Event>* events) {
  if (interrupted.empty()) return;
  std::unordered_set<std::string> elsewhere;
  const bool known_elsewhere = GcBlobsOfUnknownVersionsElsewhere(repo, name, &elsewhere);
  for (const UnknownVersion& v : interrupted) {
    for (const UnknownVersion::File& f : v.files) {
      if (!known_elsewhere || elsewhere.count(f.sha256)) keep->insert(f.sha256);
    }
  }
  for (const UnknownVersion& v : interrupted) {
    const std::string where = layout::VersionPrefix(v.partner, v.object, v.version);
    uint64_t tag_files = 0;
    Status listed = site.List(where, [&](const ObjectInfo& info) {
      std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
      if (ref && !ref->is_version_record()) ++tag_files;
      return Status::OK();
    });
    const std::string text = "site " + name + ": " + where + " (version.pb and " +
                             std::to_string(tag_files) + " tag files; the pending mark locks/" +
                             v.partner + "/" + v.object +
                             ".pending names this record: its catalog commit never happened)";
    Status gone = listed;
    if (gone.ok() && !options.dry_run) {
      gone = site.RemoveUnacknowledgedVersion(v.partner, v.object, v.version, v.record_sha256);
    }
    if (!gone.ok()) {
      for (const UnknownVersion::File& f : v.files) keep->insert(f.sha256);
      report->errors.push_back(text + ": not removed: " + gone.ToString());
      continue;
    }
    if (!options.dry_run) {
      removed->emplace(v.partner, v.object);
      events->push_back(NewEvent(
          kDeletion,
          {.agent = "cairn gc",
           .agent_version = options.agent_version,
           .user = options.user,
           .partner = v.partner,
           .object = v.object,
           .version = v.version,
           .site = name,
           .outcome = "success",
           .detail = "removed version.pb and " + std::to_string(tag_files) + " tag files of " +
                     where + " from site " + name +
                     ": left by a deposit interrupted before its catalog commit (the pending mark "
                     "of the object names this record; a version the catalog does not list)"}));
    }
    report->interrupted_deposits.push_back(text);
  }
}

proto::Event GcDeletionEvent(const GcOptions& options, const GcBlob& blob) {
  return NewEvent(kDeletion,
                  {.agent = "cairn gc",
                   .agent_version = options.agent_version,
                   .user = options.user,
                   .site = blob.site,
                   .outcome = "success",
                   .detail = "sha256 " + blob.sha256 + ": removed blob (" +
                             std::to_string(blob.size) + " bytes) from site " + blob.site +
                             ": no version in the catalog references it, unreferenced since " +
                             FormatUtc(blob.since_micros, TimeText::kMicros) + " (grace " +
                             GcDurationText(options.grace_micros) + ")"});
}

Status GcCollectSite(Repository& repo, const GcOptions& options, const std::string& name,
                     int64_t now, std::set<std::pair<std::string, std::string>>* marks_to_clear,
                     GcReport* report) {
  Catalog& catalog = repo.catalog();
  Result<Site*> opened = repo.OpenSite(name);
  if (!opened.ok()) {
    report->errors.push_back("site " + name + ": not collected: " + opened.status().ToString());
    return Status::OK();
  }
  Site& site = **opened;
  std::unordered_set<std::string> keep;
  std::vector<UnknownVersion> interrupted_records;
  Status unknown = GcBlobsOfUnknownVersions(repo, site, name, &keep, &interrupted_records, report);
  if (!unknown.ok()) {
    report->errors.push_back("site " + name + ": not collected: " + unknown.ToString());
    return Status::OK();
  }
  std::vector<proto::Event> events;
  Status interrupted = GcInterruptedDeposits(catalog, site, options, name, report, &events);
  if (!interrupted.ok()) {
    report->errors.push_back("site " + name + ": not collected: " + interrupted.ToString());
    return Status::OK();
  }
  GcInterruptedRecords(repo, site, options, name, interrupted_records, &keep, marks_to_clear,
                       report, &events);
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> listed, catalog.ListGcCandidates(name));
  std::set<std::string> stale(listed.begin(), listed.end());  // rows whose blob is not seen
  std::vector<GcBlob> unreferenced;
  Status catalog_error;
  Status walk = site.List(layout::kBlobsPrefix, [&](const ObjectInfo& info) -> Status {
    std::optional<std::string> sha = site.BlobDigestOf(info.key);
    if (!sha) return Status::OK();
    ++report->blobs_listed;
    stale.erase(*sha);
    // A catalog error must never read as "unreferenced".
    Result<std::optional<uint64_t>> known = catalog.BlobSize(*sha);
    if (!known.ok()) {
      catalog_error = known.status();
      return Status::Aborted("catalog error");
    }
    if (known->has_value() || keep.count(*sha)) {
      if (listed.size() && std::binary_search(listed.begin(), listed.end(), *sha)) {
        if (!options.dry_run) catalog_error = catalog.RemoveGcCandidate(name, *sha);
      }
      return catalog_error.ok() ? Status::OK() : Status::Aborted("catalog error");
    }
    unreferenced.push_back(GcBlob{name, *sha, info.size, now});
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(catalog_error);
  if (!walk.ok()) {
    report->errors.push_back("site " + name + ": not collected: " + walk.ToString());
    return Status::OK();
  }
  if (!options.dry_run) {
    for (const std::string& sha : stale)
      CAIRN_RETURN_IF_ERROR(catalog.RemoveGcCandidate(name, sha));
  }
  for (GcBlob& blob : unreferenced) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<int64_t> since,
                           catalog.GcCandidateSince(name, blob.sha256));
    if (since) {
      blob.since_micros = *since;
    } else if (!options.dry_run) {
      CAIRN_RETURN_IF_ERROR(catalog.AddGcCandidate(name, blob.sha256, blob.size, now));
    }
    if (now - blob.since_micros < options.grace_micros) {
      report->waiting.push_back(blob);
      continue;
    }
    if (!options.dry_run) {
      Status removed = site.RemoveUnreferencedBlob(blob.sha256);
      if (!removed.ok()) {
        report->errors.push_back(removed.ToString());
        continue;
      }
      CAIRN_RETURN_IF_ERROR(catalog.RemoveGcCandidate(name, blob.sha256));
      events.push_back(GcDeletionEvent(options, blob));
    }
    report->bytes_removed += blob.size;
    report->removed.push_back(blob);
  }
  if (!events.empty()) CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(events).status());
  return Status::OK();
}

}  // namespace

Result<GcReport> CollectGarbage(Repository& repo, const GcOptions& options) {
  GcReport report;
  report.dry_run = options.dry_run;
  report.grace_micros = options.grace_micros;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, repo.catalog().ListSites());
  if (!options.site.empty()) {
    CAIRN_RETURN_IF_ERROR(repo.catalog().GetSite(options.site).status());
  }
  // No deposit in flight while gc runs: none can hold an unreferenced blob.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock,
                         repo.LockExclusively(options.lock_timeout_ms));
  // A catalog put back from a backup: a site's event log runs past it. Its deletion events would
  // take numbers the sites' logs hold for others (the rebuild that catches the catalog up drops
  // them), and what it calls unreferenced, or the leftovers of an interrupted deposit, it judges
  // by a catalog and a log that lack the deposits since: refused before anything is listed or
  // removed, as a deposit, replicate and an audit are (FirstSiteLogAheadOfCatalog names the site
  // and the rebuild). A dry run too: its answer would be as wrong.
  if (Status ahead = FirstSiteLogAheadOfCatalog(repo, "", /*runs_past_only=*/true); !ahead.ok()) {
    return Status::InvalidArgument("gc refused, nothing removed: " + ahead.message());
  }
  const int64_t now = repo.clock().NowMicros();
  // Objects whose interrupted deposit's record gc removed: their pending marks go once every
  // site is done (a deposit would have taken the number back the same way).
  std::set<std::pair<std::string, std::string>> marks_to_clear;
  for (const SiteRecord& site : sites) {
    if (!options.site.empty() && site.name != options.site) continue;
    CAIRN_RETURN_IF_ERROR(GcCollectSite(repo, options, site.name, now, &marks_to_clear, &report));
  }
  for (const auto& [partner, object] : marks_to_clear) {
    Status cleared = repo.ClearVersionPending(partner, object);
    if (!cleared.ok()) report.errors.push_back(cleared.ToString());
  }
  lock.reset();
  // The deletion events to every site's log (a dry run records none).
  if (!options.dry_run) report.events = FlushNewEvents(repo);
  return report;
}

std::string GcReport::ToText() const {
  std::string out;
  const std::string verb = dry_run ? "would remove" : "removed";
  for (const GcBlob& b : removed) {
    out += verb + " blob " + b.sha256 + " from site " + b.site + " (" + std::to_string(b.size) +
           " bytes, unreferenced since " + FormatUtc(b.since_micros, TimeText::kMicros) + ")\n";
  }
  for (const GcBlob& b : waiting) {
    out += "kept for now: blob " + b.sha256 + " on site " + b.site + " (" + std::to_string(b.size) +
           " bytes), unreferenced since " + FormatUtc(b.since_micros, TimeText::kMicros) +
           ": removable after " + FormatUtc(b.since_micros + grace_micros, TimeText::kMicros) +
           "\n";
  }
  for (const std::string& f : interrupted_deposits) {
    out += verb + " the leftovers of an interrupted deposit: " + f + ": never a version\n";
  }
  for (const std::string& v : unknown_versions) out += "warning: " + v + "\n";
  for (const std::string& e : errors) out += "error: " + e + "\n";
  out += std::string(dry_run ? "gc (dry run): " : "gc: ") + std::to_string(blobs_listed) +
         " blobs listed, " + std::to_string(removed.size()) + " " +
         (dry_run ? "would be removed" : "removed") + " (" + std::to_string(bytes_removed) +
         " bytes), " + std::to_string(waiting.size()) + " unreferenced within the grace period (" +
         GcDurationText(grace_micros) + ")\n";
  return out;
}

nlohmann::json GcReport::ToJson() const {
  auto blobs = [](const std::vector<GcBlob>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const GcBlob& b : list) {
      a.push_back({{"site", b.site},
                   {"sha256", b.sha256},
                   {"size", b.size},
                   {"unreferenced_since", FormatUtc(b.since_micros, TimeText::kMicros)}});
    }
    return a;
  };
  return {{"dry_run", dry_run},
          {"grace_seconds", grace_micros / 1'000'000},
          {"blobs_listed", blobs_listed},
          {"removed", blobs(removed)},
          {"bytes_removed", bytes_removed},
          {"waiting", blobs(waiting)},
          {"unknown_versions", unknown_versions},
          {"interrupted_deposits", interrupted_deposits},
          {"errors", errors}};
}

}  // namespace cairn::repo
