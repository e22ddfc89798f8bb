// The payload manifests of a bag: one entry per distinct path with the digest
// each manifest gives it, filled by the validator from manifest-*.txt and read
// by deposit to know every payload path and its digests without re-parsing
// the manifests.
//
// ManifestIndex is the interface; every implementation gives the same answers
// and reports the same findings, in the same order, for the same manifests:
//   - MemoryManifestIndex (below): compact, in memory (paths in one arena,
//     digests as binary columns, sorted for binary search): about 120 bytes
//     per file in practice, so a million-file bag costs about 120 MiB. Used by
//     `cairn bag validate` and every caller that does not choose otherwise.
//   - repo::DiskManifestIndex (repo/deposit/disk_manifest_index.h): the same entries in
//     a throwaway SQLite file with a bounded page cache, so memory does not
//     grow with the number of entries. Used by `cairn deposit` for manifests
//     too large for its memory budget, and for every serialized bag.
#ifndef CAIRN_BAGIT_MANIFEST_INDEX_H_
#define CAIRN_BAGIT_MANIFEST_INDEX_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/digest.h"
#include "bagit/report.h"
#include "bagit/status.h"
#include "bagit/tag_files.h"

namespace cairn::bagit {

class ManifestIndex {
 public:
  static constexpr int kMaxManifests = 16;
  using EntryId = uint32_t;
  // One entry as ForEach hands it over; `path` is valid during the call only.
  struct EntryView {
    EntryId id = 0;
    std::string_view path;
    uint32_t listed = 0;  // bit m set when manifest m lists the entry
    bool seen = false;
  };

  virtual ~ManifestIndex() = default;

  // Starts manifest `file` (e.g. "manifest-sha256.txt") for `algorithm`.
  // InvalidArgument if a manifest for that algorithm was already added or there
  // are more than kMaxManifests.
  Status BeginManifest(Algorithm algorithm, std::string file);
  // Adds one parsed line of the current manifest. A path listed twice in the same
  // manifest is reported (at once if an earlier manifest lists it, otherwise when
  // the manifest ends).
  virtual void Add(const ParsedManifestLine& line, uint64_t line_no, const BagitVersion& version,
                   Report* report) = 0;
  // Ends the current manifest: reports duplicate lines (same digest: warning before
  // 1.0, error in 1.0; different digests: error), in path order, and merges its
  // new paths in.
  virtual void EndManifest(const BagitVersion& version, Report* report) = 0;

  // Distinct paths of the finished manifests.
  virtual size_t size() const = 0;
  int manifest_count() const { return static_cast<int>(manifests_.size()); }
  Algorithm manifest_algorithm(int m) const { return manifests_[m].algorithm; }
  const std::string& manifest_file(int m) const { return manifests_[m].file; }
  // The algorithms of every manifest added.
  AlgorithmSet algorithms() const;
  uint32_t all_manifests_mask() const { return (1u << manifests_.size()) - 1; }

  // The entry for `path` (decoded, bag-relative), or nullopt.
  virtual std::optional<EntryId> Find(std::string_view path) const = 0;
  virtual std::string path(EntryId id) const = 0;
  // Bit m set when manifest m lists the entry.
  virtual uint32_t listed_mask(EntryId id) const = 0;
  // Lower-case hex digest of `algorithm` for the entry, or "" if no manifest of
  // that algorithm lists it.
  virtual std::string HexDigest(EntryId id, Algorithm algorithm) const = 0;
  // Compares computed digests with every manifest listing the entry; returns the
  // manifest numbers that disagree (empty: all match). Digests not computed are skipped.
  virtual std::vector<int> Mismatches(EntryId id, const Digests& computed) const = 0;
  // True if the entries hold the same digest in every manifest listing both.
  virtual bool SameDigests(EntryId a, EntryId b) const = 0;

  // Seen marks, used by the validator while hashing (the caller serialises
  // MarkSeen; reads may come from several threads).
  virtual bool seen(EntryId id) const = 0;
  virtual void MarkSeen(EntryId id) = 0;

  // Calls fn for every entry in path order (byte order). fn may call the
  // index's const methods.
  virtual void ForEach(const std::function<void(const EntryView&)>& fn) const = 0;
  // Calls fn with every group of two or more entries whose CollisionHash is the
  // same (candidates for names differing only in case or normalization), groups
  // in increasing hash order, ids increasing within a group.
  virtual void ForEachCollisionCandidates(
      const std::function<void(const std::vector<EntryId>&)>& fn) const = 0;

  // OK, or the first storage error of an index kept on disk (its answers are
  // then not to be trusted). An in-memory index is always OK.
  virtual Status status() const { return Status::OK(); }

  // The hash grouping collision candidates: of CollisionKey(path).
  static uint64_t CollisionHash(std::string_view path);

 protected:
  struct ManifestInfo {
    Algorithm algorithm;
    std::string file;
    size_t digest_size = 0;  // bytes of a binary digest
  };
  const std::vector<ManifestInfo>& manifests() const { return manifests_; }
  // The manifest being read (the last begun).
  int current_manifest() const { return static_cast<int>(manifests_.size()) - 1; }
  // Called by BeginManifest once the new manifest is in manifests().
  virtual void OnBeginManifest() {}

  static std::string HexToBinary(std::string_view hex);
  static std::string BinaryToHex(std::string_view binary);
  // The finding for a path listed again in manifest `file`.
  static void ReportDuplicate(std::string_view file, std::string_view path, uint64_t first_line,
                              uint64_t line, bool same_digest, const BagitVersion& version,
                              Report* report);

 private:
  std::vector<ManifestInfo> manifests_;
};

// The in-memory index (see the top of this file).
class MemoryManifestIndex final : public ManifestIndex {
 public:
  void Add(const ParsedManifestLine& line, uint64_t line_no, const BagitVersion& version,
           Report* report) override;
  void EndManifest(const BagitVersion& version, Report* report) override;
  size_t size() const override { return live_; }
  std::optional<EntryId> Find(std::string_view path) const override;
  std::string path(EntryId id) const override { return std::string(PathView(id)); }
  uint32_t listed_mask(EntryId id) const override { return entries_[id].listed; }
  std::string HexDigest(EntryId id, Algorithm algorithm) const override;
  std::vector<int> Mismatches(EntryId id, const Digests& computed) const override;
  bool SameDigests(EntryId a, EntryId b) const override;
  bool seen(EntryId id) const override { return entries_[id].seen != 0; }
  void MarkSeen(EntryId id) override { entries_[id].seen = 1; }
  void ForEach(const std::function<void(const EntryView&)>& fn) const override;
  void ForEachCollisionCandidates(
      const std::function<void(const std::vector<EntryId>&)>& fn) const override;

 private:
  struct Entry {
    uint64_t path_offset = 0;
    uint32_t path_length = 0;
    uint32_t line = 0;    // line in the manifest that first listed it
    uint16_t listed = 0;  // bit per manifest
    uint8_t seen = 0;
    uint8_t dead = 0;  // a duplicate line folded into another entry
  };
  void OnBeginManifest() override;
  std::string_view PathView(EntryId id) const;
  std::string_view DigestBytes(int m, EntryId id) const;
  void SetDigest(int m, EntryId id, std::string_view binary);
  bool LessPath(EntryId a, EntryId b) const { return PathView(a) < PathView(b); }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<std::string> columns_;  // per manifest: digest_size bytes per entry id
  std::vector<EntryId> sorted_;       // live entries of finished manifests, by path
  std::vector<EntryId> tail_;         // entries new in the current manifest
  size_t live_ = 0;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_MANIFEST_INDEX_H_
