// The RFC 8493 rules, independent of where the bytes come from. The bag walker
// (bagit/bag_walker.h: a folder walk or an archive stream, for validation and
// for deposit alike) feeds the checker the bag's tag files and payload files;
// the checker records every finding in a Report and fills a BagContents.
//
// Order of calls: TagFile("bagit.txt", ...) first (or BagitTxtMissing()), then
// the other tag files, then payload files (PayloadFile may be called from
// several threads at once), then Finish() once.
#ifndef CAIRN_BAGIT_BAG_CHECKER_H_
#define CAIRN_BAGIT_BAG_CHECKER_H_

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/archive.h"
#include "bagit/paths.h"
#include "bagit/validator.h"

namespace cairn::bagit {

// Reads one file's bytes into a sink: a local file or the current archive member.
using ByteSource = std::function<Status(const ChunkSink& sink)>;

// A ByteSource over bytes held in memory (a tag file read whole); `bytes` must
// outlive the source.
ByteSource MemorySource(const std::string* bytes);

class BagChecker {
 public:
  BagChecker(const ValidateOptions& options, Report* report, BagContents* contents);

  // Algorithms to hash tag files with (those of the tag manifests); all six when
  // not called.
  void SetTagAlgorithms(AlgorithmSet algorithms) { tag_algorithms_ = algorithms; }
  // Reads, hashes and parses one tag file (bag-relative path outside data/).
  // A non-OK Status means the bytes could not be read (the driver decides
  // whether that is "could not run"); rule findings go to the report.
  Status TagFile(std::string_view path, const ByteSource& source);
  void BagitTxtMissing();

  // Algorithms payload files must be hashed with: those of the payload manifests
  // in full mode, none otherwise.
  AlgorithmSet PayloadAlgorithms() const;
  bool WantsHashes() const { return options_.mode == ValidationMode::kFull; }
  // A regular payload file of `size` bytes; `digests` is null when not hashed.
  // Thread-safe.
  void PayloadFile(std::string_view path, uint64_t size, const Digests* digests);
  // The name an archive's payload member `member` stands for: itself when a
  // payload manifest lists it (or none is known yet); else the one manifest path,
  // not yet met, that differs from it only in Unicode normalization, which is
  // claimed by it (libarchive reads a pax tar's UTF-8 names back as NFC, and a
  // Mac writes NFD; said once at Finish, archive.name-normalized); else `member`.
  // Thread-safe.
  std::string ArchiveMemberName(std::string_view member);
  // A directory under data/ (a manifest must not list it). One with no payload
  // file below it is kept at Finish in BagContents::empty_folders (a bag's
  // manifests list files only); a name that cannot be a payload path is refused.
  void PayloadDirectory(std::string_view path);
  // A directory of the tag area (outside data/, e.g. "metadata"). One with no tag file below it
  // is kept at Finish in BagContents::empty_folders, as an empty payload folder is, under the
  // same name rules.
  void TagDirectory(std::string_view path);
  // An entry that may not be in a bag (symlink, device, hard link, ...).
  void Refuse(std::string_view path, std::string_view rule, std::string message);

  // Cross-file rules: missing files, Payload-Oxum, tag manifests, fetch.txt, names
  // that differ only in case or normalization, the profile.
  void Finish(bool data_dir_present);

  const BagitVersion& version() const { return contents_->declaration.version; }
  // True once a tag file over its size limit was refused and left unread: the
  // bag is invalid whatever follows, so a driver may stop reading its source.
  bool oversized_tag() const { return oversized_tag_; }

 private:
  // Hashes the file; keeps up to `max_bytes` of it in *bytes (nullptr: keep none).
  // A file over `max_bytes` is reported (tag.too-large) and not read further.
  Status ReadTagBytes(std::string_view path, const ByteSource& source, size_t max_bytes,
                      std::string* bytes, TagFileRecord* record);
  Status ReadTagLines(std::string_view path, const ByteSource& source, TagFileRecord* record,
                      const std::function<void(uint64_t, std::string_view)>& on_line);
  void CheckTagManifests();
  void CheckFetch();
  void CheckMissingAndCollisions();
  void CheckOxum();
  void CheckEmptyFolders();
  // A manifest's file path that is also a folder holding payload files (an archive can carry
  // both data/x and data/x/y; no file system can hold them, so such a bag cannot be restored).
  void CheckFilesThatAreFolders();
  // Adds the folders above payload or tag file `path` to folders_holding_ (under mu_).
  void NoteFoldersHolding(std::string_view path);
  void GiveUpFolders();  // past kMaxTrackedFolders: forgets both sets

  struct TagManifestLine {
    int manifest;  // index into tag_manifests_
    std::string path;
    std::string digest;
    uint64_t line;
  };
  struct TagManifest {
    std::string file;
    Algorithm algorithm;
  };

  ValidateOptions options_;
  Report* report_;
  BagContents* contents_;
  AlgorithmSet tag_algorithms_ = AlgorithmSet().set();
  bool bagit_seen_ = false;
  bool oversized_tag_ = false;
  std::vector<TagManifest> tag_manifests_;
  std::vector<TagManifestLine> tag_manifest_lines_;
  std::mutex mu_;  // guards payload counters, the index's seen marks and report_
  uint64_t payload_files_ = 0;
  uint64_t payload_bytes_ = 0;
  // For CheckEmptyFolders: the payload and tag folders met (a folder walk's, an
  // archive's directory members) and those with a payload or tag file below them,
  // each at most kMaxTrackedFolders (then the check is given up, and says so).
  static constexpr size_t kMaxTrackedFolders = 100000;
  std::set<std::string, std::less<>> payload_folders_;
  std::set<std::string, std::less<>> folders_holding_;
  bool folders_tracked_ = true;
  // For ArchiveMemberName (under mu_): the manifests' paths by spelling (made at
  // the first member not found), those claimed, and the members renamed.
  std::optional<SpellingIndex<ManifestIndex::EntryId>> spellings_;
  std::set<ManifestIndex::EntryId> claimed_;
  uint64_t renamed_ = 0;
  std::string first_renamed_;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_BAG_CHECKER_H_
