// PayloadStager and the byte sources the ingest drivers share.
#include "repo/deposit/deposit_stage.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <thread>
#include <utility>

#include "bagit/dir_list.h"
#include "bagit/fd_io.h"
#include "bagit/mapped_read.h"
#include "bagit/piece_digests.h"
#include "repo/crash_point.h"
#include "repo/deposit/disk_manifest_index.h"
#include "repo/site_layout.h"
#include "repo/storage/sha256_stream.h"

namespace cairn::repo::deposit_internal {

using bagit::Algorithm;
using bagit::AlgorithmSet;
using bagit::ByteSource;
using bagit::ChunkSink;

Status ChooseManifestIndex(uint64_t manifest_bytes, const IngestTarget& target, Ingest* ingest) {
  const uint64_t budget = target.manifest_memory_bytes;
  if (manifest_bytes <= budget / 3) {
    ingest->contents->manifests = std::make_unique<bagit::MemoryManifestIndex>();
    ingest->manifest_index_in_memory = true;
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(ingest->contents->manifests,
                         DiskManifestIndex::Create(ingest->scratch->store()));
  ingest->manifest_index_in_memory = false;
  return Status::OK();
}

bool IngestTarget::Interrupting() const {
  PausePoint("deposit.storing", cancel);
  return cancel != nullptr && cancel->load();
}

Status Interrupted() {
  return Status::Aborted("interrupted: nothing was stored; run the same command again to deposit");
}

Status PayloadStager::SiteError(const Status& s) const {
  if (s.ok() || IsSiteError(s)) return s;
  return s.WithContext("site " + target_.site_name);
}

bool PayloadStager::IsSiteError(const Status& s) const { return IsSiteErrorOf(target_, s); }

Result<PayloadStager::Staged> PayloadStager::Stage(const ByteSource& source,
                                                   AlgorithmSet algorithms,
                                                   const std::string& expected_sha256,
                                                   bool from_manifest) {
  if (target_.Interrupting()) return Interrupted();
  Staged staged;
  bool write = expected_sha256.empty() || !target_.blob_stored(expected_sha256);
  if (write) {
    // A manifest's digest is checked by the backend at commit, and S3 sends
    // the parts straight to the blob's key. The hasher below sees every byte
    // the writer gets, from the same chunk (the sources' memory is private),
    // and Commit names the blob by that hasher's digest: the writer need not
    // hash them again.
    bool known = from_manifest && layout::IsSha256Hex(expected_sha256);
    Result<std::unique_ptr<BlobWriter>> writer = target_.first->NewBlobWriter(
        known ? expected_sha256 : "", std::nullopt, {}, /*caller_hashes=*/true);
    if (!writer.ok()) return SiteError(writer.status());
    staged.writer = std::move(writer).value();
  } else {
    staged.stored_sha256 = expected_sha256;
  }
  bagit::MultiHasher hasher(algorithms | bagit::Only(Algorithm::kSha256));
  Status site_status;
  Status s = source([&](std::span<const std::byte> chunk) -> Status {
    if (target_.cancel != nullptr && target_.cancel->load()) return Interrupted();  // a long file
    hasher.Update(chunk);
    if (staged.writer) {
      site_status = staged.writer->Append(chunk);
      if (!site_status.ok()) return SiteError(site_status);
    }
    return Status::OK();
  });
  staged.size = hasher.bytes();
  staged.digests = hasher.Finish();
  if (!s.ok()) {
    Discard(&staged);
    return s;
  }
  return staged;
}

Result<PayloadStager::Staged> PayloadStager::StageLocalFile(const std::string& path,
                                                            AlgorithmSet algorithms) {
  if (target_.Interrupting()) return Interrupted();
  // O_NONBLOCK: a fifo put in the file's place since the walk must not hang
  // the deposit waiting for a writer (it has no effect on a regular file).
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::FromErrno(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + " is not a regular file any more (now a " +
                                   bagit::SpecialFileKind(st.st_mode) +
                                   "): only regular files can be deposited");
  }
  if (target_.first->backend().DigestsBeforeCommit()) {
    return CopyThenDigest(fd, path, st, algorithms);
  }
  Staged staged;
  bagit::MultiHasher hasher(algorithms | bagit::Only(Algorithm::kSha256));
  // A file larger than one signed part (S3) is hashed in parts as well, from
  // the same read: the parts are sent signed with those digests, and the site
  // refuses any that no longer match (a file changed since).
  const uint64_t part_size = target_.first->backend().Capabilities().signed_part_size;
  std::vector<std::string> part_sha256;
  if (part_size > 0 && static_cast<uint64_t>(st.st_size) > part_size) {
    Result<std::vector<std::string>> parts =
        bagit::HashOpenFileInPieces(fd, path, part_size, hasher);
    if (!parts.ok()) return parts.status();
    part_sha256 = std::move(parts).value();
  } else {
    Status read = bagit::HashOpenFile(fd, path, static_cast<uint64_t>(st.st_size), hasher);
    if (!read.ok()) return read;
  }
  staged.size = hasher.bytes();
  staged.digests = hasher.Finish();
  const std::string& sha256 = staged.digests[Algorithm::kSha256];
  if (target_.blob_stored(sha256)) {  // stored and verified: Commit records the file
    staged.stored_sha256 = sha256;
    return staged;
  }
  Result<std::unique_ptr<BlobWriter>> writer =
      target_.first->NewBlobWriter(sha256, staged.size, std::move(part_sha256));
  if (!writer.ok()) return SiteError(writer.status());
  staged.writer = std::move(writer).value();
  Status copied = CopyWholeFile(fd, path, staged.size, &staged);
  if (!copied.ok() && !IsSiteError(copied)) return copied;  // it got shorter
  // A file changed since it was hashed is named as the source's fault, before
  // any site error its changed bytes caused (S3 refuses a part that misses its
  // digest); a change that leaves size and time alone is still refused by the
  // site, when the bytes are checked at commit.
  Status unchanged = CheckUnchanged(fd, path, st);
  if (!unchanged.ok()) {
    Discard(&staged);
    return unchanged;
  }
  if (!copied.ok()) return copied;
  return staged;
}

Status PayloadStager::CheckUnchanged(int fd, const std::string& path, const struct stat& before) {
  struct stat after;
  if (fstat(fd, &after) != 0) return Status::FromErrno(errno, "stat", path);
  if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec) {
    return Status::InvalidArgument(path + " changed while it was deposited");
  }
  return Status::OK();
}

Status PayloadStager::CopyWholeFile(int fd, const std::string& path, uint64_t size,
                                    Staged* staged) {
  Status copied = staged->writer->AppendFromFile(fd, 0, size);
  if (copied.ok()) return copied;
  Discard(staged);
  // The writer reports a source that ends early as InvalidArgument; anything
  // else is the site's failure.
  if (copied.code() == Code::kInvalidArgument) {
    return Status::InvalidArgument(path + " changed while it was deposited (it got shorter)");
  }
  return SiteError(copied);
}

Result<PayloadStager::Staged> PayloadStager::CopyThenDigest(int fd, const std::string& path,
                                                            const struct stat& st,
                                                            AlgorithmSet algorithms) {
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const bool batched = target_.first->capabilities().batch_commit && size <= kBatchCommitMaxBytes;
  if (batched && target_.blobs_likely_stored) {
    Result<std::optional<Staged>> reused = ReuseStored(fd, path, st, algorithms);
    if (!reused.ok()) return reused.status();
    if (*reused) return std::move(**reused);
  }
  Result<std::unique_ptr<BlobWriter>> writer = target_.first->NewBlobWriter("");
  if (!writer.ok()) return SiteError(writer.status());
  Staged staged;
  staged.writer = std::move(writer).value();
  CAIRN_RETURN_IF_ERROR(CopyWholeFile(fd, path, size, &staged));
  Status unchanged = CheckUnchanged(fd, path, st);
  if (!unchanged.ok()) {
    Discard(&staged);
    return unchanged;
  }
  // The copy is hashed, not the source: the blob holds exactly the bytes its
  // digests describe, read back from the site before any name points at them.
  Result<bagit::Digests> digests = staged.writer->DigestAppended(algorithms);
  if (!digests.ok()) {
    Discard(&staged);
    return SiteError(digests.status());
  }
  staged.size = size;
  staged.digests = std::move(digests).value();
  // The bytes are written already: asking the catalog whether the blob is
  // stored (and reading it back) would only spare its commit. A small file's
  // commit is a batch's (Site::BlobBatches), which reads back a blob it finds
  // under the name and keeps it if it verifies, as the lookup would: not
  // asked (one catalog query per file). A larger one's is CommitBlob's alone,
  // whose fsync the lookup spares. (A new version of an object, whose files
  // are mostly stored, asks first: ReuseStored.)
  if (!batched && target_.blob_stored(staged.digests[Algorithm::kSha256])) {
    Discard(&staged);  // stored before, verified
    staged.stored_sha256 = staged.digests[Algorithm::kSha256];
  }
  return staged;
}

Result<std::optional<PayloadStager::Staged>> PayloadStager::ReuseStored(int fd,
                                                                        const std::string& path,
                                                                        const struct stat& st,
                                                                        AlgorithmSet algorithms) {
  // Copying the file into a temp file only to find its name taken at the
  // batch's commit cost a rerun of an unchanged folder as much as its first
  // deposit: the file is hashed (from the page cache) and the site asked first.
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  bagit::MultiHasher hasher(algorithms | bagit::Only(Algorithm::kSha256));
  CAIRN_RETURN_IF_ERROR(bagit::HashOpenFile(fd, path, size, hasher));
  CAIRN_RETURN_IF_ERROR(CheckUnchanged(fd, path, st));
  Staged staged;
  staged.size = hasher.bytes();
  staged.digests = hasher.Finish();
  const std::string& sha256 = staged.digests[Algorithm::kSha256];
  Result<bool> present = target_.first->HasBlob(sha256);
  if (!present.ok()) return SiteError(present.status());
  if (!*present) return std::optional<Staged>();
  Result<Site::BlobCommitResult> judged = target_.first->JudgeExistingBlob(sha256, staged.size);
  if (!judged.ok()) return SiteError(judged.status());
  if (judged->how != Site::BlobCommit::kVerified) {
    return std::optional<Staged>();  // written, and the commit replaces what is there
  }
  staged.stored_sha256 = sha256;
  return std::optional<Staged>(std::move(staged));
}

Status PayloadStager::Commit(std::string_view path, Staged* staged, AlgorithmSet keep) {
  const std::string& sha256 = staged->digests[Algorithm::kSha256];
  bool created = false;
  bool written = false;
  std::optional<BlobRepair> repair;
  if (!staged->writer) {
    // The write was skipped because the blob it was expected to be is stored
    // (and was read back): only if these bytes are that blob.
    if (staged->stored_sha256 != sha256) return Status::NotFound("blob " + sha256 + " not stored");
  } else {
    // An existing blob is read back, and replaced with these bytes if damaged.
    Result<Site::BlobCommitResult> r =
        target_.first->CommitBlob(*staged->writer, sha256, staged->size);
    staged->writer.reset();
    if (!r.ok()) return SiteError(r.status());
    created = r->how == Site::BlobCommit::kCreated;
    written = r->how != Site::BlobCommit::kVerified;
    if (r->how == Site::BlobCommit::kReplaced) {
      repair = BlobRepair{std::string(path), sha256, r->replaced};
    }
  }
  return Record(path, *staged, created, written, std::move(repair), keep);
}

std::vector<Site::BlobToCommit> PayloadStager::BlobsOf(std::span<BatchItem> items,
                                                       std::vector<size_t>* of_blob) {
  std::vector<Site::BlobToCommit> blobs;
  of_blob->clear();
  for (size_t i = 0; i < items.size(); ++i) {
    Staged& staged = items[i].staged;
    if (!items[i].held || !staged.writer) continue;
    blobs.push_back({staged.writer.get(), staged.digests[Algorithm::kSha256], staged.size});
    of_blob->push_back(i);
  }
  return blobs;
}

Status PayloadStager::RecordBatch(std::span<BatchItem> items, const std::vector<size_t>& of_blob,
                                  const std::vector<Result<Site::BlobCommitResult>>& committed,
                                  AlgorithmSet keep) {
  std::vector<const Result<Site::BlobCommitResult>*> result_of(items.size(), nullptr);
  for (size_t b = 0; b < of_blob.size() && b < committed.size(); ++b) {
    items[of_blob[b]].staged.writer.reset();  // committed or aborted by the site
    result_of[of_blob[b]] = &committed[b];
  }
  // Every blob stored is recorded, even after a failure: the scratch is what
  // a refused deposit's new blobs are removed by.
  Status first;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].held) continue;
    const Staged& staged = items[i].staged;
    const std::string& sha256 = staged.digests[Algorithm::kSha256];
    Status s;
    if (result_of[i] == nullptr) {
      // The write was skipped: the blob it was expected to be is stored (read back).
      s = staged.stored_sha256 != sha256
              ? Status::NotFound("blob " + sha256 + " not stored")
              : Record(items[i].path, staged, false, false, std::nullopt, keep);
    } else if (const Result<Site::BlobCommitResult>& r = *result_of[i]; !r.ok()) {
      s = SiteError(r.status());
    } else {
      std::optional<BlobRepair> repair;
      if (r->how == Site::BlobCommit::kReplaced) {
        repair = BlobRepair{items[i].path, sha256, r->replaced};
      }
      s = Record(items[i].path, staged, r->how == Site::BlobCommit::kCreated,
                 r->how != Site::BlobCommit::kVerified, std::move(repair), keep);
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

BatchPipeline::BatchPipeline(PayloadStager* stager, Site* site, unsigned threads, AlgorithmSet keep)
    : stager_(stager), batches_(site, threads), keep_(keep) {}

BatchPipeline::~BatchPipeline() {
  (void)Finish();
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
}

void BatchPipeline::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return pending_ || stop_; });
    if (!pending_) return;  // stopped
    lock.unlock();
    Status stepped = Step();
    lock.lock();
    status_ = std::move(stepped);
    pending_ = false;
    cv_.notify_all();
  }
}

Status BatchPipeline::Join() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !pending_; });
  return std::exchange(status_, Status::OK());
}

Status BatchPipeline::Commit(std::vector<PayloadStager::BatchItem> items) {
  Status before = Join();
  if (!before.ok()) {
    for (PayloadStager::BatchItem& item : items) PayloadStager::Discard(&item.staged);
    return before;
  }
  if (std::none_of(items.begin(), items.end(), [](const auto& item) { return item.held; })) {
    return Status::OK();  // all committed by the workers (or refused)
  }
  adding_ = std::move(items);
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { Run(); });
  } else {
    cv_.notify_all();
  }
  return Status::OK();
}

Status BatchPipeline::Step() {
  std::vector<size_t> of_blob;
  std::vector<Site::BlobToCommit> blobs = stager_->BlobsOf(adding_, &of_blob);
  std::vector<Result<Site::BlobCommitResult>> before = batches_.Add(blobs);
  for (size_t i : of_blob) adding_[i].staged.writer.reset();  // committed or aborted
  Status recorded = stager_->RecordBatch(added_, added_of_blob_, before, keep_);
  added_ = std::move(adding_);
  added_of_blob_ = std::move(of_blob);
  adding_.clear();
  // The batch's writers, paths and digests were allocated by the walk's
  // threads and freed here: give the freed pages back, so that the peak RSS
  // stays that of two batches however many files the ingest has.
  ::malloc_trim(0);
  return recorded;
}

Status BatchPipeline::Finish() {
  Status joined = Join();
  std::vector<Result<Site::BlobCommitResult>> last = batches_.Finish();
  Status recorded = stager_->RecordBatch(added_, added_of_blob_, last, keep_);
  added_.clear();
  added_of_blob_.clear();
  return joined.ok() ? recorded : joined;
}

Status PayloadStager::Record(std::string_view path, const Staged& staged, bool created,
                             bool written, std::optional<BlobRepair> repair, AlgorithmSet keep) {
  const std::string& sha256 = staged.digests[Algorithm::kSha256];
  std::string other_digests = JoinDigests(staged.digests, keep);
  std::lock_guard<std::mutex> lock(ingest_->mu);
  if (repair) ingest_->repairs.push_back(std::move(*repair));
  Status added = ingest_->scratch->AddFile(path, staged.size, sha256, created, other_digests);
  // A path met twice (an archive's duplicate member): the bag checker refuses the bag naming it
  // (payload.duplicate-member), and the scratch still names a blob it made, to be taken back.
  if (added.IsAlreadyExists()) return Status::OK();
  CAIRN_RETURN_IF_ERROR(added);
  ++ingest_->file_count;
  ingest_->payload_bytes += staged.size;
  if (target_.on_file_stored) target_.on_file_stored(ingest_->file_count, ingest_->payload_bytes);
  if (written) {
    ingest_->bytes_written += staged.size;
  } else {
    ++ingest_->blobs_reused;
  }
  return Status::OK();
}

ByteSource TeeSource(ByteSource source, BlobWriter* writer, std::string site_name,
                     std::string* sha256_hex, uint64_t* size) {
  return [source = std::move(source), writer, site_name, sha256_hex,
          size](const ChunkSink& sink) -> Status {
    Sha256Stream hash;
    uint64_t total = 0;
    Status write_status;
    Status s = source([&](std::span<const std::byte> chunk) -> Status {
      hash.Update(chunk);
      total += chunk.size();
      if (write_status.ok()) write_status = writer->Append(chunk);
      if (!write_status.ok()) return write_status.WithContext("site " + site_name);
      return sink(chunk);
    });
    *sha256_hex = hash.FinishHex();
    *size = total;
    return s;
  };
}

Result<ByteSource> StageTagFile(const IngestTarget& target, Ingest* ingest, std::string_view name,
                                ByteSource inner) {
  StagedTagFile& tag = ingest->tags.emplace_back();
  tag.name = std::string(name);
  Status name_ok = layout::ValidateTagFileName(name);
  if (!name_ok.ok()) {
    ingest->report.Error(name, "tag.name",
                         "Cairn cannot store this tag file: " + name_ok.message());
    return inner;
  }
  // Write-once (Site::CommitTagFile commits it): a tag file is never replaced.
  Result<std::unique_ptr<BlobWriter>> writer = target.first->NewBagFileWriter();
  if (!writer.ok()) return writer.status().WithContext("site " + target.site_name);
  tag.writer = std::move(writer).value();
  return TeeSource(std::move(inner), tag.writer.get(), target.site_name, &tag.sha256, &tag.size);
}

// Runs the end of archive members' ingest (hashing the bytes back, committing
// the blob) on background threads, at most `threads` members at once (Push
// waits for a free one); the first failure is kept, later members are dropped
// and every Push and Finish returns it.
class StagingSink::Committers {
 public:
  struct Job {
    std::function<Status()> run;
    std::function<void()> drop;  // after an earlier failure: discard what `run` would keep
  };

  explicit Committers(unsigned threads) {
    for (unsigned i = 0; i < std::max(1u, threads); ++i) workers_.emplace_back([this] { Run(); });
    limit_ = workers_.size();
  }
  ~Committers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  Status Push(Job job) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return queue_.size() + busy_ < limit_ || !failure_.ok(); });
    if (!failure_.ok()) {
      job.drop();
      return failure_;
    }
    queue_.push_back(std::move(job));
    work_.notify_one();
    return Status::OK();
  }

  Status Finish() {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
    return failure_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      Job job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
      bool failed = !failure_.ok();
      lock.unlock();
      Status s;
      if (failed) {
        job.drop();
      } else {
        s = job.run();
      }
      lock.lock();
      --busy_;
      if (!s.ok() && failure_.ok()) failure_ = s;
      room_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable work_, room_;
  std::deque<Job> queue_;
  size_t busy_ = 0, limit_ = 1;
  bool stop_ = false;
  Status failure_;
  std::vector<std::thread> workers_;
};

StagingSink::StagingSink(const IngestTarget& target, Ingest* ingest)
    : target_(target), ingest_(ingest), stager_(target, ingest) {}

StagingSink::~StagingSink() { (void)Finish(); }

Status StagingSink::Finish() {
  Status committed = committers_ ? committers_->Finish() : Status::OK();
  std::lock_guard<std::mutex> lock(batch_mu_);
  if (!pipeline_) return committed;
  Status held = batch_.empty() ? Status::OK() : pipeline_->Commit(std::exchange(batch_, {}));
  Status finished = pipeline_->Finish();
  if (!committed.ok()) return committed;
  return held.ok() ? finished : held;
}

Status StagingSink::HoldForBatch(std::string_view path, PayloadStager::Staged staged) {
  std::lock_guard<std::mutex> lock(batch_mu_);
  if (!pipeline_) {
    pipeline_ =
        std::make_unique<BatchPipeline>(&stager_, target_.first, target_.threads, AlgorithmSet{});
  }
  batch_.push_back({std::string(path), std::move(staged), true});
  // Batches of 1,024, as a plain folder's walk hands them over: each costs one
  // syncfs (at 512, 50,000 files of 4 KiB took 0.3-0.4 s longer). A bag's files
  // are held with their paths and digests while the walk goes on; that this
  // does not grow the peak RSS with the file count depends on the process's
  // malloc arenas being few (ops/cli/main.cc; DepositMemoryTest).
  if (batch_.size() < std::min<size_t>(Site::BlobBatchLimit(), 1024)) return Status::OK();
  // Waits for the batch before (the walk's other workers wait here too).
  return pipeline_->Commit(std::exchange(batch_, {}));
}

Result<ByteSource> StagingSink::TagFile(std::string_view path, ByteSource source) {
  // A tag file after payload members (a manifest there is refused, but still
  // read into the index): the committers, which read the index, finish first.
  CAIRN_RETURN_IF_ERROR(Finish());
  return StageTagFile(target_, ingest_, path, std::move(source));
}

Result<StagingSink::PayloadRead> StagingSink::PayloadFile(const bagit::PayloadEntry& entry,
                                                          AlgorithmSet algorithms,
                                                          bool manifests_known) {
  if (target_.Interrupting()) return Interrupted();
  const bagit::ManifestIndex& index = *ingest_->contents->manifests;
  std::optional<bagit::ManifestIndex::EntryId> id;
  if (manifests_known) id = index.Find(entry.path);
  std::string expected = id ? index.HexDigest(*id, Algorithm::kSha256) : "";
  if (entry.local_path == nullptr && target_.first->backend().DigestsBeforeCommit() &&
      (expected.empty() || !target_.blob_stored(expected))) {
    return CopyMemberThenDigest(entry, algorithms, manifests_known, id);
  }
  // A local file is hashed first: one whose blob is stored (unchanged, shared)
  // is not written again. A member is written unless the blob its manifest names is stored.
  Result<PayloadStager::Staged> staged =
      entry.local_path != nullptr ? stager_.StageLocalFile(*entry.local_path, algorithms)
                                  : stager_.Stage(*entry.source, algorithms, expected, true);
  PayloadRead read;
  if (!staged.ok()) {
    if (stager_.IsSiteError(staged.status())) return staged.status();
    read.unreadable = staged.status();
    return read;
  }
  read.file.size = staged->size;
  read.file.digests = staged->digests;
  if (manifests_known && !(id && index.Mismatches(*id, staged->digests).empty())) {
    PayloadStager::Discard(&*staged);  // the checker names what is wrong with it
  } else if (entry.local_path != nullptr && staged->writer &&
             target_.first->capabilities().batch_commit && staged->size <= kBatchCommitMaxBytes) {
    // Small files of a bag folder: committed in batches, as a plain folder's
    // (the disk waited for once per batch, not twice per file).
    CAIRN_RETURN_IF_ERROR(HoldForBatch(entry.path, std::move(staged).value()));
  } else {
    CAIRN_RETURN_IF_ERROR(stager_.Commit(entry.path, &*staged));
  }
  return read;
}

Result<StagingSink::PayloadRead> StagingSink::CopyMemberThenDigest(
    const bagit::PayloadEntry& entry, AlgorithmSet algorithms, bool manifests_known,
    std::optional<bagit::ManifestIndex::EntryId> id) {
  // No expected digest for the writer: it would hash while the walk appends;
  // the digests come from reading the bytes back, and the blob's name from them.
  Result<std::unique_ptr<BlobWriter>> writer = target_.first->NewBlobWriter("");
  if (!writer.ok()) return stager_.SiteError(writer.status());
  auto staged = std::make_shared<PayloadStager::Staged>();
  staged->writer = std::move(writer).value();
  Status site_status;
  Status s = (*entry.source)([&](std::span<const std::byte> chunk) -> Status {
    site_status = staged->writer->Append(chunk);
    if (!site_status.ok()) return stager_.SiteError(site_status);
    staged->size += chunk.size();
    return Status::OK();
  });
  PayloadRead read;
  if (!s.ok()) {
    PayloadStager::Discard(staged.get());
    if (stager_.IsSiteError(s)) return s;
    read.unreadable = s;
    return read;
  }
  // Hashed back from the site's temp file (the page cache) on a committer while
  // the walk reads the next members; the result is held for the checker.
  read.deferred = true;
  std::string path(entry.path);
  AlgorithmSet hash = algorithms | bagit::Only(Algorithm::kSha256);
  Committers::Job job;
  job.drop = [staged] { PayloadStager::Discard(staged.get()); };
  job.run = [this, staged, path, hash, id, manifests_known]() -> Status {
    Result<bagit::Digests> digests = staged->writer->DigestAppended(hash);
    if (!digests.ok()) {
      PayloadStager::Discard(staged.get());
      return stager_.SiteError(digests.status());
    }
    staged->digests = std::move(digests).value();
    const bagit::ManifestIndex& index = *ingest_->contents->manifests;
    if (!manifests_known || (id && index.Mismatches(*id, staged->digests).empty())) {
      CAIRN_RETURN_IF_ERROR(stager_.Commit(path, staged.get()));
    } else {
      PayloadStager::Discard(staged.get());  // the checker names what is wrong with it
    }
    return HoldPayload(path, staged->size, staged->digests);
  };
  if (!committers_) committers_ = std::make_unique<Committers>(target_.threads);
  CAIRN_RETURN_IF_ERROR(committers_->Push(std::move(job)));
  return read;
}

Status StagingSink::HoldPayload(std::string_view path, uint64_t size,
                                const bagit::Digests& digests) {
  std::lock_guard<std::mutex> lock(ingest_->mu);
  return ingest_->scratch->HoldPayload(path, size, digests);
}

Status StagingSink::ForEachHeldPayload(const HeldPayload& fn) {
  CAIRN_RETURN_IF_ERROR(Finish());  // the deferred members are held once hashed
  return ingest_->scratch->ForEachHeldPayload(fn);
}

Status StagingSink::RenamePayload(std::string_view from, std::string_view to) {
  std::lock_guard<std::mutex> lock(ingest_->mu);
  return ingest_->scratch->RenameFile(from, to);
}

}  // namespace cairn::repo::deposit_internal
