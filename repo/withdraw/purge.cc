// Tombstones and purges (purge.h): the order that keeps every needed byte.
#include "repo/withdraw/purge.h"

#include <optional>
#include <unordered_set>

#include "bagit/time_text.h"
#include "proto/version.pb.h"
#include "repo/crash_point.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"
#include "repo/site/tombstone.h"
#include "repo/site_layout.h"
#include "repo/withdraw/withdraw.h"

namespace cairn::repo {
namespace {

std::string PurgeOf(int64_t id) { return "withdrawal " + std::to_string(id); }

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

// Records the state and detail of `w` (read again: BeginPurge moved it on).
Status Record(Catalog& catalog, WithdrawalRecord w, WithdrawalState state,
              const std::string& detail, std::vector<proto::Event> events = {}) {
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord now, catalog.GetWithdrawal(w.id));
  WithdrawalState expected = now.state;
  now.state = state;
  now.detail = detail;
  if (state == WithdrawalState::kPurged) now.purged_micros = catalog.clock().NowMicros();
  return catalog.UpdateWithdrawal(now, expected, std::move(events));
}

// What a purge must not take although the catalog finds it unshared: the blobs that complete
// versions on the sites need which the catalog does not list (a catalog put back from a backup,
// or rebuilt from a site that lagged), except versions being purged or purged (the one under
// way among them: the catalog no longer lists it). A site that cannot be read is named in
// `*unread`: a version there might need any blob, so the caller keeps them all for now.
Result<std::unordered_set<std::string>> BlobsOfVersionsTheCatalogLacks(
    Repository& repo, std::vector<std::string>* unread) {
  Catalog& catalog = repo.catalog();
  std::unordered_set<std::string> needed;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  for (const SiteRecord& record : sites) {
    Result<Site*> site = repo.OpenSite(record.name);
    Result<std::vector<UnknownVersion>> unknown =
        site.ok() ? VersionsTheCatalogLacks(catalog, **site)
                  : Result<std::vector<UnknownVersion>>(site.status());
    if (!unknown.ok()) {
      unread->push_back(record.name + ": " + unknown.status().message());
      continue;
    }
    for (const UnknownVersion& v : *unknown) {
      if (v.purged_by != 0) continue;
      for (const UnknownVersion::File& f : v.files) needed.insert(f.sha256);
    }
  }
  return needed;
}

// The bytes under `key` on `site` now (nullopt when absent or unreadable): what its removal
// frees.
std::optional<uint64_t> StoredBytes(Site& site, const std::string& key) {
  Result<ObjectInfo> info = site.Stat(key);
  if (!info.ok()) return std::nullopt;
  return info->size;
}

}  // namespace

Result<PurgeReport> RunPurge(Repository& repo, int64_t id, int64_t lock_timeout_ms) {
  Catalog& catalog = repo.catalog();
  CAIRN_ASSIGN_OR_RETURN(WithdrawalRecord w, catalog.GetWithdrawal(id));
  PurgeReport report;
  report.withdrawal = w;
  if (!w.purge) {
    return Status::InvalidArgument(PurgeOf(id) + " of " + w.VersionName() +
                                   " keeps the bytes (requested without --purge)");
  }
  if (w.state == WithdrawalState::kPurged) return report;
  if (!IsWithdrawn(w.state)) {
    return Status::InvalidArgument(PurgeOf(id) + " of " + w.VersionName() + " is " +
                                   std::string(WithdrawalStateName(w.state)) +
                                   ": only an approved withdrawal is purged");
  }
  if (w.state == WithdrawalState::kWithdrawn) {
    CAIRN_RETURN_IF_ERROR(PurgeAllowedNow(repo, w.partner, w.object, w.version));
  }
  // No deposit, copy, audit repair or gc runs while the lock is held: none can be counting on
  // a blob this purge finds unreferenced.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock,
                         repo.LockExclusively(lock_timeout_ms));
  CAIRN_ASSIGN_OR_RETURN(TombstonesLeft untombstoned, WriteTombstones(repo, w));
  // A purge asked after a withdrawal without one: that one's tombstone too, on every site,
  // before any byte goes (a site removes a bag file only beside WITHDRAWN).
  CAIRN_ASSIGN_OR_RETURN(std::optional<WithdrawalRecord> before, WithdrawalBefore(catalog, w));
  if (before) {
    CAIRN_ASSIGN_OR_RETURN(TombstonesLeft first, WriteTombstones(repo, *before));
    untombstoned.Add(first);
  }
  if (!untombstoned.empty()) {
    std::string why = untombstoned.Text() + "; nothing removed";
    CAIRN_RETURN_IF_ERROR(Record(catalog, w, w.state, why));
    return Status::Unavailable("purge of " + w.VersionName() + " (" + PurgeOf(id) +
                               ") waits: " + why);
  }
  CrashPoint("withdraw.purge.tombstones-done");
  CAIRN_RETURN_IF_ERROR(catalog.BeginPurge(id));
  CAIRN_ASSIGN_OR_RETURN(std::vector<PurgeKey> keys, catalog.ListPurgeKeys(id));
  // Read once, and only when a blob is to go: the blobs versions the catalog lacks need.
  std::optional<std::unordered_set<std::string>> needed;
  std::vector<std::string> unread;
  bool locked = false;
  for (const PurgeKey& k : keys) {
    Result<Site*> site = repo.OpenSite(k.site);
    if (!site.ok()) {
      report.waiting.push_back(k.site + ": " + site.status().message());
      continue;
    }
    Result<Erasure> erased = Erasure{};
    std::optional<uint64_t> stored;
    if (!k.sha256.empty()) {
      if (!needed) {
        CAIRN_ASSIGN_OR_RETURN(needed, BlobsOfVersionsTheCatalogLacks(repo, &unread));
      }
      if (catalog.BlobExists(k.sha256) || needed->count(k.sha256)) {
        // Deposited again since the purge began, or named by a version on a site that the
        // catalog does not know: someone needs it.
        CAIRN_RETURN_IF_ERROR(catalog.RemovePurgeKey(id, k.site, k.key));
        ++report.blobs_kept;
        continue;
      }
      if (!unread.empty()) {
        // When in doubt the blob stays: a version on a site that could not be read may need it.
        report.waiting.push_back(k.site + ": " + k.key +
                                 " is kept until every site can be read (a version there that "
                                 "the catalog does not know might need it): " +
                                 Join(unread));
        continue;
      }
      stored = StoredBytes(**site, (*site)->BlobKey(k.sha256));
      erased = (*site)->PurgeBlob(k.sha256);
    } else {
      stored = StoredBytes(**site, k.key);
      erased = (*site)->RemovePurgedBagFile(k.key);
    }
    if (!erased.ok()) {
      report.waiting.push_back(k.site + ": " + k.key + ": " + erased.status().message());
      continue;
    }
    if (!erased->gone) {
      // Object Lock keeps the bytes (hidden under a delete marker) until the date: never
      // counted as removed; the daemon's next round, or `withdraw run`, tries again.
      locked = true;
      report.waiting.push_back(k.site + ": " + k.key +
                               " is kept by the site's Object Lock retention until " +
                               FormatUtc(erased->retained_until_micros) + "; retried then");
      continue;
    }
    CrashPoint("withdraw.purge.key-removed");
    CAIRN_RETURN_IF_ERROR(catalog.RemovePurgeKey(id, k.site, k.key));
    if (!stored) continue;  // not on this site: nothing was removed
    ++report.keys_removed;
    report.bytes_removed += *stored;
  }
  lock.reset();
  if (!report.waiting.empty()) {
    CAIRN_RETURN_IF_ERROR(
        Record(catalog, w, locked ? WithdrawalState::kWaitingRetention : WithdrawalState::kPurging,
               Join(report.waiting)));
  } else {
    CAIRN_ASSIGN_OR_RETURN(std::vector<PurgeKey> left, catalog.ListPurgeKeys(id));
    if (left.empty()) {
      EventFields fields;
      fields.user = w.approved_by;
      fields.role = w.approved_role;
      fields.partner = w.partner;
      fields.object = w.object;
      fields.version = w.version;
      fields.outcome = "success";
      // No count of keys or bytes removed: the partner reads this event, and what left the
      // sites is less than the version when another partner holds some of its content.
      fields.detail =
          PurgeOf(id) + ": purged; requested by " + w.requested_by + " (" + w.requested_role +
          "), approved by " + w.approved_by + " (" + w.approved_role +
          "); the version's tag files and content are gone from " +
          "every site (content another partner holds stays theirs); reason: " + w.reason;
      CAIRN_RETURN_IF_ERROR(
          Record(catalog, w, WithdrawalState::kPurged, "", {NewEvent(kDeletion, fields)}));
      FlushNewEvents(repo);
    }
  }
  CAIRN_ASSIGN_OR_RETURN(report.withdrawal, catalog.GetWithdrawal(id));
  return report;
}

namespace {

// What `site` still holds of purged version `w`: its bag files (version.pb last) and the blobs
// its version.pb names.
struct Leftover {
  WithdrawalRecord withdrawal;
  std::string site;
  std::vector<std::string> bag_keys;
  std::vector<std::string> blobs;
};

Result<std::vector<Leftover>> FindLeftovers(Site& site, const std::string& name,
                                            const WithdrawalRecord& w) {
  Leftover found{w, name, {}, {}};
  bool has_record = false;
  CAIRN_RETURN_IF_ERROR(site.List(
      layout::VersionPrefix(w.partner, w.object, w.version), [&](const ObjectInfo& info) -> Status {
        std::optional<layout::TagFileRef> ref = layout::ParseTagFileKey(info.key);
        if (!ref || ref->version != w.version) return Status::OK();
        if (ref->is_version_record()) {
          has_record = true;
        } else {
          found.bag_keys.push_back(info.key);
        }
        return Status::OK();
      }));
  if (has_record) {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes,
                           site.ReadVersionRecord(w.partner, w.object, w.version));
    proto::VersionRecord record;
    // A record that does not parse names no blob: its bag files still go, and blobs no one
    // references are gc's.
    if (record.ParseFromString(bytes)) {
      for (const proto::VersionFile& f : record.files()) found.blobs.push_back(f.sha256());
    }
    found.bag_keys.push_back(layout::VersionRecordKey(w.partner, w.object, w.version));
  }
  if (found.bag_keys.empty()) return std::vector<Leftover>{};
  return std::vector<Leftover>{std::move(found)};
}

}  // namespace

Result<LeftoverReport> RemovePurgeLeftovers(Repository& repo, const std::string& only_site,
                                            int64_t lock_timeout_ms) {
  Catalog& catalog = repo.catalog();
  LeftoverReport report;
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> all, catalog.ListWithdrawals(""));
  std::vector<WithdrawalRecord> purged;
  for (const WithdrawalRecord& w : all) {
    if (w.purge && w.state == WithdrawalState::kPurged) purged.push_back(w);
  }
  if (purged.empty()) return report;
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  std::vector<Leftover> leftovers;
  for (const SiteRecord& record : sites) {
    if (!only_site.empty() && record.name != only_site) continue;
    Result<Site*> site = repo.OpenSite(record.name);
    if (!site.ok()) continue;  // a site that is down is looked at next time
    for (const WithdrawalRecord& w : purged) {
      Result<std::vector<Leftover>> found = FindLeftovers(**site, record.name, w);
      if (!found.ok()) {
        report.problems.push_back(PurgeOf(w.id) + ": site " + record.name + ": " +
                                  found.status().message());
        continue;
      }
      for (Leftover& l : *found) leftovers.push_back(std::move(l));
    }
  }
  if (leftovers.empty()) return report;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock,
                         repo.LockExclusively(lock_timeout_ms));
  std::vector<std::string> unread;
  CAIRN_ASSIGN_OR_RETURN(std::unordered_set<std::string> needed,
                         BlobsOfVersionsTheCatalogLacks(repo, &unread));
  std::vector<proto::Event> events;
  for (const Leftover& l : leftovers) {
    const WithdrawalRecord& w = l.withdrawal;
    const std::string where =
        "site " + l.site + ": " + w.VersionName() + " (" + PurgeOf(w.id) + ")";
    CAIRN_ASSIGN_OR_RETURN(Site * site, repo.OpenSite(l.site));
    uint64_t keys = 0, bytes = 0;
    std::vector<std::string> left;
    // Blobs first: the version.pb that names them goes last, so a run cut short finds them again.
    for (const std::string& sha : l.blobs) {
      if (catalog.BlobExists(sha) || needed.count(sha)) {
        ++report.blobs_kept;
        continue;
      }
      std::optional<uint64_t> stored = StoredBytes(*site, site->BlobKey(sha));
      if (!stored) continue;
      if (!unread.empty()) {
        left.push_back("blob " + sha + " kept until every site can be read: " + Join(unread));
        continue;
      }
      Result<Erasure> erased = site->PurgeBlob(sha);
      if (!erased.ok() || !erased->gone) {
        left.push_back(erased.ok() ? "blob " + sha + " is kept by Object Lock until " +
                                         FormatUtc(erased->retained_until_micros)
                                   : erased.status().message());
        continue;
      }
      ++keys;
      bytes += *stored;
    }
    for (const std::string& key : l.bag_keys) {
      if (!left.empty() && key == layout::VersionRecordKey(w.partner, w.object, w.version)) {
        break;  // version.pb stays while blobs it names do
      }
      std::optional<uint64_t> stored = StoredBytes(*site, key);
      Result<Erasure> erased = site->RemovePurgedBagFile(key);
      if (!erased.ok() || !erased->gone) {
        left.push_back(erased.ok() ? key + " is kept by Object Lock until " +
                                         FormatUtc(erased->retained_until_micros)
                                   : erased.status().message());
        continue;
      }
      ++keys;
      bytes += stored.value_or(0);
    }
    report.keys_removed += keys;
    report.bytes_removed += bytes;
    if (keys > 0) {
      report.removed.push_back(where + ": " + std::to_string(keys) + " keys, " +
                               std::to_string(bytes) + " bytes removed");
      EventFields fields;
      fields.site = l.site;
      fields.partner = w.partner;
      fields.object = w.object;
      fields.version = w.version;
      fields.outcome = "success";
      fields.detail = PurgeOf(w.id) + ": what site " + l.site +
                      " still held of the purged version (put back from a copy taken before "
                      "the purge?) is removed: its tag files and the content no other version "
                      "needs";
      events.push_back(NewEvent(kDeletion, fields));
    }
    if (!left.empty()) report.problems.push_back(where + ": left: " + Join(left));
  }
  if (!events.empty()) {
    CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(events).status());
    FlushNewEvents(repo);
  }
  return report;
}

Result<PendingReport> RunPendingWithdrawals(Repository& repo, int64_t lock_timeout_ms) {
  PendingReport out;
  // A site that was away at a `hold add` (or any change of a setting) gets it now: its records
  // are what a catalog rebuilt from it knows, and what the sites' check of a purge reads.
  out.settings_warnings = SyncSettingsAfterChange(repo);
  CAIRN_ASSIGN_OR_RETURN(std::vector<WithdrawalRecord> all, repo.catalog().ListWithdrawals(""));
  for (const WithdrawalRecord& w : all) {
    if (!IsWithdrawn(w.state)) continue;
    // Tombstones of every approved withdrawal, purged ones too: a site that was down, or made
    // since (`site resync NAME --init` of a lost one), gets them, so that a catalog rebuilt from
    // it knows the version is gone and its number taken.
    if (!w.purge || w.state == WithdrawalState::kPurged) {
      CAIRN_ASSIGN_OR_RETURN(TombstonesLeft pending, WriteTombstones(repo, w));
      if (!pending.empty()) out.problems.push_back(PurgeOf(w.id) + ": " + pending.Text());
      continue;
    }
    if (w.state == WithdrawalState::kWithdrawn) {
      Status allowed = PurgeAllowedNow(repo, w.partner, w.object, w.version);
      if (!allowed.ok()) {
        // Not due yet (a retention, a hold): said, and its tombstone still goes to a site that
        // was away at the approval (the version is withdrawn whatever becomes of the purge).
        out.waiting.push_back(PurgeOf(w.id) + " of " + w.VersionName() +
                              " waits: " + allowed.message());
        CAIRN_ASSIGN_OR_RETURN(TombstonesLeft pending, WriteTombstones(repo, w));
        if (!pending.empty()) out.problems.push_back(PurgeOf(w.id) + ": " + pending.Text());
        continue;
      }
    }
    Result<PurgeReport> purged = RunPurge(repo, w.id, lock_timeout_ms);
    if (!purged.ok()) {
      if (lock_timeout_ms == 0 && purged.status().code() == Code::kUnavailable &&
          purged.status().message().find("writers") != std::string::npos) {
        continue;  // writers busy: the next round
      }
      out.problems.push_back(PurgeOf(w.id) + ": " + purged.status().message());
      continue;
    }
    if (!purged->waiting.empty()) {
      out.problems.push_back(PurgeOf(w.id) + ": waits: " + Join(purged->waiting));
    }
    out.purges.push_back(*std::move(purged));
  }
  Result<LeftoverReport> leftovers = RemovePurgeLeftovers(repo, "", lock_timeout_ms);
  if (!leftovers.ok()) {
    if (lock_timeout_ms != 0 || leftovers.status().code() != Code::kUnavailable) {
      out.problems.push_back("leftovers of purges: " + leftovers.status().message());
    }
  } else {
    out.leftovers = *std::move(leftovers);
    for (const std::string& p : out.leftovers.problems) out.problems.push_back(p);
  }
  return out;
}

}  // namespace cairn::repo
