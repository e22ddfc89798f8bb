// CheckCopy and RepairCopy: one copy read and re-hashed; a bad copy replaced
// by one that verifies (through replication's CopyAndVerify).
#include <unistd.h>

#include <string>

#include "audit/audit_internal.h"
#include "bagit/digest.h"
#include "repo/events/event_types.h"
#include "repo/replicate/site_copy.h"

namespace cairn::audit::internal {

using bagit::Algorithm;

CheckResult CheckCopy(repo::Site& site, const Candidate& copy, RateLimiter* limiter) {
  CheckResult result;
  bagit::MultiHasher hasher(bagit::Only(Algorithm::kSha256));
  // Fast path, where the site claims local files: a local file of the
  // expected size, hashed from a memory map (or one pread when small). A copy
  // that cannot be opened is missing or unreadable: that error is the read's
  // (not read again by Read, which would double every retry of a down site).
  // A size that differs or a read error while hashing takes the generic path
  // below, which tells missing, corrupt and unavailable apart.
  Status read;
  bool hashed = false;
  if (site.capabilities().open_for_copy) {
    Result<int> fd = site.OpenForCopy(copy.key);
    if (fd.ok()) {
      hashed = HashLocalFile(*fd, copy.size, limiter, hasher);
      ::close(*fd);
      if (!hashed) hasher = bagit::MultiHasher(bagit::Only(Algorithm::kSha256));
    } else {
      read = fd.status();
    }
  }
  if (!hashed && read.ok() && !(limiter && limiter->cancelled())) {
    read =
        site.Read(copy.key, 0, repo::StorageBackend::kToEnd, [&](std::span<const std::byte> chunk) {
          if (limiter && !limiter->Acquire(chunk.size())) {
            return Status::Aborted("sweep interrupted");
          }
          hasher.Update(chunk);
          return Status::OK();
        });
  }
  result.bytes = hasher.bytes();
  if (limiter && limiter->cancelled()) {
    result.outcome = Outcome::kStopped;  // cut short: not a finding, the copy stays due
    return result;
  }
  if (read.IsNotFound()) {
    result.outcome = Outcome::kMissing;
    result.detail = "not on site " + copy.site + ": " + read.message();
    return result;
  }
  if (!read.ok()) {
    result.outcome = Outcome::kUnavailable;
    result.detail = "site " + copy.site + " could not be read: " + read.ToString();
    return result;
  }
  std::string digest = hasher.Finish()[Algorithm::kSha256];
  if (digest != copy.sha256 || result.bytes != copy.size) {
    result.outcome = Outcome::kCorrupt;
    result.detail = "read " + std::to_string(result.bytes) + " bytes with sha256 " + digest +
                    ", expected " + std::to_string(copy.size) + " bytes with sha256 " + copy.sha256;
    return result;
  }
  return result;
}

RepairResult RepairCopy(repo::Repository& repo, repo::Catalog::Reader& reader,
                        const Candidate& copy, DownSites* down) {
  RepairResult result;
  // The other replicas of the same blob or tag file, ok ones first.
  Result<std::vector<repo::OtherReplica>> others = reader.OtherReplicas(copy);
  if (!others.ok()) {
    result.detail = "not repaired: " + others.status().ToString();
    return result;
  }
  Result<repo::Site*> target = repo.OpenSite(copy.site);
  if (!target.ok()) {
    result.detail = "not repaired: " + target.status().ToString();
    return result;
  }
  // When no copy the catalog knows verifies, every other site is asked for the bytes under the
  // copy's key (a blob by its digest, as restore does): a copy the catalog never recorded there
  // (a catalog rebuilt while that site was out of reach) is verified, recorded and repaired from.
  std::vector<std::string> known;
  for (const repo::OtherReplica& other : *others) known.push_back(other.site);
  Result<std::vector<std::string>> ask = repo::SitesToAskByKey(repo.catalog(), known, copy.site);
  if (ask.ok()) {
    for (const std::string& site : *ask) others->push_back({.replica_id = 0, .site = site});
  }
  bool some_unreadable = false;
  std::string why;
  int64_t now = repo.clock().NowMicros();
  for (const repo::OtherReplica& other : *others) {
    const bool unrecorded = other.replica_id == 0;
    if (down != nullptr && down->Contains(other.site)) {
      some_unreadable = true;
      why += "; site " + other.site + ": could not be read earlier in this sweep";
      continue;
    }
    Result<repo::Site*> source = repo.OpenSite(other.site);
    if (!source.ok()) {
      some_unreadable = true;
      why += "; site " + other.site + ": " + source.status().message();
      if (down != nullptr) down->Add(other.site);
      continue;
    }
    Candidate source_copy = copy;
    source_copy.site = other.site;
    source_copy.replica_id = other.replica_id;
    CheckResult verified = CheckCopy(**source, source_copy, nullptr);
    if (verified.outcome == Outcome::kUnavailable) {
      some_unreadable = true;
      why += "; " + verified.detail;
      if (down != nullptr) down->Add(other.site);
      continue;
    }
    if (verified.outcome != Outcome::kOk && unrecorded) continue;  // no copy there
    if (verified.outcome != Outcome::kOk) {
      // Another bad copy: due now, so that a later sweep repairs it too.
      bool missing = verified.outcome == Outcome::kMissing;
      result.other_updates.push_back(
          {other.replica_id, missing ? repo::ReplicaState::kMissing : repo::ReplicaState::kCorrupt,
           -1, now, verified.detail});
      result.other_findings.push_back(
          MakeFinding(missing ? FindingKind::kMissing : FindingKind::kCorrupt, copy, other.site,
                      verified.detail + " (found while repairing site " + copy.site + ")"));
      why += "; site " + other.site + ": " + verified.detail;
      continue;
    }
    std::string found_by_key;
    if (unrecorded) {
      found_by_key = "; site " + other.site + " held it under " + copy.key +
                     ", a copy the catalog did not record there: verified and recorded now";
      const int64_t interval =
          int64_t{repo.catalog().FixityIntervalDays(copy.partner)} * repo::kMicrosPerDay;
      Status recorded =
          repo.catalog().SetReplicaState(copy.ref, other.site, repo::ReplicaState::kOk, now,
                                         now + interval, "found while repairing site " + copy.site);
      if (!recorded.ok()) {
        why += "; site " + other.site +
               ": its copy verifies but could not be recorded: " + recorded.ToString();
        continue;
      }
    }
    repo::SiteCopyItem item;
    item.ref = copy.ref;
    item.key = copy.key;
    item.name = copy.ref.kind == repo::ReplicaRef::Kind::kBlob ? "blob " + copy.sha256
                                                               : "tag file " + copy.path;
    item.sha256 = copy.sha256;
    item.size = copy.size;
    item.version_record = copy.path == "version.pb";
    item.target_verified_once = copy.verified_once;
    // A blob on the target is read back first, never removed unseen: kept if it
    // verifies now (repaired meanwhile), replaced through Site if still bad.
    repo::SiteCopyResult copied = repo::CopyAndVerify(**source, **target, item);
    if (!copied.status.ok()) {
      why += "; copy from site " + other.site + ": " + copied.status.ToString();
      if (copied.target_failed) {
        result.detail = "not repaired" + why;
        return result;
      }
      continue;
    }
    result.repaired = true;
    result.from_site = other.site;
    result.detail = "repaired from site " + other.site + " (" +
                    std::to_string(copied.bytes_written) +
                    " bytes written, read back and sha256 verified)" + found_by_key;
    if (!copied.made_room.empty()) result.detail += "; first " + copied.made_room;
    return result;
  }
  result.damaged = !some_unreadable;
  result.detail = result.damaged ? "DAMAGED: no other copy verifies" + why
                                 : "not repaired now: no readable good copy" + why;
  return result;
}

Finding MakeFinding(FindingKind kind, const Candidate& copy, const std::string& site,
                    std::string detail) {
  Finding f;
  f.kind = kind;
  f.partner = copy.partner;
  f.object = copy.object;
  f.version = copy.version;
  f.path = copy.path;
  f.site = site;
  f.sha256 = copy.sha256;
  f.detail = std::move(detail);
  return f;
}

proto::Event CopyEvent(const repo::EventType& type, const Candidate& copy,
                       const std::string& outcome, const std::string& detail,
                       const AuditOptions& options) {
  return repo::NewEvent(type, {.agent_version = options.agent_version,
                               .user = options.user,
                               .partner = copy.partner,
                               .object = copy.object,
                               .version = copy.version,
                               .file = copy.path,
                               .site = copy.site,
                               .outcome = outcome,
                               .detail = "sha256 " + copy.sha256 + ": " + detail});
}

}  // namespace cairn::audit::internal
