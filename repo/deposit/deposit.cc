// Deposit: checks the request, runs the ingest driver for the source kind,
// applies the partner's policy, commits, then replicates (deposit.h).
#include "repo/deposit/deposit.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "bagit/profile.h"
#include "bagit/time_text.h"
#include "policies/policy.h"
#include "repo/catalog/inventory.h"
#include "repo/crash_point.h"
#include "repo/deposit/deposit_commit.h"
#include "repo/deposit/deposit_scratch.h"
#include "repo/deposit/deposit_source.h"
#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/replicate/replicate.h"
#include "repo/run_pool.h"
#include "repo/site/catalog_behind.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

const std::string& SourceName(const DepositRequest& req) {
  return req.source_name.empty() ? req.source : req.source_name;
}

using namespace deposit_internal;

// The policy's rules beyond RFC 8493 and the profile.
void CheckPolicy(const proto::Policy& policy, const std::string& partner, Ingest* ingest) {
  for (const std::string& label : policy.required_bag_info()) {
    if (ingest->contents->bag_info.Values(label).empty()) {
      ingest->report.Error("bag-info.txt", "policy.required-bag-info",
                           "the policy of partner " + partner + " requires the field '" + label +
                               "'" + (ingest->kind == "folder" ? " (add it with --info)" : ""));
    }
  }
  if (policy.algorithms_size() > 0) {
    bagit::AlgorithmSet have = ingest->contents->manifests->algorithms();
    bool ok = false;
    std::string wanted;
    for (const std::string& name : policy.algorithms()) {
      std::optional<bagit::Algorithm> a = bagit::ParseAlgorithm(name);
      if (a && bagit::Has(have, *a)) ok = true;
      wanted += (wanted.empty() ? "" : ", ") + name;
    }
    if (!ok) {
      ingest->report.Error("", "policy.algorithm",
                           "the policy of partner " + partner +
                               " requires a payload manifest for one of: " + wanted);
    }
  }
  // Cairn's own names in a version folder: restore and the site README drop the
  // files that cairn-added.txt lists, so a depositor's file of that name would
  // make them drop the depositor's own tag files; cairn-empty-folders.txt is
  // Cairn's list of the bag's empty folders.
  for (const StagedTagFile& t : ingest->tags) {
    if (t.name == layout::kCairnAddedListName) {
      ingest->report.Error(std::string(layout::kCairnAddedListName), "tag.reserved-name",
                           "Cairn reserves this tag file name to list the tag files it adds; "
                           "rename it in the bag");
    } else if (t.name == layout::kEmptyFoldersListName) {
      ingest->report.Error(std::string(layout::kEmptyFoldersListName), "tag.reserved-name",
                           "Cairn reserves this tag file name to list a bag's empty folders; "
                           "rename it in the bag");
    }
  }
}

// The deposit's refusal when the policy that applies to the partner cannot be used (`why`: its
// stored text, or the BagIt profile it names, cannot be read): the consortium's configuration,
// not the deposit, is at fault. The operator is told `why` (it names the server's files) and
// what fixes it; anyone else, who can fix none of it, that the operator must, without the
// server's paths or a byte of the file. Errors that are not the policy's pass as they are.
Status PolicyUnusable(const DepositRequest& req, const Status& why) {
  const bool profile = why.message().find("bagit_profile") != std::string::npos;
  if (!profile && why.code() != Code::kInvalidArgument) return why;
  const std::string whose = "partner " + req.partner + "'s policy ";
  if (req.role == RoleName(Role::kOperator)) {
    return Status::InvalidArgument(
        whose + (profile ? "names a BagIt profile that cannot be read (" : "cannot be read (") +
        why.message() +
        "): nothing was stored; set a policy that can be read with "
        "`cairn policy set FILE --partner " +
        req.partner + "` (or fix the file it names)");
  }
  return Status::InvalidArgument(
      whose + (profile ? "names a BagIt profile the server cannot read" : "cannot be read") +
      ": the consortium's operator must fix it; nothing was stored");
}

// A deposit that failed before its catalog commit because its first site `site` could not take
// it (full, not mounted or gone, its gateway down, read-only, an I/O error) is `why` with what
// the depositor needs to know: nothing was stored (the commit is the visibility point, and what
// the deposit wrote is taken back or left to gc), and the way forward, then the same command
// again. An operator is pointed to `cairn site check`; anyone else to the consortium's operator.
// Errors that do not name the site pass as they are.
Status FirstSiteCouldNotTake(const DepositRequest& req, const std::string& site,
                             const Status& why) {
  if (why.ok() || why.message().find("site " + site + ":") == std::string::npos) return why;
  const bool for_operator = req.role == RoleName(Role::kOperator);
  const std::string check = for_operator ? " (`cairn site check " + site + "` tells)" : "";
  std::string step;
  switch (why.code()) {
    case Code::kNoSpace:
      step = for_operator ? "free space on site " + site + check + ", then"
                          : "once the consortium's operator has freed space on site " + site + ",";
      break;
    case Code::kUnavailable:
      step = for_operator ? "once site " + site + " is back" + check + ","
                          : "once the consortium's operator has site " + site + " back,";
      break;
    case Code::kPermissionDenied:
    case Code::kIOError:
      step = for_operator ? "once site " + site + " takes writes again" + check + ","
                          : "once the consortium's operator has site " + site + " taking writes,";
      break;
    default:
      return why;
  }
  return Status(why.code(),
                why.message() + "; nothing was stored: " + step + " run the same command again")
      .SetRetryable(why.retryable());
}

// The next version number of partner/object; REQUIRES: the object's lock is
// held. Past the catalog's latest and past every version.pb on a reachable
// site, so an acknowledged version the catalog lost (a rebuild from a site
// that lacks it) is never written over: numbers may then have gaps. So is a
// withdrawn one (a tombstone on a site), purged or not. A number
// a killed deposit marked pending, which the catalog does not hold, was never
// acknowledged: its folders are removed first and the number can be reused.
// Folders without version.pb at or past the chosen number (leftovers of killed
// deposits) are removed, so they never leak into the new version.
Result<uint32_t> ChooseVersionNumber(Repository& repo, const std::vector<SiteRecord>& sites,
                                     const std::string& partner, const std::string& object) {
  CAIRN_ASSIGN_OR_RETURN(uint32_t next, repo.catalog().NextVersion(partner, object));
  const uint32_t catalog_next = next;
  std::vector<std::pair<std::string, Site*>> reachable;  // (name, site)
  for (const SiteRecord& record : sites) {
    Result<Site*> site = repo.OpenSite(record.name);
    if (site.ok()) reachable.emplace_back(record.name, *site);  // an unreachable one is not written
  }
  if (std::optional<Repository::PendingVersion> pending = repo.GetPendingVersion(partner, object)) {
    if (pending->version >= next) {
      for (const auto& [name, site] : reachable) {
        Status removed = site->RemoveUnacknowledgedVersion(partner, object, pending->version,
                                                           pending->record_sha256);
        if (!removed.ok() && !removed.IsAlreadyExists()) return removed;  // complete: skipped below
      }
    }
    CAIRN_RETURN_IF_ERROR(repo.ClearVersionPending(partner, object));
  }
  std::vector<std::pair<Site*, std::vector<Site::VersionFolder>>> held;
  for (const auto& [name, site] : reachable) {
    Result<std::vector<Site::VersionFolder>> folders = site->ListVersionFolders(partner, object);
    if (!folders.ok()) continue;
    for (const Site::VersionFolder& f : *folders) {
      // A tombstone takes its number for good, purged or not (the catalog may have lost the
      // withdrawal: a rebuild from a site that never got the tombstone).
      if (f.complete || f.withdrawn) next = std::max(next, f.version + 1);
    }
    held.emplace_back(site, std::move(folders).value());
  }
  if (next > catalog_next) {
    // A complete version the catalog does not know: the catalog is behind the sites (a backup
    // put back). Stored on top of it, the new version's events would take numbers the sites'
    // logs hold for others, and a catch-up rebuild from a site would lose them.
    CAIRN_RETURN_IF_ERROR(
        RefuseIfCatalogBehind(repo, partner, object, "a new version of " + partner + "/" + object));
  }
  // The same for any object, a new one too, told by the sites' event logs: a site whose log
  // runs past the catalog's (or disagrees with it) would refuse this deposit's events.
  for (const auto& [name, site] : reachable) {
    Result<SiteLogPosition> log = CheckSiteLogFollowsCatalog(repo.catalog(), *site, name, "");
    // Only the two disagreements, not a site that is down or a segment that rotted (the
    // auditor's to repair; the flush reports it).
    if (!log.ok() && log.status().code() == Code::kInvalidArgument) {
      return Status::AlreadyExists("the deposit of " + partner + "/" + object +
                                   " refused, nothing stored: " + log.status().message());
    }
  }
  for (const auto& [site, folders] : held) {
    for (const Site::VersionFolder& f : folders) {
      if (f.complete || f.withdrawn || f.version < next) continue;
      CAIRN_RETURN_IF_ERROR(site->RemoveUnacknowledgedVersion(partner, object, f.version, ""));
    }
  }
  return next;
}

// Deposit without its last step (the new events to the sites' logs).
Result<DepositOutcome> StoreDeposit(Repository& repo, const DepositRequest& req) {
  DepositOutcome out;
  Catalog& catalog = repo.catalog();
  Result<PartnerRecord> partner = catalog.GetPartner(req.partner);
  if (!partner.ok()) {
    if (!partner.status().IsNotFound()) return partner.status();
    out.refused = true;
    out.report.bag = SourceName(req);
    out.report.Error("", "partner.unknown",
                     "no partner '" + req.partner + "' in the catalog (cairn partner add)");
    return out;
  }
  CAIRN_ASSIGN_OR_RETURN(SourceKind kind, DetectSource(req.source));
  if (req.as_folder) {
    if (kind == SourceKind::kArchive) {
      return Status::InvalidArgument(req.source +
                                     ": --as-folder applies to a folder, not an archive");
    }
    kind = SourceKind::kFolder;
  }
  std::string object = req.object_id;
  if (object.empty()) {
    CAIRN_ASSIGN_OR_RETURN(object, ObjectIdFromSource(req.source));
  } else {
    CAIRN_RETURN_IF_ERROR(layout::ValidateObjectId(object));
  }
  if (!req.info.empty() && kind != SourceKind::kFolder) {
    return Status::InvalidArgument(
        "--info applies only to a folder Cairn bags; a bag's bag-info.txt is kept byte for byte");
  }
  Result<proto::Policy> effective = catalog.EffectivePolicy(req.partner);
  if (!effective.ok()) return PolicyUnusable(req, effective.status());
  const proto::Policy& policy = *effective;
  std::optional<bagit::Profile> profile;
  if (!policy.bagit_profile().empty()) {
    Result<bagit::Profile> loaded = bagit::Profile::Load(policy.bagit_profile());
    if (!loaded.ok()) return PolicyUnusable(req, loaded.status().WithContext("bagit_profile"));
    profile = std::move(*loaded);
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<SiteRecord> sites, catalog.ListSites());
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> plan, PlanCopySites(policy, sites));
  // A wait for a lock cut short by the deposit's signal (SetLockWaitCancel) stored nothing.
  auto waited = [](const Status& s) {
    return s.code() != Code::kAborted
               ? s
               : Status::Aborted(s.message() +
                                 ": nothing was stored; run the same command again to deposit");
  };
  Result<std::unique_ptr<Repository::WriterLock>> writers = repo.LockForWriting();
  if (!writers.ok()) return waited(writers.status());
  std::unique_ptr<Repository::WriterLock> lock = std::move(writers).value();
  // One deposit of an object at a time: the version number and its tag files are ours.
  Result<std::unique_ptr<Repository::WriterLock>> object_lock =
      repo.LockObject(req.partner, object);
  if (!object_lock.ok()) return waited(object_lock.status());
  Result<Site*> first_site = repo.OpenSite(plan[0]);
  if (!first_site.ok()) {
    return FirstSiteCouldNotTake(req, plan[0], WithMarkerNextStep(plan[0], first_site.status()));
  }
  Site* first = *first_site;
  CAIRN_ASSIGN_OR_RETURN(uint32_t version, ChooseVersionNumber(repo, sites, req.partner, object));

  // The deposit's per-file lists go to a scratch file; those a killed deposit left go first.
  DepositScratch::CleanupStale(repo.root());
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<DepositScratch> scratch,
                         DepositScratch::Create(repo.root()));
  IngestTarget target;
  target.first = first;
  target.site_name = plan[0];
  // Verified, never trusted: a blob the catalog calls ok is read back (a
  // page-cache read for a small one) before the depositor's bytes are dropped.
  target.blob_stored = [&catalog, &plan, first](const std::string& sha256) {
    Result<std::optional<ReplicaState>> state = catalog.BlobOnSite(sha256, plan[0]);
    if (!state.ok() || !*state || **state != ReplicaState::kOk) return false;
    // Reused by this version: kept locked as long as a new write would be
    // (else the bytes are written again, and CommitBlob says why not).
    return first->VerifyBlob(sha256).ok() && first->ExtendBlobRetention(sha256).ok();
  };
  target.threads = req.threads ? req.threads : IoWorkers(std::thread::hardware_concurrency());
  target.profile = profile ? &*profile : nullptr;
  target.manifest_memory_bytes = req.manifest_memory_bytes;
  target.blobs_likely_stored = version > 1;
  target.cancel = req.cancel;
  if (req.progress) {
    target.on_file_stored = [&req](uint64_t files, uint64_t bytes) {
      req.progress(DepositProgress{DepositProgress::Phase::kStore, files, bytes});
    };
  }

  // The driver chooses where the bag's manifests are indexed (ChooseManifestIndex).
  Ingest ingest(std::move(scratch));
  Status run;
  int64_t now = catalog.clock().NowMicros();
  switch (kind) {
    case SourceKind::kFolder: {
      FolderBagging bagging;
      bagging.info = req.info;
      bagging.allow_empty = req.allow_empty;
      for (const std::string& name : policy.algorithms()) {
        if (auto a = bagit::ParseAlgorithm(name)) bagging.algorithms |= bagit::Only(*a);
      }
      bagging.agent = req.agent_version.empty() ? "Cairn" : "Cairn " + req.agent_version;
      bagging.bagging_date = FormatUtc(now, TimeText::kDate);
      run = IngestFolder(req.source, bagging, target, &ingest);
      break;
    }
    case SourceKind::kBagDirectory:
      run = IngestBagDirectory(req.source, target, &ingest);
      break;
    case SourceKind::kArchive:
      run = IngestArchive(req.source, target, &ingest);
      break;
  }
  if (run.ok()) run = ingest.contents->manifests->status();
  // Stopped at the last safe point before the commit: every file stored and checked.
  PausePoint("deposit.before-commit", req.cancel);
  if (run.ok() && req.cancel != nullptr && req.cancel->load()) run = Interrupted();
  out.manifest_index_in_memory = ingest.manifest_index_in_memory;
  if (run.ok() && ingest.report.valid()) CheckPolicy(policy, req.partner, &ingest);
  if (!run.ok() || !ingest.report.valid()) {
    // The damaged blobs this deposit replaced stay replaced: say so.
    std::vector<proto::Event> repairs =
        BlobRepairEvents(ingest.repairs, req.partner, object, 0, plan[0], EventUser(req.depositor),
                         req.role, req.agent_version);
    if (!repairs.empty()) (void)catalog.AppendEvents(repairs);
    AbandonIngest(catalog, *first, *lock, &ingest);
    if (!run.ok()) return FirstSiteCouldNotTake(req, plan[0], run);
    out.refused = true;
    out.report = std::move(ingest.report);
    return out;
  }

  CommitPlan commit;
  commit.partner = req.partner;
  commit.object = object;
  commit.version = version;
  commit.depositor = EventUser(req.depositor);
  commit.agent_version = req.agent_version;
  commit.source = SourceName(req);
  commit.role = req.role;
  commit.profile =
      profile ? (profile->identifier().empty() ? policy.bagit_profile() : profile->identifier())
              : "";
  commit.first_site = plan[0];
  commit.replicate_to.assign(plan.begin() + 1, plan.end());
  commit.created_micros = now;
  uint32_t days = policies::FixityIntervalDays(policy);
  commit.fixity_interval_micros = int64_t{days} * kMicrosPerDay;
  {
    CopyRule rule = CopyRule::FromPolicy(policy, sites);
    commit.listed_rule = NewVersion::CountedSites{std::move(rule.site_ids), rule.distinct_regions};
  }
  if (req.progress) {
    req.progress(
        DepositProgress{DepositProgress::Phase::kCommit, ingest.file_count, ingest.payload_bytes});
  }
  CommitSummary summary;
  // Marked before anything of the version reaches the site, and again with
  // version.pb's digest just before it is committed: a deposit killed before
  // the catalog commit leaves a number the next deposit takes back (removing
  // only the version.pb marked).
  std::string record_sha256;
  commit.before_version_record = [&](const std::string& sha256) {
    record_sha256 = sha256;
    return repo.MarkVersionPending(req.partner, object, {version, sha256});
  };
  Status marked = repo.MarkVersionPending(req.partner, object, {version, ""});
  Result<int64_t> version_id =
      marked.ok() ? CommitVersion(catalog, *first, commit, &ingest, &summary) : marked;
  if (!version_id.ok()) {
    // Take back what this run wrote (its version.pb first); a version.pb
    // that is not this run's is a complete version the Site leaves alone.
    Status removed = marked.ok() ? first->RemoveUnacknowledgedVersion(req.partner, object, version,
                                                                      record_sha256)
                                 : Status::OK();
    if (removed.ok() || !summary.wrote_version_record) {
      (void)repo.ClearVersionPending(req.partner, object);
    }
    std::vector<proto::Event> repairs =
        BlobRepairEvents(ingest.repairs, req.partner, object, 0, plan[0], commit.depositor,
                         req.role, req.agent_version);
    if (!repairs.empty()) (void)catalog.AppendEvents(repairs);
    AbandonIngest(catalog, *first, *lock, &ingest);
    return FirstSiteCouldNotTake(req, plan[0], version_id.status());
  }
  ingest.committed = true;
  Status cleared = repo.ClearVersionPending(req.partner, object);
  PausePoint("deposit.committed", req.cancel);

  Receipt receipt;
  receipt.partner = req.partner;
  receipt.object = object;
  receipt.version = version;
  receipt.source = SourceName(req);
  receipt.source_kind = ingest.kind;
  receipt.files = ingest.file_count;
  receipt.bytes = summary.payload_bytes;
  receipt.bytes_stored = ingest.bytes_written;
  receipt.blobs_reused = ingest.blobs_reused;
  if (ingest.blobs_reused > 0) {
    // Counted from the partner's side: content only another partner held is new to it
    // (stored once on the site all the same). The deposit is stored either way; without
    // the count, the receipt says the bytes of every file.
    Result<Catalog::PartnerNewBlobs> fresh = catalog.CountBlobsNewToPartner(*version_id);
    receipt.bytes_stored = fresh.ok() ? fresh->bytes : ingest.payload_bytes;
    receipt.blobs_reused = fresh.ok() ? ingest.file_count - fresh->blobs : 0;
  }
  receipt.cairn_added_sha256_manifest =
      std::find(summary.cairn_added.begin(), summary.cairn_added.end(),
                layout::kSha256ManifestName) != summary.cairn_added.end();
  receipt.first_site = plan[0];
  receipt.copies_wanted = static_cast<uint32_t>(plan.size());
  for (const StagedTagFile& t : ingest.tags) {
    std::optional<bagit::Algorithm> a;
    bagit::TagKind k = bagit::ClassifyTagFile(t.name, &a);
    if (k == bagit::TagKind::kTagManifest || t.name == "manifest-sha256.txt") {
      receipt.manifest_digests.emplace_back(t.name, t.sha256);
    }
  }
  out.report = std::move(ingest.report);  // warnings only
  // Only the operator is told the errors (they name the server's paths, the sites' URLs) and the
  // commands of the repository's host; a partner's principal, who can run none of them, is
  // told the sites by name and who sees to them.
  const bool for_operator = req.role == RoleName(Role::kOperator);
  if (!cleared.ok()) {
    receipt.warnings.push_back(
        "deposited, but " +
        (for_operator ? cleared.message() + ": remove that file by hand"
                      : std::string("the server could not remove its note of this deposit in "
                                    "progress: the consortium's operator must remove it")) +
        " before the next deposit of " + req.partner + "/" + object);
  }
  // What the ingest held per file is in the catalog now: free it before replicating.
  ingest.contents.reset();
  ingest.scratch.reset();
  ingest.tags.clear();

  std::string replication_error;
  bool replicated = false;
  if (req.replicate && plan.size() > 1) {
    replicated = true;
    if (req.progress) {
      req.progress(
          DepositProgress{DepositProgress::Phase::kReplicate, receipt.files, ingest.payload_bytes});
    }
    ReplicationFilter filter;
    filter.partner = req.partner;
    filter.object = object;
    ReplicationOptions options;
    options.cancel = req.cancel;
    Result<ReplicationSummary> drained = DrainReplication(repo, filter, options);
    if (!drained.ok()) {
      replication_error = drained.status().message();
    } else if (for_operator) {
      for (const std::string& e : drained->errors) receipt.warnings.push_back(e);
    }
  }
  if (!replicated && summary.new_items) {
    // Nothing of the version was in the catalog before it: each of its items
    // is on the first site and nowhere else (no pass over its files to count).
    const uint64_t items = *summary.new_items;
    for (const std::string& site : plan) {
      const uint64_t ok = site == plan[0] ? items : 0;
      receipt.copies.push_back(SiteCopies{site, ok, items - ok, ""});
    }
  } else {
    CAIRN_RETURN_IF_ERROR(FillCopies(catalog, *version_id, plan, &receipt, now));
    // What `cairn list` shows for this version, kept now while its rows are in
    // the cache (a pass over its files like FillCopies'): the first list after
    // many deposits would otherwise make that pass for each. Best effort: the
    // deposit is stored either way, and the list computes what is not kept.
    // (The commit kept it too, but replication may have changed it since.)
    (void)KeepListedCopies(catalog, req.partner, *version_id);
  }
  if (!replication_error.empty() && for_operator) receipt.warnings.push_back(replication_error);
  for (const SiteCopies& c : receipt.copies) {
    if (c.pending == 0) continue;
    // A site without its marker (an unmounted share, a lost site) takes no copy whatever
    // replicate retries: the way forward (an operator's) is to mount it or make it again.
    std::string who = !for_operator   ? std::string("queued; ") + kPendingCopiesByOperator
                      : req.replicate ? "queued; cairn replicate retries them"
                                      : "--no-replicate: run cairn replicate";
    if (for_operator) {
      Result<Site*> open = repo.OpenSite(c.site);
      const Status why = open.ok() ? Status::OK() : WithMarkerNextStep(c.site, open.status());
      if (!open.ok() && why.message() != open.status().message()) {
        who = "queued, but no copy reaches it until it is mounted or made again: " + why.message();
      }
    }
    receipt.warnings.push_back("site " + c.site + ": " + std::to_string(c.pending) +
                               " copies pending (" + who + ")");
  }
  if (req.cancel != nullptr && req.cancel->load()) {
    for (const SiteCopies& c : receipt.copies) out.interrupted = out.interrupted || c.pending > 0;
  }
  out.receipt = std::move(receipt);
  return out;
}

}  // namespace

Result<DepositOutcome> Deposit(Repository& repo, const DepositRequest& req) {
  Result<DepositOutcome> out = StoreDeposit(repo, req);
  if (!out.ok()) return out;
  // After the locks are released: the new events go to every site's log.
  if (req.progress) req.progress(DepositProgress{DepositProgress::Phase::kEvents, 0, 0});
  out->events = FlushNewEvents(repo, Readmes::kBringUpToDate);
  return out;
}

Status FillCopies(Catalog& catalog, int64_t version_id, const std::vector<std::string>& plan,
                  Receipt* receipt, std::optional<int64_t> since_micros) {
  // Counts, not rows: a version of 200,000 files must not be loaded to be counted.
  CAIRN_ASSIGN_OR_RETURN(std::vector<VersionCopyCounts> counts,
                         CountVersionCopies(catalog, version_id));
  CAIRN_ASSIGN_OR_RETURN(uint64_t items, CountVersionItems(catalog, version_id));
  receipt->copies.clear();
  for (const std::string& site : plan) {
    SiteCopies copies;
    copies.site = site;
    for (const VersionCopyCounts& c : counts) {
      if (c.site == site) copies.ok = c.ok;
    }
    copies.pending = items - std::min<uint64_t>(copies.ok, items);
    receipt->copies.push_back(std::move(copies));
  }
  if (!since_micros) return Status::OK();
  std::optional<std::vector<std::pair<std::string, uint64_t>>> known;
  for (SiteCopies& copies : receipt->copies) {
    if (copies.pending == 0) continue;  // every item is there: the count tells nothing more
    if (!known) {
      CAIRN_ASSIGN_OR_RETURN(known, catalog.CountCopiesVerifiedSince(version_id, *since_micros));
    }
    copies.ok = 0;
    for (const auto& [site, n] : *known) {
      if (site == copies.site) copies.ok = std::min<uint64_t>(n, items);
    }
    copies.pending = items - copies.ok;
  }
  return Status::OK();
}

}  // namespace cairn::repo
