// DrainReplication: runs the replication jobs of the catalog queue, one worker
// per target site. Each job copies what the target lacks (blobs first, tag
// files, version.pb last), reads every copy back and re-hashes it, and only
// then records the replica as ok.
#include "repo/replicate/replicate.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "policies/policy.h"
#include "repo/events/event_types.h"
#include "repo/replicate/site_copy.h"
#include "repo/run_pool.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"

namespace cairn::repo {
namespace {

// Blobs copied in batches to a target that commits in batches; larger ones
// are copied one by one by the workers (their fsync overlaps their copy).
constexpr uint64_t kBatchCopyMaxBytes = uint64_t{1} << 20;
// At most this many copies per batch (Site::BlobBatchLimit): a batch holds
// little more than its writers' descriptors, and costs one syncfs whatever
// its size (65 of them for 50,000 small files in batches of 1,024).
constexpr size_t kCopiesPerBatch = 4096;

// The replication event's word on copies the catalog recorded on the target
// that were no longer there.
std::string LostCopiesText(size_t lost) {
  if (lost == 0) return "";
  return "; " + std::to_string(lost) +
         (lost == 1 ? " copy the catalog recorded there was"
                    : " copies the catalog recorded there were") +
         " missing and copied again";
}

std::string JobName(const proto::Job& job) {
  return job.partner() + "/" + job.object() + "@v" + std::to_string(job.version());
}

// What the copies of one job came to, shared by its copy workers. Verified
// copies are recorded in the catalog in batches (one transaction each): every
// kBatch copies made one by one; copies committed together, once kBatch wait
// at the end of their batch, so once per batch of up to 4,096 (each
// transaction waits for the catalog's disk: a 50,000-file version recorded
// 256 at a time waited 195 times, 0.8 s of its settling).
struct JobTally {
  static constexpr size_t kBatch = 256;
  Site* target = nullptr;
  const proto::Job* job = nullptr;
  int64_t interval_micros = 0;
  std::mutex mu;
  uint64_t made = 0, present = 0, bytes = 0;
  std::string from_sites;
  std::vector<ReplicaRecord> unrecorded;
  // Each copy made or found good: the site it came from, and whether the target held it good
  // already (for the recovery events).
  std::unordered_map<const SiteCopyItem*, std::pair<std::string, bool>> source_of;

  // Records the copies not yet in the catalog: always when `all`, else only
  // once a full batch is waiting.
  Status Flush(Catalog& catalog, bool all) {
    std::vector<ReplicaRecord> batch;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (unrecorded.empty() || (!all && unrecorded.size() < kBatch)) return Status::OK();
      batch.swap(unrecorded);
    }
    return catalog.SetReplicaStates(batch);
  }
};

class JobRunner {
 public:
  JobRunner(Repository& repo, ReplicationSummary* summary, std::mutex* mu, unsigned threads,
            const ReplicationOptions& options)
      : repo_(repo), summary_(summary), mu_(mu), threads_(threads), options_(options) {}

  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }

  // Copies everything the job covers that the target lacks. Replicas copied
  // before a failure stay recorded as ok (a rerun skips them).
  Status Run(const proto::Job& job) {
    Catalog& catalog = repo_.catalog();
    CAIRN_ASSIGN_OR_RETURN(VersionInfo v,
                           catalog.GetVersion(job.partner(), job.object(), job.version(), false));
    CAIRN_ASSIGN_OR_RETURN(std::vector<ReplicaRecord> replicas, catalog.ReplicasOf(v.id));
    // One item per blob or tag file, made from its first row (the rows of its
    // other sites only add their states); reserved, so pointers stay put.
    std::vector<SiteCopyItem> items;
    items.reserve(replicas.size());
    // The target's copies recorded bad (found so by an audit or a restore): copying them again
    // is their repair, a recovery.
    std::unordered_map<const SiteCopyItem*, BadCopy> bad_on_target;
    std::unordered_map<std::string, size_t> by_id;  // "b<sha256>", "t<tag_files id>"
    by_id.reserve(replicas.size());
    for (ReplicaRecord& r : replicas) {
      const bool blob = r.ref.kind == ReplicaRef::Kind::kBlob;
      std::string id = blob ? "b" + r.ref.blob : "t" + std::to_string(r.ref.tag_file_id);
      auto [slot, first_row] = by_id.try_emplace(std::move(id), items.size());
      if (first_row) {
        SiteCopyItem& item = items.emplace_back();
        item.target_unrecorded = true;  // until a row of the target's copy
        item.size = r.size;
        if (blob) {
          item.key = layout::BlobKey(r.sha256);
          item.name = "blob " + r.sha256;
        } else if (r.tag_name == layout::kVersionRecordName) {
          item.key = layout::VersionRecordKey(job.partner(), job.object(), job.version());
          item.version_record = true;
          item.name = std::move(r.tag_name);
        } else {
          item.key = layout::TagFileKey(job.partner(), job.object(), job.version(), r.tag_name);
          item.name = std::move(r.tag_name);
        }
        item.ref = std::move(r.ref);
        item.sha256 = std::move(r.sha256);
      }
      SiteCopyItem& item = items[slot->second];
      if (r.state == ReplicaState::kOk) item.ok_sites.push_back(r.site);
      if (r.site == job.target_site()) {
        if (r.state == ReplicaState::kCorrupt || r.state == ReplicaState::kMissing ||
            r.state == ReplicaState::kUnreadable) {
          bad_on_target[&item] = {std::string(ReplicaStateName(r.state)), r.detail};
        }
        item.target_unrecorded = false;
        item.target_ok = r.state == ReplicaState::kOk;
        item.target_verified_once = r.last_verified_micros > 0;
      }
    }
    std::vector<SiteCopyItem*> todo, recorded_ok;
    for (SiteCopyItem& item : items) {
      if (!job.blob().empty() &&
          (item.ref.kind != ReplicaRef::Kind::kBlob || item.ref.blob != job.blob())) {
        continue;
      }
      if (!job.tag_file().empty() &&
          (item.ref.kind != ReplicaRef::Kind::kTagFile || item.name != job.tag_file())) {
        continue;
      }
      (item.target_ok ? recorded_ok : todo).push_back(&item);
    }
    if (todo.empty() && recorded_ok.empty()) return Status::OK();

    // A site without its marker or its folder: the job's error (what `replicate` and the daemon
    // show while the copies wait) gives the way forward, mount it or make it again.
    Result<Site*> opened = repo_.OpenSite(job.target_site());
    if (!opened.ok()) return WithMarkerNextStep(job.target_site(), opened.status());
    Site* target = *opened;
    // A copy the catalog records as ok there (a blob another version stored
    // before) counts only once the target is seen to hold it: one lost since
    // (deleted, or a site put back from an old backup) was counted as verified
    // and the version left with one copy fewer than the receipt said. Those
    // missing, or of another size, are copied again (their state set from the
    // copy: PrepareBlobCopy reads back what is there first). A blob there is
    // kept locked as long as this version's own files (Object Lock), as the
    // first site's is at the deposit.
    std::atomic<size_t> lost = 0;
    std::mutex todo_mu;
    CAIRN_RETURN_IF_ERROR(RunPool(recorded_ok.size(), threads_, [&](size_t i) -> Status {
      SiteCopyItem& item = *recorded_ok[i];
      Result<ObjectInfo> there = target->Stat(item.key);
      if (there.ok() && there->size == item.size) {
        if (item.ref.kind != ReplicaRef::Kind::kBlob) return Status::OK();
        Status kept = target->ExtendBlobRetention(item.sha256);
        if (kept.ok() || !kept.IsNotFound()) return kept;
        there = kept;  // gone between the two requests
      }
      if (!there.ok() && !there.status().IsNotFound()) {
        return there.status().WithContext("site " + job.target_site() + ": " + item.name);
      }
      lost += 1;
      item.target_ok = false;
      std::lock_guard<std::mutex> lock(todo_mu);
      todo.push_back(&item);
      return Status::OK();
    }));
    // Blobs by digest (the site's folders one after another), then tag files
    // by row id, then version.pb: the record marks the version complete.
    std::sort(todo.begin(), todo.end(), [](const SiteCopyItem* a, const SiteCopyItem* b) {
      auto rank = [](const SiteCopyItem* i) {
        return i->version_record ? 2 : i->ref.kind == ReplicaRef::Kind::kTagFile ? 1 : 0;
      };
      const int ra = rank(a), rb = rank(b);
      if (ra != rb) return ra < rb;
      if (a->ref.blob != b->ref.blob) return a->ref.blob < b->ref.blob;
      return a->ref.tag_file_id < b->ref.tag_file_id;
    });
    if (todo.empty()) return Status::OK();
    const uint32_t days = catalog.FixityIntervalDays(job.partner());
    JobTally tally;
    tally.target = target;
    tally.job = &job;
    tally.interval_micros = int64_t{days} * kMicrosPerDay;
    // Blobs and tag files in parallel (fsync and read-back overlap); version.pb
    // alone after them, so a version is complete on the target only once
    // everything else is there.
    auto first_record =
        std::find_if(todo.begin(), todo.end(), [](const auto* i) { return i->version_record; });
    std::vector<SiteCopyItem*> records(first_record, todo.end());
    todo.erase(first_record, todo.end());
    Status copied;
    if (target->capabilities().batch_commit) {
      copied = CopyBatched(todo, &tally);
    } else {
      copied = RunPool(todo.size(), threads_, [&](size_t i) {
        if (Cancelled()) return Status::Aborted("replication cancelled");
        return CopyItem(*todo[i], &tally);
      });
    }
    // Copies made before a failure are recorded too: a rerun skips them.
    Status recorded = tally.Flush(catalog, true);
    if (copied.code() == Code::kAborted && recorded.ok()) {
      CountCopies(tally);  // cancelled: the copies verified so far still count
      return copied;
    }
    CAIRN_RETURN_IF_ERROR(copied);
    CAIRN_RETURN_IF_ERROR(recorded);
    for (SiteCopyItem* item : records) {
      if (Cancelled()) {
        CountCopies(tally);
        return Status::Aborted("replication cancelled");
      }
      CAIRN_RETURN_IF_ERROR(CopyItem(*item, &tally));
    }
    CAIRN_RETURN_IF_ERROR(tally.Flush(catalog, true));
    CAIRN_ASSIGN_OR_RETURN(std::vector<proto::Event> recoveries,
                           Recoveries(job, bad_on_target, tally));
    std::vector<proto::Event> events;
    // The replication of the version to the target, unless all it copied were repairs (each
    // its recovery event).
    if (tally.made + tally.present > recoveries.size()) {
      events.push_back(NewEvent(
          kReplication,
          {.partner = job.partner(),
           .object = job.object(),
           .version = job.version(),
           .site = job.target_site(),
           .outcome = "success",
           .detail = VersionOnSiteText(catalog, job.partner(), job.object(), job.version(),
                                       job.target_site()) +
                     ", copied from site " + tally.from_sites +
                     "; every copy read back and its sha256 verified" + LostCopiesText(lost)}));
    }
    for (proto::Event& e : recoveries) events.push_back(std::move(e));
    CAIRN_RETURN_IF_ERROR(catalog.AppendEvents(events).status());
    CountCopies(tally);
    return Status::OK();
  }

 private:
  struct BadCopy {
    std::string state;   // corrupt, missing, unreadable
    std::string detail;  // the row's: what found it so
  };

  // The recovery events of the target's bad copies this job copied again (or found good): each
  // names what found it bad, the audit runs whose findings it answers (marked repaired:
  // Catalog::MarkFindingsRepaired) or the row's record (a restore's), and the site it came from.
  Result<std::vector<proto::Event>> Recoveries(
      const proto::Job& job, const std::unordered_map<const SiteCopyItem*, BadCopy>& bad,
      const JobTally& tally) {
    std::vector<proto::Event> events;
    if (bad.empty()) return events;
    Catalog& catalog = repo_.catalog();
    std::unordered_map<std::string, std::string> path_of;  // a blob's first payload path
    Result<VersionInfo> v = catalog.GetVersion(job.partner(), job.object(), job.version(), true);
    if (v.ok()) {
      for (const FileEntry& f : v->files) path_of.try_emplace(f.sha256, f.path);
    }
    std::vector<std::pair<const SiteCopyItem*, const BadCopy*>> done;
    for (const auto& [item, found] : bad) {
      if (tally.source_of.count(item)) done.emplace_back(item, &found);
    }
    std::sort(done.begin(), done.end(),
              [](const auto& a, const auto& b) { return a.first->name < b.first->name; });
    for (const auto& [item, found] : done) {
      const auto& [from, present] = tally.source_of.at(item);
      CAIRN_ASSIGN_OR_RETURN(std::vector<RepairedFinding> answered,
                             catalog.MarkFindingsRepaired(item->ref, job.target_site(), from));
      std::string why;
      if (!answered.empty()) {
        std::string runs, ids;
        for (const RepairedFinding& f : answered) {
          const std::string run = std::to_string(f.run_id);
          if ((", " + runs + ",").find(", " + run + ",") == std::string::npos) {
            runs += (runs.empty() ? "" : ", ") + run;
          }
          ids += (ids.empty() ? "" : ", ") + std::to_string(f.id);
        }
        why = "found " + answered.front().kind + " by audit run" +
              (runs.find(',') == std::string::npos ? " " : "s ") + runs + " (finding" +
              (answered.size() == 1 ? " " : "s ") + ids + ", now marked repaired)";
      } else {
        why =
            "recorded " + found->state + (found->detail.empty() ? "" : " (" + found->detail + ")");
      }
      const bool blob = item->ref.kind == ReplicaRef::Kind::kBlob;
      auto path = blob ? path_of.find(item->sha256) : path_of.end();
      events.push_back(NewEvent(
          kRecovery, {.partner = job.partner(),
                      .object = job.object(),
                      .version = job.version(),
                      .file = blob ? (path != path_of.end() ? path->second : "") : item->name,
                      .site = job.target_site(),
                      .outcome = "success",
                      .detail = "sha256 " + item->sha256 + ": the copy on site " +
                                job.target_site() + ", " + why +
                                (present ? ", verifies now: nothing copied"
                                         : ", repaired from site " + from +
                                               ": copied, read back and its sha256 verified")}));
    }
    return events;
  }

  // Adds the job's copies to the summary.
  void CountCopies(const JobTally& tally) {
    std::lock_guard<std::mutex> lock(*mu_);
    summary_->copies_made += tally.made;
    summary_->copies_verified_present += tally.present;
    summary_->bytes_copied += tally.bytes;
  }

  // The sites to copy `item` from, the job's source site first.
  static std::vector<std::string> SourcesOf(const SiteCopyItem& item, const proto::Job& job) {
    std::vector<std::string> sources = item.ok_sites;
    auto preferred = std::find(sources.begin(), sources.end(), job.source_site());
    if (preferred != sources.end()) std::rotate(sources.begin(), preferred, preferred + 1);
    std::erase(sources, job.target_site());
    return sources;
  }

  // The copies of a target that commits in batches: the small blobs are
  // filled (and hashed back) by the workers, then committed together
  // (Site::CommitBlobs: the disk waited for twice per batch), then recorded;
  // a blob that could not be read from its first source, and every other
  // item, goes through CopyItem. Returns the first failure (Aborted once
  // cancelled).
  Status CopyBatched(const std::vector<SiteCopyItem*>& todo, JobTally* tally) {
    const proto::Job& job = *tally->job;
    std::vector<SiteCopyItem*> one_by_one, small;
    struct Retry {
      SiteCopyItem* item;
      std::string tried;  // the source that failed in the batch
      Status failure;
    };
    std::vector<Retry> retry;
    for (SiteCopyItem* item : todo) {
      const bool batched = item->ref.kind == ReplicaRef::Kind::kBlob &&
                           item->size <= kBatchCopyMaxBytes && !SourcesOf(*item, job).empty();
      (batched ? small : one_by_one).push_back(item);
    }
    Status first;
    auto keep_first = [&first](const Status& s) {
      if (!s.ok() && first.ok()) first = s;
    };
    // Batches of 1, 2, 4, ... up to the limit: the first copies of a job are
    // recorded as soon as they are made, and a cancel (checked by each copy
    // before it starts) takes effect at the end of the batch under way. From
    // 64 copies on, one Sync between two batches (Site::BlobBatches): a batch's
    // results come with the next batch's Add, or with Finish.
    struct Batch {
      size_t start = 0, count = 0;
      std::vector<BlobCopy> copies;
      std::vector<Site*> from;
      std::vector<size_t> of_blob;  // copy index of each blob handed to the site
    };
    // Tallies a batch whose commit results are in: each copy made is counted
    // (its first failure kept in `*failed`), a source that failed is retried
    // with the others, one by one.
    auto settle = [&](Batch& batch, const std::vector<Result<Site::BlobCommitResult>>& committed,
                      Status* failed) {
      auto keep_first = [failed](const Status& s) {
        if (!s.ok() && failed->ok()) *failed = s;
      };
      std::vector<SiteCopyResult> results(batch.count);
      for (size_t j = 0; j < batch.count; ++j) results[j] = std::move(batch.copies[j].result);
      for (size_t b = 0; b < batch.of_blob.size() && b < committed.size(); ++b) {
        const size_t j = batch.of_blob[b];
        results[j] = FinishBlobCopy(*batch.from[j], *tally->target, *small[batch.start + j],
                                    batch.copies[j], committed[b]);
      }
      for (size_t j = 0; j < batch.count; ++j) {
        SiteCopyItem* item = small[batch.start + j];
        if (batch.from[j] != nullptr && results[j].status.ok()) {
          keep_first(Tally(*item, batch.from[j]->id(), results[j], tally, /*flush=*/false));
        } else if (batch.from[j] != nullptr && results[j].target_failed) {
          keep_first(results[j].status.WithContext(item->name));
        } else if (batch.from[j] != nullptr) {
          // The source's bytes could not be read or were wrong: the other sources, one by one.
          retry.push_back({item, batch.from[j]->id(), std::move(results[j].status)});
        } else {
          one_by_one.push_back(item);
        }
      }
      // A batch's copies recorded together once kBatch wait: one catalog
      // transaction per batch from then on (the first, small ones gather).
      keep_first(tally->Flush(repo_.catalog(), false));
    };
    Site::BlobBatches batches(tally->target, threads_);
    constexpr size_t kSettleLaterFrom = 64;
    std::optional<Batch> added;  // the batch whose results the next Add gives
    // From kSettleLaterFrom copies on, a batch is added on a thread of its own
    // while the workers prepare the next (one at a time, in order); settled
    // here, on this thread, once joined.
    std::optional<Batch> adding;
    std::vector<Site::BlobToCommit> adding_blobs;
    std::vector<Result<Site::BlobCommitResult>> adding_gave;  // results of `added`
    std::thread adder;
    // A batch whose results are in is settled (its records written to the
    // catalog) on a thread of its own too, while the next batches are
    // prepared and added: one at a time, in order. Until it is joined, only
    // it touches `retry`, `one_by_one` and `settled`.
    std::thread settler;
    Status settled;  // the settler's first failure
    auto join_settler = [&] {
      if (!settler.joinable()) return;
      settler.join();
      keep_first(settled);
    };
    auto join = [&] {
      if (!adder.joinable()) return;
      adder.join();
      if (added) {
        join_settler();
        settler =
            std::thread([&, batch = std::move(*added), gave = std::move(adding_gave)]() mutable {
              settle(batch, gave, &settled);
            });
      }
      added = std::move(adding);
      adding.reset();
    };
    size_t per_commit = 1;
    for (size_t start = 0, count = 0; start < small.size() && first.ok(); start += count,
                per_commit = std::min(per_commit * 2, Site::BlobBatchLimit(kCopiesPerBatch))) {
      count = std::min(per_commit, small.size() - start);
      Batch batch;
      batch.start = start;
      batch.count = count;
      batch.copies.resize(count);
      batch.from.assign(count, nullptr);
      Status prepared = RunPool(count, threads_, [&](size_t j) -> Status {
        if (Cancelled()) return Status::Aborted("replication cancelled");
        const SiteCopyItem& item = *small[start + j];
        Result<Site*> source = repo_.OpenSite(SourcesOf(item, job).front());
        if (!source.ok()) return Status::OK();  // CopyItem tries the others
        batch.from[j] = *source;
        batch.copies[j] = PrepareBlobCopy(**source, *tally->target, item,
                                          /*ask_first=*/!item.target_unrecorded);
        return Status::OK();
      });
      std::vector<Site::BlobToCommit> blobs;
      for (size_t j = 0; j < count; ++j) {
        if (!batch.copies[j].writer) continue;
        if (!prepared.ok()) {
          batch.copies[j].writer->Abort();
          continue;
        }
        const SiteCopyItem& item = *small[start + j];
        blobs.push_back({batch.copies[j].writer.get(), item.sha256, item.size});
        batch.of_blob.push_back(j);
      }
      join();
      keep_first(prepared);
      if (!prepared.ok()) break;
      if (count >= kSettleLaterFrom) {
        adding = std::move(batch);
        adding_blobs = std::move(blobs);
        adder = std::thread([&] { adding_gave = batches.Add(adding_blobs); });
        continue;
      }
      // The first, small batches count at once (a cancel stops after them).
      std::vector<Result<Site::BlobCommitResult>> before = batches.Add(blobs);
      if (added) settle(*added, before, &first);
      added = std::move(batch);
      settle(*added, batches.Finish(), &first);
      added.reset();
    }
    join();
    join_settler();
    std::vector<Result<Site::BlobCommitResult>> last = batches.Finish();
    if (added) settle(*added, last, &first);
    if (!first.ok()) return first;
    CAIRN_RETURN_IF_ERROR(RunPool(retry.size(), threads_, [&](size_t i) {
      if (Cancelled()) return Status::Aborted("replication cancelled");
      return CopyItem(*retry[i].item, tally, retry[i].tried, retry[i].failure);
    }));
    return RunPool(one_by_one.size(), threads_, [&](size_t i) {
      if (Cancelled()) return Status::Aborted("replication cancelled");
      return CopyItem(*one_by_one[i], tally);
    });
  }

  // Counts a verified copy of `item` (from site `source_name`) and queues its
  // replica record; with `flush`, records the queued ones once kBatch wait
  // (else the caller records them).
  Status Tally(const SiteCopyItem& item, const std::string& source_name,
               const SiteCopyResult& result, JobTally* tally, bool flush = true) {
    const proto::Job& job = *tally->job;
    int64_t now = repo_.catalog().clock().NowMicros();
    ReplicaRecord record;
    record.ref = item.ref;
    record.site = job.target_site();
    record.state = ReplicaState::kOk;
    record.last_verified_micros = now;
    record.next_due_micros = now + tally->interval_micros;
    {
      std::lock_guard<std::mutex> lock(tally->mu);
      (result.already_present ? tally->present : tally->made) += 1;
      tally->bytes += result.bytes_written;
      tally->source_of[&item] = {source_name, result.already_present};
      if (tally->from_sites.find(source_name) == std::string::npos) {
        tally->from_sites += (tally->from_sites.empty() ? "" : ", ") + source_name;
      }
      tally->unrecorded.push_back(std::move(record));
    }
    Status flushed = flush ? tally->Flush(repo_.catalog(), false) : Status::OK();
    if (options_.after_copy) options_.after_copy();
    return flushed;
  }

  // Copies one item to the job's target from the first site that holds a
  // good copy (the job's source site first) and queues its replica record.
  // A source `tried` already (its copy failed with `tried_failure`) is not
  // tried again.
  Status CopyItem(const SiteCopyItem& item, JobTally* tally, const std::string& tried = "",
                  const Status& tried_failure = Status::OK()) {
    const proto::Job& job = *tally->job;
    std::vector<std::string> sources = SourcesOf(item, job);
    if (!tried.empty()) std::erase(sources, tried);
    const size_t recorded = sources.size();
    Status last = tried.empty() ? Status::NotFound("no site holds a good copy of " + item.name)
                                : tried_failure;
    for (size_t i = 0; i < sources.size() || i == recorded; ++i) {
      if (i == recorded) {
        // Those failed: the sites whose copy the catalog does not record, asked by the key.
        Result<std::vector<std::string>> ask =
            SitesToAskByKey(repo_.catalog(), item.ok_sites, job.target_site());
        if (ask.ok()) std::erase(*ask, tried);
        if (ask.ok()) sources.insert(sources.end(), ask->begin(), ask->end());
        if (i == sources.size()) break;
      }
      const std::string source_name = sources[i];
      if (source_name == job.target_site()) continue;
      Result<Site*> source = repo_.OpenSite(source_name);
      if (!source.ok()) {
        last = source.status();
        continue;
      }
      SiteCopyResult result = CopyAndVerify(**source, *tally->target, item);
      if (!result.status.ok()) {
        // A site asked by key that lacks the item leaves "no site holds a good copy".
        if (i < recorded || !result.status.IsNotFound()) last = result.status;
        if (result.target_failed) break;  // another source would not help
        continue;
      }
      if (i >= recorded && !result.already_present) {
        // Its bytes, copied, read back and verified: the source's copy is good. Recorded.
        const int64_t now = repo_.catalog().clock().NowMicros();
        CAIRN_RETURN_IF_ERROR(repo_.catalog().SetReplicaState(
            item.ref, source_name, ReplicaState::kOk, now, now + tally->interval_micros,
            "found by its key while copying to site " + job.target_site()));
      }
      return Tally(item, source_name, result, tally);
    }
    return last.WithContext(item.name);
  }

  Repository& repo_;
  ReplicationSummary* summary_;
  std::mutex* mu_;
  unsigned threads_;
  const ReplicationOptions& options_;
};

}  // namespace

JobFilter ReplicationJobs(const ReplicationFilter& filter) {
  JobFilter jobs;
  jobs.kind = proto::JOB_KIND_REPLICATE;
  jobs.partner = filter.partner;
  jobs.object = filter.object;
  jobs.target_site = filter.target_site;
  return jobs;
}

Result<ReplicationSummary> DrainReplication(Repository& repo, const ReplicationFilter& filter,
                                            const ReplicationOptions& options) {
  std::string owner = options.owner.empty() ? "cairn " + std::to_string(getpid()) : options.owner;
  const JobFilter jobs_filter = ReplicationJobs(filter);
  ReplicationSummary summary;
  std::mutex mu;
  Status catalog_error;
  auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  while (!cancelled()) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> jobs,
                           repo.catalog().LeaseJobs(64, options.lease_micros, owner, jobs_filter));
    if (jobs.empty()) break;
    std::map<std::string, std::vector<const JobRecord*>> by_target;
    for (const JobRecord& j : jobs) by_target[j.job.target_site()].push_back(&j);
    std::vector<std::thread> workers;
    for (auto& [target, list] : by_target) {
      workers.emplace_back([&, list = list] {
        JobRunner runner(repo, &summary, &mu,
                         options.threads_per_site ? options.threads_per_site
                                                  : IoWorkers(std::thread::hardware_concurrency()),
                         options);
        for (const JobRecord* j : list) {
          Status s =
              runner.Cancelled() ? Status::Aborted("replication cancelled") : runner.Run(j->job);
          Status recorded;
          const bool released = !s.ok() && runner.Cancelled();
          if (released) {
            // Unfinished because of the cancel: back to the queue, not a failure.
            recorded = repo.catalog().ReleaseJob(j->id);
          } else if (s.ok()) {
            recorded = repo.catalog().CompleteJob(j->id);
          } else {
            // Any failure may heal (a site back up, a permission fixed): the
            // catalog's backoff bounds the retries.
            Status retry = s;
            retry.SetRetryable(true);
            recorded = repo.catalog().FailJob(j->id, retry);
          }
          std::lock_guard<std::mutex> lock(mu);
          if (released) {
            ++summary.jobs_released;
          } else if (s.ok()) {
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

std::string VersionOnSiteText(Catalog& catalog, const std::string& partner,
                              const std::string& object, uint32_t version,
                              const std::string& site) {
  Result<VersionInfo> v = catalog.GetVersion(partner, object, version, /*with_files=*/false);
  if (!v.ok()) return "site " + site + " holds every file of the version";
  return "site " + site + " holds all " + std::to_string(v->file_count) + " payload files (" +
         std::to_string(v->payload_bytes) + " bytes) and the tag files of the version";
}

}  // namespace cairn::repo
