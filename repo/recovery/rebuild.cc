// RebuildCatalogFromSite: partners, objects, versions, files, tag files,
// blobs and replicas from one site's version records and listings; the event
// history from its segments (rebuild_events.cc).
#include "repo/recovery/rebuild.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "proto/version.pb.h"
#include "repo/catalog/catalog.h"
#include "repo/events/event_types.h"
#include "repo/events/interrupted_deposit.h"
#include "repo/recovery/rebuild_steps.h"
#include "repo/site/repository.h"
#include "repo/site/site.h"
#include "repo/site/tombstone.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo {

namespace {

struct VersionKey {
  std::string partner;
  std::string object;
  uint32_t version = 0;
  bool operator<(const VersionKey& o) const {
    return std::tie(partner, object, version) < std::tie(o.partner, o.object, o.version);
  }
  std::string Name() const { return partner + "/" + object + "@v" + std::to_string(version); }
};

std::string IncompleteProblem(const VersionKey& key) {
  return key.Name() + ": no version.pb (an incomplete deposit): skipped";
}

struct VersionFolder {
  bool has_record = false;
  // Withdrawn (issue 18): the tombstones in the folder, WITHDRAWN and (a purge asked after a
  // withdrawal without one) WITHDRAWN-PURGE.
  std::vector<std::string> tombstones;
  std::map<std::string, uint64_t> tag_sizes;  // tag file name -> size on the site
};

// What the site's listings say: blobs with sizes, version folders with files.
struct SiteListing {
  std::unordered_map<std::string, uint64_t> blobs;
  std::map<VersionKey, VersionFolder> versions;
};

Result<SiteListing> ListSite(Site& site) {
  SiteListing listing;
  CAIRN_RETURN_IF_ERROR(site.List(layout::kBlobsPrefix, [&](const ObjectInfo& info) {
    if (auto sha = site.BlobDigestOf(info.key)) listing.blobs.emplace(std::move(*sha), info.size);
    return Status::OK();
  }));
  CAIRN_RETURN_IF_ERROR(site.List(layout::kBagsPrefix, [&](const ObjectInfo& info) {
    if (std::optional<layout::TagFileRef> dead = layout::ParseTombstoneKey(info.key)) {
      listing.versions[VersionKey{dead->partner, dead->object, dead->version}].tombstones.push_back(
          dead->name);
      return Status::OK();
    }
    std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
    if (!ref) return Status::OK();
    VersionFolder& folder = listing.versions[VersionKey{ref->partner, ref->object, ref->version}];
    if (ref->is_version_record()) folder.has_record = true;
    folder.tag_sizes[ref->name] = info.size;
    return Status::OK();
  }));
  return listing;
}

Status CheckEmpty(Catalog& catalog) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectSummary> objects, catalog.ListObjects(""));
  CAIRN_ASSIGN_OR_RETURN(EventHead head, catalog.GetEventHead());
  if (!sites.empty() || !objects.empty() || head.seq != 0) {
    return Status::InvalidArgument("catalog " + catalog.path() +
                                   " is not empty: a rebuild fills a new catalog only");
  }
  return Status::OK();
}

// Reads and checks one version.pb; the record must name the folder it is in.
Result<proto::VersionRecord> ReadRecord(Site& site, const VersionKey& key, std::string* bytes) {
  CAIRN_ASSIGN_OR_RETURN(*bytes, site.ReadVersionRecord(key.partner, key.object, key.version));
  proto::VersionRecord record;
  const std::string where = layout::VersionRecordKey(key.partner, key.object, key.version);
  if (!record.ParseFromString(*bytes)) {
    return Status::Corruption(where + ": not a version record");
  }
  if (record.partner() != key.partner || record.object() != key.object ||
      record.version() != key.version) {
    return Status::Corruption(where + ": names " + record.partner() + "/" + record.object() + "@v" +
                              std::to_string(record.version()) + ", not its folder");
  }
  for (const proto::VersionFile& f : record.files()) {
    if (!layout::IsSha256Hex(f.sha256())) {
      return Status::Corruption(where + ": file " + f.path() + " has a bad sha256");
    }
  }
  return record;
}

// The incomplete folders that are what a deposit killed before its version.pb left: no other
// site holds the version whole (its problem was not replaced) and the loaded event log records
// no ingestion of it. Never acknowledged, so never a version and nothing lost: a note naming
// `cairn gc`, which removes them, not a problem (a rebuild's exit 1 is for what it could not
// bring back). One whose ingestion the log records lost its record: still a problem, saying so.
Status NoteInterruptedDeposits(Catalog& catalog, const std::map<std::string, size_t>& incomplete,
                               const std::vector<VersionKey>& keys, RebuildReport* report) {
  std::vector<size_t> noted;
  for (const VersionKey& key : keys) {
    const size_t index = incomplete.at(key.Name());
    if (report->problems[index] != IncompleteProblem(key)) continue;
    CAIRN_ASSIGN_OR_RETURN(
        std::vector<proto::Event> ingested,
        catalog.ListEvents(
            {.partner = key.partner, .object = key.object, .type = std::string(kIngestion.label)}));
    if (std::any_of(ingested.begin(), ingested.end(),
                    [&key](const proto::Event& e) { return e.version() == key.version; })) {
      report->problems[index] = key.Name() +
                                ": no version.pb, but the event log records its ingestion: the "
                                "site lost its record (removed or damaged): skipped";
      continue;
    }
    noted.push_back(index);
    report->notes.push_back(key.Name() +
                            ": tag files without version.pb, the leftovers of an interrupted "
                            "deposit (never a version, nothing lost): skipped; `cairn gc` "
                            "removes them");
  }
  std::sort(noted.rbegin(), noted.rend());
  for (size_t index : noted) report->problems.erase(report->problems.begin() + index);
  return Status::OK();
}

// The copies the other reachable sites hold of the versions rebuilt (`versions`, with their
// catalog ids): of each version whose version.pb such a site lists with the size of this site's,
// every blob and tag file it lists with its size is recorded ok and never verified, as this
// site's are (the auditor checks them first). What a site lacks stays unrecorded: the copies the
// policies want are queued for it.
Status RecordCopiesOnOtherSites(Site& site, Catalog& catalog,
                                const std::vector<std::pair<VersionKey, int64_t>>& versions,
                                RebuildReport* report) {
  const int64_t now = catalog.clock().NowMicros();
  for (auto& [name, other] : OpenOtherSites(site, catalog)) {
    Result<SiteListing> listing = ListSite(*other);
    if (!listing.ok()) {
      report->notes.push_back("site " + name + " not listed (" + listing.status().message() +
                              "): its copies are recorded by `cairn replicate`, which verifies "
                              "each one there first");
      continue;
    }
    uint64_t found = 0;
    std::vector<ReplicaRecord> records;
    for (const auto& [key, id] : versions) {
      auto folder = listing->versions.find(key);
      if (folder == listing->versions.end() || !folder->second.has_record) continue;
      CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> rows, catalog.ReplicasOf(id));
      std::erase_if(rows, [&](const ReplicaRecord& r) { return r.site != site.id(); });
      auto listed = [&](const ReplicaRecord& r) {
        if (r.ref.kind == ReplicaRef::Kind::kBlob) {
          auto blob = listing->blobs.find(r.sha256);
          return blob != listing->blobs.end() && blob->second == r.size;
        }
        auto tag = folder->second.tag_sizes.find(r.tag_name);
        return tag != folder->second.tag_sizes.end() && tag->second == r.size;
      };
      // Another record under the version's name is another deposit's: none of it counts.
      if (std::none_of(rows.begin(), rows.end(), [&](const ReplicaRecord& r) {
            return r.tag_name == layout::kVersionRecordName && listed(r);
          })) {
        continue;
      }
      ++found;
      for (ReplicaRecord& r : rows) {
        if (!listed(r)) continue;
        records.push_back({.ref = std::move(r.ref),
                           .site = name,
                           .state = ReplicaState::kOk,
                           .last_verified_micros = 0,
                           .next_due_micros = now,
                           .detail = "listed on the site by catalog rebuild"});
      }
      if (records.size() >= 4096) {
        CAIRN_RETURN_IF_ERROR(catalog.SetReplicaStates(records));
        records.clear();
      }
    }
    CAIRN_RETURN_IF_ERROR(catalog.SetReplicaStates(records));
    if (found) report->copies_elsewhere.emplace_back(name, found);
  }
  return Status::OK();
}

}  // namespace

Result<RebuildReport> RebuildCatalogFromSite(Site& site, Catalog& catalog,
                                             const RebuildOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  CAIRN_RETURN_IF_ERROR(CheckEmpty(catalog));
  RebuildReport report;
  report.site = site.id();
  report.site_url = options.site_url.empty() ? site.DisplayUrl() : options.site_url;
  // The rebuilt catalog is the repository the site belongs to (an older
  // marker names none: the new catalog keeps the id it was made with).
  if (!site.marker().repository_id.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog.SetRepositoryId(site.marker().repository_id));
  }
  CAIRN_RETURN_IF_ERROR(catalog.AddSite(report.site, report.site_url, "").status());
  CAIRN_ASSIGN_OR_RETURN(SiteListing listing, ListSite(site));

  std::set<std::string> partners, objects;
  std::unordered_map<std::string, bool> blobs_seen;
  // Marked after every version is in: a later version's insert would mark a
  // shared blob ok again.
  std::vector<std::string> missing_blobs;
  std::map<std::string, size_t> incomplete;  // version name -> its problem's index
  std::vector<VersionKey> incomplete_keys;
  std::vector<VersionKey> interrupted;  // version.pb named by a pending mark: not rebuilt
  std::vector<std::pair<VersionKey, int64_t>> inserted_versions;  // with their catalog ids
  uint64_t done = 0;
  const uint64_t total = listing.versions.size();
  for (const auto& [key, folder] : listing.versions) {
    if (options.progress && (++done % 64 == 0 || done == total)) options.progress(done, total);
    if (!folder.tombstones.empty()) {
      // A withdrawn version stays withdrawn: its withdrawals come back from the tombstones,
      // before the version itself (so nothing can read it in between). Purged (a tombstone
      // asks for a purge and version.pb is gone): only the withdrawals come back; with its
      // version.pb still there the purge resumes at the next `cairn withdraw run`.
      bool good = true;
      std::vector<WithdrawalRecord> found;
      for (const std::string& name : folder.tombstones) {
        const std::string where = layout::TombstoneKey(key.partner, key.object, key.version, name);
        Result<std::string> text = site.ReadTombstone(key.partner, key.object, key.version, name);
        if (!text.ok()) return text.status();
        Result<WithdrawalRecord> w = ParseTombstone(*text, where);
        if (!w.ok() || w->partner != key.partner || w->object != key.object ||
            w->version != key.version) {
          // Never read the version back as if it were not withdrawn.
          report.problems.push_back(
              key.Name() + ": " +
              (w.ok() ? "tombstone " + name + " names another version" : w.status().message()) +
              ": skipped, not restored");
          good = false;
          break;
        }
        found.push_back(*std::move(w));
      }
      if (!good) continue;
      if (partners.insert(key.partner).second) {
        Status added = catalog.AddPartner(key.partner, "").status();
        if (!added.ok() && !added.IsAlreadyExists()) return added;
      }
      for (WithdrawalRecord& w : found) {
        if (w.purge && !folder.has_record) {
          w.state = WithdrawalState::kPurged;
          w.detail = "purged; restored from the tombstone on site " + report.site;
        }
        CAIRN_RETURN_IF_ERROR(catalog.RestoreWithdrawal(w));
      }
      if (!folder.has_record) continue;
    }
    if (!folder.has_record) {
      ++report.incomplete_versions;
      incomplete.emplace(key.Name(), report.problems.size());
      incomplete_keys.push_back(key);
      report.problems.push_back(IncompleteProblem(key));
      continue;
    }
    std::string record_bytes;
    Result<proto::VersionRecord> record = ReadRecord(site, key, &record_bytes);
    if (!record.ok()) {
      if (!record.status().IsCorruption()) return record.status();
      // Named once with the sites that hold it whole (ReportVersionsOnlyElsewhere), not also as
      // a version this site "missed while it was away".
      incomplete.emplace(key.Name(), report.problems.size());
      report.problems.push_back(record.status().message() + ": skipped");
      continue;
    }
    if (folder.tombstones.empty() &&
        Repository::MarkNamesRecord(options.repository_root, key.partner, key.object, key.version,
                                    Sha256Hex(record_bytes))) {
      interrupted.push_back(key);  // an interrupted deposit's: said once the log is loaded
      continue;
    }
    if (partners.insert(key.partner).second) {
      Status added = catalog.AddPartner(key.partner, "").status();
      if (!added.ok() && !added.IsAlreadyExists()) return added;
    }
    NewVersion nv;
    nv.partner = key.partner;
    nv.object = key.object;
    nv.version = key.version;
    nv.depositor = record->depositor();
    nv.created_micros = record->created_unix_micros();
    nv.stored_on = {report.site};
    nv.files.reserve(record->files_size());
    for (const proto::VersionFile& f : record->files()) {
      nv.files.push_back(FileEntry{f.path(), f.size(), f.sha256()});
    }
    for (const proto::TagFile& t : record->tag_files()) {
      nv.tag_files.push_back(TagFileEntry{0, t.name(), t.size(), t.sha256()});
    }
    // Checked by InsertVersion as a deposit's are: a bad one skips the version, named.
    nv.empty_folders.assign(record->empty_folders().begin(), record->empty_folders().end());
    nv.tag_files.push_back(TagFileEntry{0, std::string(layout::kVersionRecordName),
                                        record_bytes.size(), Sha256Hex(record_bytes)});
    Result<int64_t> inserted = catalog.InsertVersion(nv);
    if (!inserted.ok()) {
      if (inserted.status().code() != Code::kInvalidArgument &&
          inserted.status().code() != Code::kNotFound) {
        return inserted.status();
      }
      report.problems.push_back(key.Name() + ": " + inserted.status().message() + ": skipped");
      continue;
    }
    ++report.versions;
    inserted_versions.emplace_back(key, *inserted);
    report.files += nv.files.size();
    report.tag_files += nv.tag_files.size();
    objects.insert(key.partner + "/" + key.object);
    for (const FileEntry& f : nv.files) {
      auto [it, fresh] = blobs_seen.emplace(f.sha256, false);
      if (!fresh) continue;
      ++report.blobs;
      auto on_site = listing.blobs.find(f.sha256);
      if (on_site != listing.blobs.end() && on_site->second == f.size) continue;
      ++report.missing_blobs;
      report.problems.push_back(
          key.Name() + ": blob " + f.sha256 + " (" + f.path + ") is " +
          (on_site == listing.blobs.end() ? "not on the site" : "of the wrong size"));
      missing_blobs.push_back(f.sha256);
    }
    for (const TagFileEntry& t : nv.tag_files) {
      auto on_site = folder.tag_sizes.find(t.name);
      if (on_site != folder.tag_sizes.end() && on_site->second == t.size) continue;
      ++report.missing_tag_files;
      report.problems.push_back(
          key.Name() + ": tag file " + t.name + " is " +
          (on_site == folder.tag_sizes.end() ? "not on the site" : "of the wrong size"));
      CAIRN_RETURN_IF_ERROR(catalog.SetReplicaState(ReplicaRef::TagFile(t.id), report.site,
                                                    ReplicaState::kMissing, 0, 0,
                                                    "not found by catalog rebuild"));
    }
  }
  for (const std::string& sha256 : missing_blobs) {
    CAIRN_RETURN_IF_ERROR(catalog.SetReplicaState(ReplicaRef::Blob(sha256), report.site,
                                                  ReplicaState::kMissing, 0, 0,
                                                  "not found by catalog rebuild"));
  }
  report.partners = partners.size();
  report.objects = objects.size();

  // Never verified since the rebuild: due at once, so the auditor reads them first.
  CAIRN_RETURN_IF_ERROR(catalog.MarkAllReplicasUnverified(catalog.clock().NowMicros()));

  CAIRN_RETURN_IF_ERROR(RestoreRebuildSettings(site, catalog, &report, [&] {
    return RecordCopiesOnOtherSites(site, catalog, inserted_versions, &report);
  }));

  CAIRN_RETURN_IF_ERROR(LoadSiteEvents(site, catalog, &report));
  std::vector<CatalogVersion> rebuilt;
  rebuilt.reserve(inserted_versions.size());
  for (const auto& [key, id] : inserted_versions) {
    rebuilt.push_back({key.partner, key.object, key.version, id});
  }
  CAIRN_RETURN_IF_ERROR(RebuildAuditHistory(catalog, rebuilt, &report));
  CAIRN_RETURN_IF_ERROR(ResumePurgesBegunElsewhere(site, catalog, &report));
  ReportVersionsOnlyElsewhere(site, catalog, incomplete, options.repository_root, &report);
  for (const VersionKey& key : interrupted) {
    const std::string mark = "locks/" + key.partner + "/" + key.object + ".pending";
    if (IngestionRecorded(catalog, key.partner, key.object, key.version)) {
      // Killed after its catalog commit, before the mark was cleared: a version after all.
      report.problems.push_back(
          key.Name() + ": the repository's pending mark " + mark +
          " names its version.pb, but the event log records its ingestion: not brought back; "
          "remove that mark, then rebuild again (--force)");
      continue;
    }
    report.notes.push_back(key.Name() +
                           ": version.pb and tag files of a deposit interrupted before its "
                           "catalog commit (the repository's pending mark " +
                           mark +
                           " names this record; never a version, nothing lost): skipped; "
                           "`cairn gc` removes them");
  }
  CAIRN_RETURN_IF_ERROR(NoteInterruptedDeposits(catalog, incomplete, incomplete_keys, &report));
  CAIRN_RETURN_IF_ERROR(RecordRebuildEvent(catalog, options, report));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace cairn::repo
