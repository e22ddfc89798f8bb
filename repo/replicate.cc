// DrainReplication: runs the replication jobs of the catalog queue, one worker
// per target site. Each job copies what the target lacks (blobs first, tag
// files, version.pb last), reads every copy back and re-hashes it, and only
// then records the replica as ok.
#include "repo/replicate.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "policies/policy.h"
#include "repo/events/event_types.h"
#include "repo/replicate_copy.h"
#include "repo/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

std::string JobName(const proto::Job& job) {
  return job.partner() + "/" + job.object() + "@v" + std::to_string(job.version());
}

class JobRunner {
 public:
  JobRunner(Repository& repo, ReplicationSummary* summary, std::mutex* mu)
      : repo_(repo), summary_(summary), mu_(mu) {}

  // Copies everything the job covers that the target lacks. Replicas copied
  // before a failure stay recorded as ok (a rerun skips them).
  Status Run(const proto::Job& job) {
    Catalog& catalog = repo_.catalog();
    CAIRN_ASSIGN_OR_RETURN(VersionInfo v,
                           catalog.GetVersion(job.partner(), job.object(), job.version(), false));
    CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> replicas, catalog.ReplicasOf(v.id));
    std::map<std::string, replicate_internal::CopyItem> items;  // by ref
    for (const ReplicaRecord& r : replicas) {
      std::string id = r.ref.kind == ReplicaRef::Kind::kBlob
                           ? "b" + r.ref.blob
                           : "t" + std::to_string(r.ref.tag_file_id);
      replicate_internal::CopyItem& item = items[id];
      item.ref = r.ref;
      item.sha256 = r.sha256;
      item.size = r.size;
      item.name = r.ref.kind == ReplicaRef::Kind::kBlob ? "blob " + r.sha256 : r.tag_name;
      if (r.ref.kind == ReplicaRef::Kind::kBlob) {
        item.key = layout::BlobKey(r.sha256);
      } else if (r.tag_name == layout::kVersionRecordName) {
        item.key = layout::VersionRecordKey(job.partner(), job.object(), job.version());
        item.version_record = true;
      } else {
        item.key = layout::TagFileKey(job.partner(), job.object(), job.version(), r.tag_name);
      }
      if (r.state == ReplicaState::kOk) item.ok_sites.push_back(r.site);
      if (r.site == job.target_site() && r.state == ReplicaState::kOk) item.target_ok = true;
    }
    std::vector<replicate_internal::CopyItem*> todo;
    for (auto& [id, item] : items) {
      if (item.target_ok) continue;
      if (!job.blob().empty() &&
          (item.ref.kind != ReplicaRef::Kind::kBlob || item.ref.blob != job.blob())) {
        continue;
      }
      if (!job.tag_file().empty() &&
          (item.ref.kind != ReplicaRef::Kind::kTagFile || item.name != job.tag_file())) {
        continue;
      }
      todo.push_back(&item);
    }
    // Blobs, then tag files, then version.pb: the record marks the version complete.
    std::stable_sort(todo.begin(), todo.end(), [](const auto* a, const auto* b) {
      auto rank = [](const replicate_internal::CopyItem* i) {
        return i->version_record ? 2 : i->ref.kind == ReplicaRef::Kind::kTagFile ? 1 : 0;
      };
      return rank(a) < rank(b);
    });
    if (todo.empty()) return Status::OK();

    CAIRN_ASSIGN_OR_RETURN(Site * target, repo_.OpenSite(job.target_site()));
    Result<proto::Policy> policy = catalog.EffectivePolicy(job.partner());
    uint32_t days = policy.ok() && policy->fixity().interval_days() > 0
                        ? policy->fixity().interval_days()
                        : policies::kDefaultFixityIntervalDays;
    uint64_t made = 0, present = 0, bytes = 0;
    std::string from_sites;
    for (replicate_internal::CopyItem* item : todo) {
      std::vector<std::string> sources = item->ok_sites;
      auto preferred = std::find(sources.begin(), sources.end(), job.source_site());
      if (preferred != sources.end()) std::rotate(sources.begin(), preferred, preferred + 1);
      Status last = Status::NotFound("no site holds a good copy of " + item->name);
      bool done = false;
      for (const std::string& source_name : sources) {
        if (source_name == job.target_site()) continue;
        Result<Site*> source = repo_.OpenSite(source_name);
        if (!source.ok()) {
          last = source.status();
          continue;
        }
        replicate_internal::CopyResult result =
            replicate_internal::CopyAndVerify(**source, *target, *item);
        if (result.status.ok()) {
          done = true;
          (result.already_present ? present : made) += 1;
          bytes += result.bytes_written;
          if (from_sites.find(source_name) == std::string::npos) {
            from_sites += (from_sites.empty() ? "" : ", ") + source_name;
          }
          break;
        }
        last = result.status;
        if (result.target_failed) break;  // another source would not help
      }
      if (!done) return last.WithContext(item->name);
      int64_t now = catalog.clock().NowMicros();
      CAIRN_RETURN_IF_ERROR(catalog.SetReplicaState(item->ref, job.target_site(), ReplicaState::kOk,
                                                    now, now + int64_t{days} * kMicrosPerDay));
    }
    proto::Event event;
    event.set_type(std::string(kReplication.label));
    event.set_type_uri(EventTypeUri(kReplication));
    event.set_agent("cairn");
    event.set_partner(job.partner());
    event.set_object(job.object());
    event.set_version(job.version());
    event.set_site(job.target_site());
    event.set_outcome("success");
    event.set_detail("copied " + std::to_string(made) + " files (" + std::to_string(bytes) +
                     " bytes) from site " + from_sites + " to site " + job.target_site() +
                     (present ? ", " + std::to_string(present) + " already there" : "") +
                     "; every copy read back and its sha256 verified");
    std::vector<proto::Event> events = {event};
    CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(events).status());
    std::lock_guard<std::mutex> lock(*mu_);
    summary_->copies_made += made;
    summary_->copies_verified_present += present;
    summary_->bytes_copied += bytes;
    return Status::OK();
  }

 private:
  Repository& repo_;
  ReplicationSummary* summary_;
  std::mutex* mu_;
};

}  // namespace

Result<ReplicationSummary> DrainReplication(Repository& repo, const ReplicationFilter& filter,
                                            const ReplicationOptions& options) {
  std::string owner = options.owner.empty() ? "cairn " + std::to_string(getpid()) : options.owner;
  JobFilter jobs_filter;
  jobs_filter.kind = proto::JOB_KIND_REPLICATE;
  jobs_filter.partner = filter.partner;
  jobs_filter.object = filter.object;
  jobs_filter.target_site = filter.target_site;
  ReplicationSummary summary;
  std::mutex mu;
  Status catalog_error;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs,
                           repo.catalog().LeaseJobs(64, options.lease_micros, owner, jobs_filter));
    if (jobs.empty()) break;
    std::map<std::string, std::vector<const JobRecord*>> by_target;
    for (const JobRecord& j : jobs) by_target[j.job.target_site()].push_back(&j);
    std::vector<std::thread> workers;
    for (auto& [target, list] : by_target) {
      workers.emplace_back([&, list = list] {
        JobRunner runner(repo, &summary, &mu);
        for (const JobRecord* j : list) {
          Status s = runner.Run(j->job);
          Status recorded;
          if (s.ok()) {
            recorded = repo.catalog().CompleteJob(j->id);
          } else {
            // Any failure may heal (a site back up, a permission fixed): the
            // catalog's backoff bounds the retries.
            Status retry = s;
            retry.SetRetryable(true);
            recorded = repo.catalog().FailJob(j->id, retry);
          }
          std::lock_guard<std::mutex> lock(mu);
          if (s.ok()) {
            ++summary.jobs_done;
          } else {
            ++summary.jobs_failed;
            summary.errors.push_back("site " + j->job.target_site() + ": " + JobName(j->job) +
                                     ": " + s.message());
          }
          if (!recorded.ok() && catalog_error.ok()) catalog_error = recorded;
        }
      });
    }
    for (std::thread& t : workers) t.join();
    if (!catalog_error.ok()) return catalog_error;
  }
  return summary;
}

}  // namespace cairn::repo
