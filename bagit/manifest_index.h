// The payload manifests of a bag held compactly in memory: one entry per
// distinct path (paths in one arena, digests as binary columns, one column per
// manifest), sorted for binary search. About 30 bytes plus the path and the
// binary digests per file, so a million-file bag fits in well under 256 MiB.
//
// Filled by the validator from manifest-*.txt; read by deposit and restore to
// know every payload path and its digests without re-parsing the manifests.
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
#include "bagit/tag_files.h"

namespace cairn::bagit {

class ManifestIndex {
 public:
  static constexpr int kMaxManifests = 16;
  using EntryId = uint32_t;

  // Starts manifest `file` (e.g. "manifest-sha256.txt") for `algorithm`.
  // InvalidArgument if a manifest for that algorithm was already added or there
  // are more than kMaxManifests.
  Status BeginManifest(Algorithm algorithm, std::string file);
  // Adds one parsed line of the current manifest. A path listed twice in the same
  // manifest is reported when the manifest ends.
  void Add(const ParsedManifestLine& line, uint64_t line_no, const BagitVersion& version,
           Report* report);
  // Ends the current manifest: reports duplicate lines (same digest: warning before
  // 1.0, error in 1.0; different digests: error) and merges its new paths in.
  void EndManifest(const BagitVersion& version, Report* report);

  size_t size() const { return live_; }
  int manifest_count() const { return static_cast<int>(manifests_.size()); }
  Algorithm manifest_algorithm(int m) const { return manifests_[m].algorithm; }
  const std::string& manifest_file(int m) const { return manifests_[m].file; }
  // The algorithms of every manifest added.
  AlgorithmSet algorithms() const;

  // The entry for `path` (decoded, bag-relative), or nullopt.
  std::optional<EntryId> Find(std::string_view path) const;
  std::string_view path(EntryId id) const;
  // Bit m set when manifest m lists the entry.
  uint32_t listed_mask(EntryId id) const { return entries_[id].listed; }
  uint32_t all_manifests_mask() const { return (1u << manifests_.size()) - 1; }
  // Lower-case hex digest of `algorithm` for the entry, or "" if no manifest of
  // that algorithm lists it.
  std::string HexDigest(EntryId id, Algorithm algorithm) const;
  // Compares computed digests with every manifest listing the entry; returns the
  // manifest numbers that disagree (empty: all match). Digests not computed are skipped.
  std::vector<int> Mismatches(EntryId id, const Digests& computed) const;
  // True if the entries hold the same digest in every manifest listing both.
  bool SameDigests(EntryId a, EntryId b) const;

  // Seen marks, used by the validator while hashing (the caller serialises calls).
  bool seen(EntryId id) const { return entries_[id].seen != 0; }
  void MarkSeen(EntryId id) { entries_[id].seen = 1; }

  // Calls fn(id) for every entry in path order.
  void ForEach(const std::function<void(EntryId)>& fn) const;

 private:
  struct Entry {
    uint64_t path_offset = 0;
    uint32_t path_length = 0;
    uint32_t line = 0;    // line in the manifest that first listed it
    uint16_t listed = 0;  // bit per manifest
    uint8_t seen = 0;
    uint8_t dead = 0;  // a duplicate line folded into another entry
  };
  struct Manifest {
    Algorithm algorithm;
    std::string file;
    std::string column;  // binary digests, digest_size bytes per entry id
    size_t digest_size = 0;
  };
  std::string_view DigestBytes(int m, EntryId id) const;
  void SetDigest(int m, EntryId id, std::string_view binary);
  bool LessPath(EntryId a, EntryId b) const { return path(a) < path(b); }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<EntryId> sorted_;  // live entries of finished manifests, by path
  std::vector<EntryId> tail_;    // entries new in the current manifest
  std::vector<Manifest> manifests_;
  size_t live_ = 0;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_MANIFEST_INDEX_H_
