// Site resync, one batch: planning the items of leased jobs from the catalog
// and checking/copying them on a few threads.
#include "repo/recovery/resync_batch.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "policies/policy.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo::resync_internal {
namespace {

using Outcome = ResyncItem::Outcome;

// Stat says the item is there with the right size.
Result<bool> PresentWithSize(Site& target, const ResyncItem& item) {
  Result<ObjectInfo> info = target.Stat(item.copy.key);
  if (info.ok()) return info->size == item.copy.size;
  if (info.status().IsNotFound()) return false;
  return info.status();
}

void RunOne(Repository& repo, Site& target, const std::string& target_name, ResyncItem* item) {
  if (item->target_state_ok) {
    Result<bool> present = PresentWithSize(target, *item);
    if (!present.ok()) {
      item->outcome = Outcome::kFailed;
      item->error = present.status().WithContext("site " + target_name).message();
      return;
    }
    if (*present) {
      item->outcome = Outcome::kPresent;
      return;
    }
  }
  std::string last = "no other site holds a good copy of " + item->copy.name;
  // The sites whose copy the catalog records as ok, then (once those failed) the others, asked
  // by the item's key.
  std::vector<std::string> sources = item->copy.ok_sites;
  const size_t recorded = sources.size();
  for (size_t i = 0; i < sources.size() || i == recorded; ++i) {
    if (i == recorded) {
      Result<std::vector<std::string>> ask =
          SitesToAskByKey(repo.catalog(), item->copy.ok_sites, target_name);
      if (ask.ok()) sources.insert(sources.end(), ask->begin(), ask->end());
      if (i == sources.size()) break;
    }
    const std::string source_name = sources[i];
    if (source_name == target_name) continue;
    Result<Site*> source = repo.OpenSite(source_name);
    if (!source.ok()) {
      last = source.status().message();
      continue;
    }
    SiteCopyResult r = CopyAndVerify(**source, target, item->copy);
    if (r.status.ok()) {
      item->outcome = r.already_present ? Outcome::kPresent : Outcome::kCopied;
      item->source = source_name;
      if (i >= recorded && !r.already_present) {
        // Copied, read back and verified: the source's copy is good, due for the auditor now.
        const int64_t now = repo.clock().NowMicros();
        // Not recorded (a catalog error): the orphans pass names it and replicate records it.
        (void)repo.catalog().SetReplicaState(
            item->copy.ref, source_name, ReplicaState::kOk, now, now,
            "found by its key while resyncing site " + target_name);
      }
      return;
    }
    if (i < recorded || !r.status.IsNotFound()) last = r.status.message();
    if (r.target_failed) break;
  }
  item->outcome = Outcome::kFailed;
  item->error = item->copy.name + ": " + last;
}

// Runs `work` (pointers into jobs) on up to `threads` threads.
void RunPool(Repository& repo, Site& target, const std::string& target_name,
             const std::vector<ResyncItem*>& work, unsigned threads, const ResyncOptions& options,
             ProgressState* progress) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      RunOne(repo, target, target_name, work[i]);
      std::lock_guard<std::mutex> lock(progress->mu);
      ResyncProgress& p = progress->progress;
      ++p.items_done;
      if (work[i]->outcome == Outcome::kCopied) {
        ++p.copied;
        p.bytes_copied += work[i]->copy.size;
      }
      if (options.progress && (p.items_done % 256 == 0)) options.progress(p);
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(work.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
}

}  // namespace

void PlanJob(Repository& repo, const std::string& target, ResyncJob* job) {
  const proto::Job& j = job->record.job;
  job->name = j.partner() + "/" + j.object() + "@v" + std::to_string(j.version());
  Catalog& catalog = repo.catalog();
  Result<VersionInfo> v = catalog.GetVersion(j.partner(), j.object(), j.version(), false);
  if (!v.ok()) {
    job->plan_error = v.status();
    return;
  }
  Result<std::vector<ReplicaRecord>> replicas = catalog.ReplicasOf(v->id);
  if (!replicas.ok()) {
    job->plan_error = replicas.status();
    return;
  }
  job->fixity_days = catalog.FixityIntervalDays(j.partner());
  std::map<std::string, ResyncItem> items;  // by ref
  std::set<std::string> on_target;
  for (const ReplicaRecord& r : *replicas) {
    const bool blob = r.ref.kind == ReplicaRef::Kind::kBlob;
    const std::string id = blob ? "b" + r.ref.blob : "t" + std::to_string(r.ref.tag_file_id);
    ResyncItem& item = items[id];
    SiteCopyItem& c = item.copy;
    c.ref = r.ref;
    c.sha256 = r.sha256;
    c.size = r.size;
    c.name = blob ? "blob " + r.sha256 : r.tag_name;
    if (blob) {
      c.key = layout::BlobKey(r.sha256);
    } else if (r.tag_name == layout::kVersionRecordName) {
      c.key = layout::VersionRecordKey(j.partner(), j.object(), j.version());
      c.version_record = true;
    } else {
      c.key = layout::TagFileKey(j.partner(), j.object(), j.version(), r.tag_name);
    }
    if (r.site == target) {
      on_target.insert(id);
      item.target_state_ok = r.state == ReplicaState::kOk;
      c.target_verified_once = r.last_verified_micros > 0;
    } else if (r.state == ReplicaState::kOk) {
      c.ok_sites.push_back(r.site);
    }
  }
  for (auto& [id, item] : items) {
    if (!on_target.count(id)) continue;
    if (!j.blob().empty() && item.copy.ref.blob != j.blob()) continue;
    if (!j.tag_file().empty() &&
        (item.copy.ref.kind != ReplicaRef::Kind::kTagFile || item.copy.name != j.tag_file())) {
      continue;
    }
    // The job's source site first, when it holds a good copy.
    auto& sites = item.copy.ok_sites;
    auto preferred = std::find(sites.begin(), sites.end(), j.source_site());
    if (preferred != sites.end()) std::rotate(sites.begin(), preferred, preferred + 1);
    job->items.push_back(std::move(item));
  }
}

void RunItems(Repository& repo, Site& target, std::vector<ResyncJob>& jobs,
              const ResyncOptions& options, ProgressState* progress,
              std::unordered_map<std::string, bool>* handled) {
  const std::string target_name = target.id();
  // The first item of each key runs; later ones follow its outcome.
  std::map<std::string, ResyncItem*> primary;
  std::vector<std::pair<ResyncItem*, ResyncItem*>> duplicates;  // (dup, primary)
  auto plan = [&](ResyncItem* item, std::vector<ResyncItem*>* run) {
    auto done = handled->find(item->copy.key);
    if (done != handled->end() && done->second) {
      item->outcome = Outcome::kDuplicate;
      return;
    }
    auto [it, fresh] = primary.emplace(item->copy.key, item);
    if (fresh) {
      run->push_back(item);
    } else {
      duplicates.emplace_back(item, it->second);
    }
  };
  std::vector<ResyncItem*> first;
  for (ResyncJob& job : jobs) {
    for (ResyncItem& item : job.items) {
      if (!item.copy.version_record) plan(&item, &first);
    }
  }
  RunPool(repo, target, target_name, first, options.threads, options, progress);
  auto settle = [&] {
    for (auto& [dup, main] : duplicates) {
      if (dup->outcome != Outcome::kTodo) continue;
      dup->outcome = main->outcome == Outcome::kFailed ? Outcome::kFailed : Outcome::kDuplicate;
      dup->error = main->error;
    }
  };
  settle();
  // version.pb marks a version complete on a site: only after the rest is there.
  std::vector<ResyncItem*> records;
  for (ResyncJob& job : jobs) {
    bool rest_ok = std::none_of(job.items.begin(), job.items.end(), [](const ResyncItem& i) {
      return !i.copy.version_record && i.outcome == Outcome::kFailed;
    });
    for (ResyncItem& item : job.items) {
      if (!item.copy.version_record) continue;
      if (rest_ok) {
        plan(&item, &records);
      } else {
        item.outcome = Outcome::kFailed;
        item.error = "version.pb: not written while other files of the version are missing";
      }
    }
  }
  RunPool(repo, target, target_name, records, options.threads, options, progress);
  settle();
  for (auto& [key, item] : primary) (*handled)[key] = item->outcome != Outcome::kFailed;
}

}  // namespace cairn::repo::resync_internal
