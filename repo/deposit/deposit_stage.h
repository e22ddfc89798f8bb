// Internal to deposit: the pieces every ingest driver (folder, bag folder,
// serialized bag) shares. A PayloadStager reads one payload file once, hashing
// it with every algorithm needed while appending it to a BlobWriter on the
// first site; the blob is committed under its content address only when the
// driver has checked the digests. An Ingest collects what a driver found.
#ifndef CAIRN_REPO_DEPOSIT_STAGE_H_
#define CAIRN_REPO_DEPOSIT_STAGE_H_

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bagit/bag_checker.h"
#include "bagit/bag_walker.h"
#include "bagit/digest.h"
#include "bagit/report.h"
#include "bagit/validator.h"
#include "repo/deposit/deposit_scratch.h"
#include "repo/run_pool.h"
#include "repo/site/site.h"
#include "repo/storage/backend.h"

namespace cairn::repo::deposit_internal {

// Files a walking driver lists before storing them as one batch (memory stays
// bounded whatever the tree's size).
inline constexpr size_t kStoreBatchFiles = 4096;

// On a site whose writers commit in batches (BackendCapabilities::batch_commit):
// files of at most kBatchCommitMaxBytes are staged by the workers and their
// blobs committed together (PayloadStager::CommitBatch: the disk waited for
// twice per batch), at most Site::BlobBatchLimit() at once. Larger files
// commit one by one on the workers, as before.
inline constexpr uint64_t kBatchCommitMaxBytes = uint64_t{1} << 20;

// A tag file waiting to be committed to the first site once the bag is known
// to be good. Either `writer` holds its bytes (the depositor's file, teed while
// the checker read it) or `bytes` does (a file Cairn generated).
struct StagedTagFile {
  std::string name;  // bag-relative: "bagit.txt", "tagmanifest-sha256.txt"
  uint64_t size = 0;
  std::string sha256;
  std::unique_ptr<BlobWriter> writer;
  std::optional<std::string> bytes;
  bool cairn_added = false;  // not the depositor's: restore leaves it out
};

// Where and how a driver stores payload. Thread-safe where noted.
struct IngestTarget {
  Site* first = nullptr;  // the first site: payload blobs and tag files go through it
  std::string site_name;
  // True when the catalog already holds this blob on the first site, state ok,
  // AND its bytes, read back from the site now, hash to its name (then the
  // depositor's bytes are hashed but not written again; a damaged blob answers
  // false, so they are written and replace it). Thread-safe.
  std::function<bool(const std::string& sha256)> blob_stored;
  unsigned threads = 2;
  const bagit::Profile* profile = nullptr;
  // Called after each payload file is stored (or found stored), with the
  // running totals of files and bytes; under the ingest's lock, so it must be
  // quick. May be empty.
  std::function<void(uint64_t files, uint64_t bytes)> on_file_stored;
  // DepositRequest::manifest_memory_bytes.
  uint64_t manifest_memory_bytes = 0;
  // The object has versions already: most of its files are likely stored.
  // A small local file is then hashed first and, when a blob of its digest on
  // the first site reads back right, not copied (PayloadStager::ReuseStored).
  bool blobs_likely_stored = false;
  // DepositRequest::cancel: once set, no payload file is begun (Interrupted()).
  const std::atomic<bool>* cancel = nullptr;

  // True once the deposit is to stop; first the pause point deposit.storing (repo/crash_point.h).
  bool Interrupting() const;
};

// What a deposit stopped by DepositRequest::cancel before its catalog commit returns: nothing
// of it was stored (what it wrote is taken back as for any failure), and its rerun deposits it.
Status Interrupted();

// A blob the deposit found on the first site with wrong bytes and replaced with
// the depositor's (recorded as events).
struct BlobRepair {
  std::string path;     // the payload file whose bytes replaced it
  std::string sha256;   // the blob
  std::string damaged;  // what the site held: "site a: blob X: read N bytes with sha256 Y"
};

// What a driver produced. The report holds every finding; when it has errors
// nothing may be committed (the new blobs are removed by the caller). The
// per-file lists (files stored, blobs created) are in `scratch`, on disk: the
// ingest's memory does not grow with the file count.
struct Ingest {
  explicit Ingest(std::unique_ptr<DepositScratch> s) : scratch(std::move(s)) {}
  bagit::Report report;
  std::unique_ptr<DepositScratch> scratch;  // payload files stored, blobs created
  // Its manifest index is in memory or in `scratch` (ChooseManifestIndex;
  // declared after it: destroyed first).
  std::unique_ptr<bagit::BagContents> contents = std::make_unique<bagit::BagContents>();
  bool manifest_index_in_memory = true;
  std::deque<StagedTagFile> tags;   // deque: staged sources point into it
  bool committed = false;           // the catalog holds the version: keep the blobs
  uint64_t file_count = 0;          // payload files recorded in `scratch`
  uint64_t bytes_written = 0;       // payload bytes newly stored on the first site
  uint64_t blobs_reused = 0;        // payload files whose blob was already there
  uint64_t payload_bytes = 0;       // bytes of the payload files in `scratch`
  std::vector<BlobRepair> repairs;  // damaged blobs replaced on the first site
  std::string kind;                 // "folder", "bag", "serialized bag"
  std::mutex mu;                    // guards scratch, counters
};

// The manifests' size when it is not known before they are read.
inline constexpr uint64_t kManifestBytesUnknown = UINT64_MAX;

// Chooses where the bag's payload manifests are indexed, before the first is
// read: in memory (bagit::MemoryManifestIndex, the index an Ingest starts
// with) when three times `manifest_bytes` (the payload manifests' total size)
// fits in target.manifest_memory_bytes, else in the scratch file
// (DiskManifestIndex). Three times: a manifest line becomes a binary digest,
// its path and about 32 bytes of entry, in vectors that may have doubled; so
// the index never takes more than the budget. IOError if the disk index
// cannot be made.
Status ChooseManifestIndex(uint64_t manifest_bytes, const IngestTarget& target, Ingest* ingest);

// Reads, hashes and stores payload bytes.
class PayloadStager {
 public:
  PayloadStager(const IngestTarget& target, Ingest* ingest) : target_(target), ingest_(ingest) {}

  struct Staged {
    uint64_t size = 0;
    bagit::Digests digests;
    std::unique_ptr<BlobWriter> writer;  // null when the write was skipped
    // Set when the write was skipped: the blob found stored (and verified) on
    // the first site that these bytes were expected to be.
    std::string stored_sha256;
  };

  // Streams `source` once, hashing with `algorithms` plus sha256. The bytes go
  // to a new writer on the first site unless `expected_sha256` is set and the
  // blob is already stored there. When `from_manifest` is true the expected
  // digest is the bag's own claim and the backend checks it at commit too (a
  // guess from the previous version is not passed on). Errors of the site name
  // it ("site a: ..."); errors of the source are returned as the source gave them.
  Result<Staged> Stage(const bagit::ByteSource& source, bagit::AlgorithmSet algorithms,
                       const std::string& expected_sha256, bool from_manifest);

  // Stage for a local file: reads and hashes it first (from a memory map when
  // it is large), then hands the open file to the writer with the SHA-256 it
  // must have (S3 sites upload it straight to the blob's key and check that
  // digest of what they sent before the upload completes, so a file changed
  // meanwhile is caught). A blob already stored is not written again even when
  // no digest was expected. Whatever the file's size: reading it twice costs
  // less than the alternative, a temporary key copied on the server at commit.
  // On a site whose writers can digest their bytes before Commit (posix,
  // StorageBackend::DigestsBeforeCommit) the file is instead copied first
  // (inside the kernel) and the copy is read back and hashed: one read of the
  // bytes in this process, and the blob is right by construction. A file whose
  // size or mtime changes during the copy is refused.
  Result<Staged> StageLocalFile(const std::string& path, bagit::AlgorithmSet algorithms);

  // Makes a staged file's blob visible under its content address (write-once,
  // through Site::CommitBlob: a blob already there is read back, and replaced
  // by these bytes if it is damaged, which goes to ingest->repairs) and records the file in the
  // ingest's scratch (with the hex digests of `keep` joined by ' ' in algorithm order, for a caller
  // that writes the manifests). When the write was skipped but the computed SHA-256 differs from
  // the one expected, returns NotFound (the caller re-reads the file with no expectation, or
  // fails). The writer is aborted on any error.
  Status Commit(std::string_view path, Staged* staged, bagit::AlgorithmSet keep = {});

  // One file of a batch (CommitBatch); `held` false: nothing to commit here
  // (the worker committed it, or it was refused).
  struct BatchItem {
    std::string path;
    Staged staged;
    bool held = false;
  };
  // The blobs of a batch's held items that have a writer, for the site
  // (Site::BlobBatches); (*of_blob)[b] is the item of blob b.
  static std::vector<Site::BlobToCommit> BlobsOf(std::span<BatchItem> items,
                                                 std::vector<size_t>* of_blob);
  // Commit's second half for every held item, once the site has given the
  // results of its blobs (`committed[b]` of item `of_blob[b]`): each file is
  // recorded in the scratch as Commit records it. Returns the first failure
  // (the site's errors name it); every stored blob is recorded all the same.
  Status RecordBatch(std::span<BatchItem> items, const std::vector<size_t>& of_blob,
                     const std::vector<Result<Site::BlobCommitResult>>& committed,
                     bagit::AlgorithmSet keep = {});

  // Discards a staged file's bytes.
  static void Discard(Staged* staged) {
    if (staged->writer) staged->writer->Abort();
    staged->writer.reset();
  }

  // Prefixes a site error with the site's name.
  Status SiteError(const Status& s) const;
  // True for a Status SiteError made (the site failed, not the source).
  bool IsSiteError(const Status& s) const;

 private:
  // Copies `size` bytes of `fd` (the file at `path`) into staged->writer. On failure
  // discards the staged bytes and returns "changed while it was deposited" if the
  // file got shorter, else the site's error (SiteError).
  Status CopyWholeFile(int fd, const std::string& path, uint64_t size, Staged* staged);
  // StageLocalFile on a site with DigestsBeforeCommit: `fd` is open on `path`,
  // whose fstat when opened was `st`.
  Result<Staged> CopyThenDigest(int fd, const std::string& path, const struct stat& st,
                                bagit::AlgorithmSet algorithms);
  // For CopyThenDigest of a small file when IngestTarget::blobs_likely_stored:
  // hashes the file, and if a blob of its SHA-256 is on the first site and
  // reads back right (Site::JudgeExistingBlob, as a commit that finds it),
  // returns it staged as stored (no writer). nullopt when there is none, or
  // one whose bytes are wrong or unreadable: the caller writes the file, and
  // the commit replaces that blob and records the repair.
  Result<std::optional<Staged>> ReuseStored(int fd, const std::string& path, const struct stat& st,
                                            bagit::AlgorithmSet algorithms);
  // InvalidArgument "PATH changed while it was deposited" if the open file `fd`
  // no longer has the size and modification time of `before`.
  static Status CheckUnchanged(int fd, const std::string& path, const struct stat& before);

  // Records a committed (or found stored) file in the scratch and the counters.
  Status Record(std::string_view path, const Staged& staged, bool created, bool written,
                std::optional<BlobRepair> repair, bagit::AlgorithmSet keep);

  const IngestTarget& target_;
  Ingest* ingest_;
};

// Commits a stager's batches of small files on a site that commits in
// batches (Site::BlobBatches: one wait for the disk between two batches), one
// at a time, in order, on a thread of its own, so that the caller stages the
// next batch while one waits for the disk. A batch's files are recorded in the
// scratch once the next batch's Sync (or Finish) has made their names
// durable. Not thread-safe: one caller drives it.
class BatchPipeline {
 public:
  // `threads`: the workers that make a batch's names.
  BatchPipeline(PayloadStager* stager, Site* site, unsigned threads, bagit::AlgorithmSet keep);
  ~BatchPipeline();
  BatchPipeline(const BatchPipeline&) = delete;
  BatchPipeline& operator=(const BatchPipeline&) = delete;

  // Waits for the batch being added, then starts adding `items`. If a batch
  // before failed, `items` are discarded and its status returned.
  Status Commit(std::vector<PayloadStager::BatchItem> items);
  // Waits for the batch being added, makes the last one durable and records
  // it; the first failure (OK if none).
  Status Finish();

 private:
  Status Join();  // waits until the thread has no batch; its status
  Status Step();  // on the thread: adds adding_, records added_ with the results
  void Run();     // the thread: one Step per batch handed over, until stop_

  PayloadStager* stager_;
  Site::BlobBatches batches_;
  bagit::AlgorithmSet keep_;
  std::vector<PayloadStager::BatchItem> adding_;  // given to the thread
  std::vector<PayloadStager::BatchItem> added_;   // added; results at the next Add
  std::vector<size_t> added_of_blob_;
  // One thread for the whole ingest (made at the first batch): a thread per
  // batch would spread the batches' allocations over the allocator's arenas
  // and grow the peak RSS with the file count.
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;  // adding_ handed over, its Step not done
  bool stop_ = false;
  Status status_;  // of the last Step
  std::thread thread_;
};

// True if `s` is an error of the target's site ("site NAME: ...") or the deposit's Interrupted():
// either stops the ingest (never a finding about the file).
inline bool IsSiteErrorOf(const IngestTarget& target, const Status& s) {
  return !s.ok() && (s.message().starts_with("site " + target.site_name + ": ") ||
                     (s.code() == Code::kAborted && s.message() == Interrupted().message()));
}

using bagit::LocalFileSource;
using bagit::MemorySource;
// Wraps `source` so every chunk is also appended to `writer` and hashed with
// sha256 into *sha256_hex (set when the source ends), counting bytes into *size.
// A write error is returned as "site SITE_NAME: ...".
bagit::ByteSource TeeSource(bagit::ByteSource source, BlobWriter* writer, std::string site_name,
                            std::string* sha256_hex, uint64_t* size);

// Starts tag file `name` of the depositor's bag: opens a writer on the first
// site and returns a source that tees `inner` into it (size and sha256 filled
// in as it is read). A name the site layout cannot hold is reported
// (tag.name) and the bytes are only read.
Result<bagit::ByteSource> StageTagFile(const IngestTarget& target, Ingest* ingest,
                                       std::string_view name, bagit::ByteSource inner);

// Deposit's sink for the bag walker (bagit/bag_walker.h), shared by the bag
// folder and serialized bag drivers: tag files are teed into writers on the
// first site as the checker reads them (StageTagFile); each payload file is
// read once, hashed while appended to a blob writer, and its blob committed
// only when every manifest listing it agrees. A payload file read before the
// manifests are known is committed under its SHA-256 at once (correct by
// construction) and held in the deposit scratch (on disk) until the end; the
// caller removes such new blobs if the bag is refused.
//
// An archive's members arrive one after another on one thread; on a posix
// first site each is only copied into a blob writer there, and is hashed back,
// checked and made durable and visible (PayloadStager::Commit: fsync, link,
// fsync of the folder) by one of `target.threads` committers meanwhile, so the
// hashing and the disk's latency overlap the reading of the next members, as
// the folder drivers' parallel workers overlap them. Finish waits for them.
class StagingSink : public bagit::BagSink {
 public:
  StagingSink(const IngestTarget& target, Ingest* ingest);
  ~StagingSink() override;
  // Waits until every payload blob handed to the committers is committed;
  // returns the first failure. Call before the ingest's result is used.
  Status Finish();

  Result<bagit::ByteSource> TagFile(std::string_view path, bagit::ByteSource source) override;
  Result<PayloadRead> PayloadFile(const bagit::PayloadEntry& entry, bagit::AlgorithmSet algorithms,
                                  bool manifests_known) override;
  Status HoldPayload(std::string_view path, uint64_t size, const bagit::Digests& digests) override;
  Status ForEachHeldPayload(const HeldPayload& fn) override;
  Status RenamePayload(std::string_view from, std::string_view to) override;
  bool IsSinkError(const Status& s) const override { return stager_.IsSiteError(s); }

 private:
  class Committers;
  // An archive member on a site whose writers hash back what they hold
  // (posix): its bytes go to a blob writer as read, and a committer hashes
  // them back, checks them against the manifests, commits the blob and holds
  // the result for the checker (PayloadRead::deferred).
  Result<PayloadRead> CopyMemberThenDigest(const bagit::PayloadEntry& entry,
                                           bagit::AlgorithmSet algorithms, bool manifests_known,
                                           std::optional<bagit::ManifestIndex::EntryId> id);
  // A local payload file whose blob is new, on a site that commits in
  // batches: held for the next batch (committed by pipeline_ once
  // Site::BlobBatchLimit() are held, and at Finish) instead of committed alone.
  Status HoldForBatch(std::string_view path, PayloadStager::Staged staged);

  const IngestTarget& target_;
  Ingest* ingest_;
  PayloadStager stager_;
  std::unique_ptr<Committers> committers_;  // made at the first archive member
  std::mutex batch_mu_;                     // guards batch_ and pipeline_
  std::vector<PayloadStager::BatchItem> batch_;
  std::unique_ptr<BatchPipeline> pipeline_;  // made at the first batch
};

// The three ingest drivers (deposit_folder.cc, deposit_bag_dir.cc,
// deposit_archive.cc). Each fills `ingest` (report, contents, files, staged tag
// files, new blobs). A non-OK Status means the deposit could not run (a site
// error, an unreadable source root); bag problems go to ingest->report.
struct FolderBagging {
  std::vector<std::string> info;   // "Label: value" lines for bag-info.txt
  bagit::AlgorithmSet algorithms;  // manifests to write (sha256 always added)
  std::string agent;               // Bag-Software-Agent value
  std::string bagging_date;        // YYYY-MM-DD
  bool allow_empty = false;        // DepositRequest::allow_empty
};
Status IngestFolder(const std::string& dir, const FolderBagging& bagging,
                    const IngestTarget& target, Ingest* ingest);
Status IngestBagDirectory(const std::string& dir, const IngestTarget& target, Ingest* ingest);
Status IngestArchive(const std::string& path, const IngestTarget& target, Ingest* ingest);

}  // namespace cairn::repo::deposit_internal

#endif  // CAIRN_REPO_DEPOSIT_STAGE_H_
