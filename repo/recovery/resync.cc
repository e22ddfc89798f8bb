// ResyncSite: make the site again if needed, queue one repair job per
// version it should hold, drain the queue in batches, record the outcome.
#include "repo/recovery/resync.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "repo/events/event_types.h"
#include "repo/events/segments.h"
#include "repo/recovery/resync_batch.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"
#include "repo/site/settings.h"
#include "repo/site/tombstone.h"
#include "repo/storage/retry_backend.h"

namespace cairn::repo {
namespace {

using resync_internal::ResyncItem;
using resync_internal::ResyncJob;

constexpr std::string_view kOwnerPrefix = "resync ";

std::string HostName() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

std::string OwnerName() {
  return std::string(kOwnerPrefix) + HostName() + " " + std::to_string(getpid());
}

// Opens the site, making it again (CAIRN-SITE, README.txt) when its marker
// is gone (a lost folder or a new bucket) and `init` allows it.
Result<Site*> OpenOrInit(Repository& repo, const std::string& name, bool init, bool* initialised) {
  Result<Site*> site = repo.OpenSite(name);
  if (site.ok() || !site.status().IsUnavailable()) return site;
  CAIRN_ASSIGN_OR_RETURN(SiteRecord record, repo.catalog().GetSite(name));
  if (!init) {
    return Status::Unavailable(
        site.status().message() +
        "; resync makes a site again only when asked: if this is the right place (not an "
        "unmounted share), run `cairn site resync " +
        name + " --init`" +
        (record.url.starts_with("s3://")
             ? " (or, if the bucket itself is gone, `cairn site resync " + name +
                   " --create-bucket`)"
             : ""));
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<StorageBackend> backend, OpenSiteBackend(record.url));
  Site::Owner owner;  // the new marker names this repository
  CAIRN_ASSIGN_OR_RETURN(owner.repository_id, repo.catalog().RepositoryId());
  Result<std::unique_ptr<Site>> made = Site::Init(std::move(backend), name, "", owner);
  if (!made.ok()) return made.status().WithContext("resync: cannot make site " + name + " again");
  *initialised = true;
  return repo.OpenSite(name);
}

// The jobs leased by resync runs on this host that no longer run go back to
// the queue at once (a killed run's leases would otherwise hold them for the
// whole lease time).
Status ReclaimDeadLeases(Catalog& catalog, const std::string& name) {
  JobFilter filter;
  filter.kind = proto::JOB_KIND_REPAIR;
  filter.target_site = name;
  CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, catalog.ListJobs(filter));
  const std::string mine = std::string(kOwnerPrefix) + HostName() + " ";
  for (const JobRecord& j : jobs) {
    if (j.state != "leased" || !j.lease_owner.starts_with(mine)) continue;
    pid_t pid = static_cast<pid_t>(std::atoll(j.lease_owner.c_str() + mine.size()));
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
      CAIRN_RETURN_IF_ERROR(catalog.ReleaseLeaseOf(j.id, j.lease_owner));
    }
  }
  return Status::OK();
}

// One job per version with any replica on the site; returns the replica count.
Result<uint64_t> EnqueueVersions(Catalog& catalog, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(SiteRecord site, catalog.GetSite(name));
  CAIRN_ASSIGN_OR_RETURN(std::vector<VersionRef> versions, catalog.VersionsWithReplicasOn(site.id));
  std::vector<proto::Job> jobs;
  for (const VersionRef& v : versions) {
    proto::Job job;
    job.set_kind(proto::JOB_KIND_REPAIR);
    job.set_partner(v.partner);
    job.set_object(v.object);
    job.set_version(v.version);
    job.set_target_site(name);
    jobs.push_back(std::move(job));
  }
  for (const proto::Job& job : jobs) CAIRN_RETURN_IF_ERROR(catalog.EnqueueJob(job).status());
  return catalog.CountReplicasOn(site.id);
}

proto::Event RecoveryEvent(Catalog& catalog, const ResyncOptions& options, const ResyncJob& job,
                           const std::string& site, const std::string& sources) {
  return NewEvent(kRecovery, {.agent_version = options.agent_version,
                              .user = options.user,
                              .partner = job.record.job.partner(),
                              .object = job.record.job.object(),
                              .version = job.record.job.version(),
                              .site = site,
                              .outcome = "success",
                              .detail = "site resync: " +
                                        VersionOnSiteText(catalog, job.record.job.partner(),
                                                          job.record.job.object(),
                                                          job.record.job.version(), site) +
                                        " again, restored from site " + sources +
                                        "; every copy read back and its sha256 verified"});
}

// Records a batch's outcome in the catalog: replica states of the copied
// items (one transaction per job), recovery events, job completion.
Status RecordBatch(Catalog& catalog, const ResyncOptions& options, const std::string& site,
                   int64_t site_id, std::vector<ResyncJob>& jobs, ResyncSummary* summary) {
  using Outcome = ResyncItem::Outcome;
  std::vector<proto::Event> events;
  for (ResyncJob& job : jobs) {
    ++summary->versions;
    if (!job.plan_error.ok()) {
      summary->errors.push_back(job.name + ": " + job.plan_error.message());
      Status retry = job.plan_error;
      CAIRN_RETURN_IF_ERROR(catalog.FailJob(job.record.id, retry.SetRetryable(true)));
      continue;
    }
    const int64_t now = catalog.clock().NowMicros();
    const int64_t due = now + int64_t{job.fixity_days} * kMicrosPerDay;
    uint64_t copied = 0, bytes = 0, failed = 0;
    std::string sources, first_error;
    std::vector<ReplicaRef> verified;  // their rows: ok as of now
    for (const ResyncItem& item : job.items) {
      if (item.outcome == Outcome::kDuplicate) continue;  // counted where it ran
      ++summary->items_checked;
      if (item.outcome == Outcome::kFailed) {
        ++failed;
        if (first_error.empty()) first_error = item.error;
        continue;
      }
      if (item.outcome == Outcome::kPresent) ++summary->present;
      if (item.outcome == Outcome::kCopied) {
        ++copied;
        bytes += item.copy.size;
        if (sources.find(item.source) == std::string::npos) {
          sources += (sources.empty() ? "" : ", ") + item.source;
        }
      }
      // Copied or verified by CopyAndVerify: ok as of now. Present by Stat
      // only (the replica was ok already): left as it was.
      if (item.outcome == Outcome::kPresent && item.target_state_ok) continue;
      verified.push_back(item.copy.ref);
    }
    CAIRN_RETURN_IF_ERROR(catalog.MarkReplicasVerified(site_id, verified, now, due));
    summary->copied += copied;
    summary->bytes_copied += bytes;
    summary->failed += failed;
    if (copied > 0) {
      ++summary->versions_repaired;
      events.push_back(RecoveryEvent(catalog, options, job, site, sources));
    }
    if (failed == 0) {
      CAIRN_RETURN_IF_ERROR(catalog.CompleteJob(job.record.id));
    } else {
      summary->errors.push_back(job.name + ": " + std::to_string(failed) +
                                " files not restored: " + first_error);
      Status why = Status::Unavailable(first_error);
      CAIRN_RETURN_IF_ERROR(catalog.FailJob(job.record.id, why));
    }
  }
  if (!events.empty()) CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(events).status());
  return Status::OK();
}

}  // namespace

Result<ResyncSummary> ResyncSite(Repository& repo, const std::string& name,
                                 const ResyncOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Repository::WriterLock> lock, repo.LockForWriting());
  const auto started = std::chrono::steady_clock::now();
  Catalog& catalog = repo.catalog();
  ResyncSummary summary;
  summary.site = name;
  CAIRN_ASSIGN_OR_RETURN(SiteRecord record, catalog.GetSite(name));
  // Every other site's log must be a prefix of the catalog's (as a deposit checks): a site
  // made again from a catalog put back from a backup would lack what the others hold, and get
  // the catalog's diverged log.
  std::string other;
  if (Status ahead = FirstSiteLogAheadOfCatalog(repo, name, /*runs_past_only=*/false, &other);
      !ahead.ok()) {
    std::string why = ahead.message();
    if (why.find("catalog rebuild") == std::string::npos) {
      why += "; a catalog put back from a backup? `cairn catalog rebuild --from " + other +
             " --force` brings it up to date first";
    }
    return Status::InvalidArgument("site resync " + name + " refused, nothing written: " + why);
  }
  CAIRN_ASSIGN_OR_RETURN(Site * target,
                         OpenOrInit(repo, name, options.init_site, &summary.initialised));
  CAIRN_RETURN_IF_ERROR(ReclaimDeadLeases(catalog, name));
  resync_internal::ProgressState progress;
  CAIRN_ASSIGN_OR_RETURN(progress.progress.items_total, EnqueueVersions(catalog, name));

  const std::string owner = OwnerName();
  JobFilter filter;
  filter.kind = proto::JOB_KIND_REPAIR;
  filter.target_site = name;
  // Repairs that failed before (a source site away, a full disk) wait out a backoff; the person
  // resyncing the site asks for them now (it opened above), so they are tried at once.
  CAIRN_RETURN_IF_ERROR(catalog.MakeQueuedJobsDueNow(filter).status());  // the site opened
  std::unordered_map<std::string, bool> handled;                         // key -> done ok, this run
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> leased,
                           catalog.LeaseJobs(16, options.lease_micros, owner, filter));
    if (leased.empty()) break;
    std::vector<ResyncJob> jobs(leased.size());
    for (size_t i = 0; i < leased.size(); ++i) {
      jobs[i].record = std::move(leased[i]);
      resync_internal::PlanJob(repo, name, &jobs[i]);
    }
    resync_internal::RunItems(repo, *target, jobs, options, &progress, &handled);
    CAIRN_RETURN_IF_ERROR(RecordBatch(catalog, options, name, record.id, jobs, &summary));
  }
  if (options.progress) options.progress(progress.progress);

  CAIRN_ASSIGN_OR_RETURN(FlushSummary flushed, FlushEventSegments(repo));
  for (const SiteFlush& s : flushed.sites) {
    summary.event_segments_written += s.segments_written;
    if (!s.error.empty())
      summary.errors.push_back("event segments, site " + s.site + ": " + s.error);
  }
  // The tombstones of withdrawn and purged versions: a site made again has none, and a catalog
  // rebuilt from it would know nothing of those versions (nor that their numbers are taken).
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> untombstoned, WriteEveryTombstone(repo));
  for (const std::string& u : untombstoned) {
    if (u.find(": " + name + ": ") != std::string::npos)
      summary.errors.push_back("tombstone, " + u);
  }
  CAIRN_ASSIGN_OR_RETURN(JobCounts left, catalog.CountJobs(filter));
  summary.jobs_left = left.queued + left.leased + left.failed;
  // What replication owes the site: copies queued before (a deposit while it was lost, a rebuilt
  // catalog's), waiting out their back-off, that the repairs above do not cover.
  lock.reset();  // Replicate takes it
  JobFilter owed;
  owed.kind = proto::JOB_KIND_REPLICATE;
  owed.target_site = name;
  CAIRN_RETURN_IF_ERROR(catalog.RetryJobsNow(owed).status());
  ReplicateRequest replicate;
  replicate.target_site = name;
  Result<ReplicateOutcome> replicated = Replicate(repo, replicate);
  if (!replicated.ok()) {
    summary.errors.push_back("replication to site " + name + ": " + replicated.status().message());
    summary.replication_left = 1;
  } else {
    summary.replicated = replicated->total.copies_made;
    summary.replication_left =
        replicated->left.queued + replicated->left.leased + replicated->left.failed;
    for (const std::string& e : replicated->total.errors) summary.errors.push_back(e);
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // A site made anew holds the settings again.
  summary.settings_warnings = SyncSettingsAfterChange(repo, name);
  return summary;
}

}  // namespace cairn::repo
