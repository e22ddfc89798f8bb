// Internal to deposit: the per-file lists of one deposit kept on disk, so a
// deposit's memory does not grow with its file count. A DepositScratch is a
// small SQLite database in REPO/tmp/ (repo/catalog/scratch_store.h: one
// table, clustered on the path, a few MiB of page cache, no journal, no
// fsync: it is thrown away after the deposit) that records every payload file stored (path, size,
// SHA-256, whether this deposit created the blob, and for a folder deposit the digests of the other
// manifest algorithms). The commit reads it back in path order to write the manifests, version.pb
// and the catalog rows. The same database holds the index of the bag's payload manifests (tables
// mi_*, repo/deposit/disk_manifest_index.h).
//
// A running deposit holds an exclusive flock(2) on its scratch file; the
// file is removed when the deposit ends, and one a killed deposit left is
// removed by the next deposit (CleanupStaleScratch: whatever file it can lock).
#ifndef CAIRN_REPO_DEPOSIT_SCRATCH_H_
#define CAIRN_REPO_DEPOSIT_SCRATCH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bagit/bag_checker.h"
#include "bagit/digest.h"
#include "bagit/status.h"
#include "repo/catalog/scratch_store.h"

namespace cairn::repo::deposit_internal {

// One payload file as stored: its bag path, size and SHA-256 (the blob key),
// and other_digests as given to DepositScratch::AddFile ("" if none).
using IngestedFile = ScratchFile;

class DepositScratch {
 public:
  // Makes a new scratch database REPO_ROOT/tmp/deposit-PID-N.scratch (the
  // folder is created if absent) and locks it. IOError naming the file if it
  // cannot be made.
  static Result<std::unique_ptr<DepositScratch>> Create(const std::string& repo_root);
  // Removes the scratch files in REPO_ROOT/tmp/ that no running deposit holds
  // (left by killed deposits). Best effort.
  static void CleanupStale(const std::string& repo_root);

  // Closes and removes the file.
  ~DepositScratch();
  DepositScratch(const DepositScratch&) = delete;
  DepositScratch& operator=(const DepositScratch&) = delete;

  // Records one stored payload file. `created`: this deposit made the blob.
  // AlreadyExists if the path was recorded before. Not thread-safe: the
  // caller serialises calls (the ingest's mutex).
  Status AddFile(std::string_view path, uint64_t size, std::string_view sha256, bool created,
                 std::string_view other_digests = {});
  // Calls fn for every file in path order (byte order, as std::string
  // compares), or with kDigest by SHA-256 then path; stops at the first error
  // fn returns.
  using Order = ScratchStore::Order;
  Status ForEachFile(const std::function<Status(const IngestedFile&)>& fn,
                     Order order = Order::kPath);
  // Keeps a payload file met before the bag's manifests (a serialized bag whose
  // manifests come after its payload) until it can be checked: its path, size
  // and the hex digests of every algorithm. On disk, so such an archive does
  // not grow the deposit's memory per file. Not thread-safe (like AddFile).
  Status HoldPayload(std::string_view path, uint64_t size, const bagit::Digests& digests);
  // Calls fn(path, size, digests) for every held file, in the order held.
  Status ForEachHeldPayload(
      const std::function<void(const std::string&, uint64_t, const bagit::Digests&)>& fn);
  // The file recorded as `from` is `to` (an archive member whose name came in
  // another Unicode normalization than its manifest line's). AlreadyExists if
  // `to` is recorded too; nothing is done if `from` is not.
  Status RenameFile(std::string_view from, std::string_view to);
  // Calls fn(sha256) for every blob this deposit created.
  Status ForEachCreatedBlob(const std::function<void(const std::string&)>& fn);

  const std::string& path() const { return path_; }
  // The scratch database, for other per-file tables of the deposit (the
  // manifest index, repo/deposit/disk_manifest_index.h); valid while this lives.
  ScratchStore* store() { return store_.get(); }

 private:
  DepositScratch(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}

  std::string path_;
  int lock_fd_ = -1;
  std::unique_ptr<ScratchStore> store_;  // the SQL (repo/catalog/scratch_store.h)
};

// The scratch keeps a file's digests as one text column: the hex digests of
// a set of algorithms joined by ' ' in algorithm order. JoinDigests makes it;
// NthDigest reads the n-th (from 0) back ("" past the end).
std::string JoinDigests(const bagit::Digests& digests, bagit::AlgorithmSet which);
std::string_view NthDigest(std::string_view joined, size_t n);

// The hex digest of `algorithm` of a file recorded with other_digests of the
// algorithms `kept` (JoinDigests of them); sha256 is the file's own.
std::string_view DigestOf(const IngestedFile& file, bagit::Algorithm algorithm,
                          bagit::AlgorithmSet kept);

// The payload manifest of `algorithm` ("digest  data/path" lines in path
// order) generated from the scratch in chunks, never whole in memory.
bagit::ByteSource ManifestSource(DepositScratch* scratch, bagit::Algorithm algorithm,
                                 bagit::AlgorithmSet kept);

}  // namespace cairn::repo::deposit_internal

#endif  // CAIRN_REPO_DEPOSIT_SCRATCH_H_
