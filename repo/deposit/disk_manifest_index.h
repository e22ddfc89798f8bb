// A bagit::ManifestIndex kept in SQLite tables instead of memory, so a bag's
// manifests cost a bounded page cache whatever their number of entries (issue
// 3: a deposit's peak memory does not grow with its file count). Same answers
// and findings as bagit::MemoryManifestIndex, entry ids included.
//
// The tables live in a deposit's scratch database (repo/deposit/deposit_scratch.h),
// written through repo/catalog/manifest_store.h: `mi_entry` (one row per
// distinct path of the finished manifests) and `mi_tail` (the lines new in
// the manifest being read, merged in path order when it ends). A line of the
// first manifest whose path sorts after every one entered before goes straight
// to `mi_entry` (every line of Cairn's own manifests); only the others wait in
// the tail. Nothing is committed: the rows spill to the
// file when the cache is full. A payload file's lookup reads its whole row,
// which its seen mark and digest comparison then use.
//
// Thread-safe: every call holds the index's mutex (hashing threads look
// entries up while the checker marks them seen). Storage errors are kept
// (status()): the answers after one are not to be trusted.
#ifndef CAIRN_REPO_DISK_MANIFEST_INDEX_H_
#define CAIRN_REPO_DISK_MANIFEST_INDEX_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "bagit/manifest_index.h"
#include "repo/catalog/manifest_store.h"

namespace cairn::repo {

class DiskManifestIndex final : public bagit::ManifestIndex {
 public:
  // Creates the index tables in `scratch` (REQUIRES: `scratch` outlives the
  // index and has no index tables yet). IOError (SQLite's message) if they
  // cannot be made.
  static Result<std::unique_ptr<DiskManifestIndex>> Create(ScratchStore* scratch);
  ~DiskManifestIndex() override;

  void Add(const bagit::ParsedManifestLine& line, uint64_t line_no,
           const bagit::BagitVersion& version, bagit::Report* report) override;
  void EndManifest(const bagit::BagitVersion& version, bagit::Report* report) override;
  size_t size() const override;
  std::optional<EntryId> Find(std::string_view path) const override;
  std::string path(EntryId id) const override;
  uint32_t listed_mask(EntryId id) const override;
  std::string HexDigest(EntryId id, bagit::Algorithm algorithm) const override;
  std::vector<int> Mismatches(EntryId id, const bagit::Digests& computed) const override;
  bool SameDigests(EntryId a, EntryId b) const override;
  bool seen(EntryId id) const override;
  void MarkSeen(EntryId id) override;
  void ForEach(const std::function<void(const EntryView&)>& fn) const override;
  void ForEachCollisionCandidates(
      const std::function<void(const std::vector<EntryId>&)>& fn) const override;
  Status status() const override;

 private:
  // One entry; digests: binary, manifest after manifest (DigestOffset).
  using Row = ManifestStore::Entry;

  explicit DiskManifestIndex(std::unique_ptr<ManifestStore> store);
  // Reads entry `id`; false if there is none or the read failed.
  bool ReadRow(EntryId id, Row* row) const;
  // Entry `id` (nullptr if there is none or the read failed), from the row the
  // last Find or read left when it is that one: a payload file's lookup, its
  // seen mark and its digests cost one query. REQUIRES: mu_ held while the
  // row is used.
  const Row* CachedRow(EntryId id) const;
  // The binary digest of manifest m in a row ("" if the row is too short).
  std::string_view RowDigest(const Row& row, int m) const;
  size_t DigestOffset(int m) const;
  // Keeps the first error, which status() then returns.
  void Keep(Status s) const;

  mutable std::recursive_mutex mu_;
  std::unique_ptr<ManifestStore> store_;  // guarded by mu_
  mutable Status error_;
  mutable std::optional<EntryId> cached_id_;  // guarded by mu_: CachedRow's row, if any
  mutable Row cached_;
  EntryId next_id_ = 0;  // ids in the order new paths are added, as in memory
  size_t live_ = 0;
  size_t finished_ = 0;  // entries of the finished manifests
  // The first manifest's ordered start, entered line by line (Add).
  int direct_manifest_ = -1;  // the manifest the fields below are about
  bool direct_ = false;       // its ordered lines go straight to the entries
  size_t direct_rows_ = 0;    // entries it made so
  std::string last_direct_path_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_DISK_MANIFEST_INDEX_H_
