// The copying half of a restore, independent of the catalog: given the list of
// files of a bag (each with its storage key, size, SHA-256 and the sites to try
// in order), read every file from the first site that yields the right bytes,
// hashing while writing to a RestoreOutput, and commit it only once verified.
//
// Outcomes per copy are kept apart as the auditor keeps them: corrupt (bytes
// read, wrong size or digest), missing (the site answered NotFound), and
// unavailable (the site could not be read: never called corrupt). Bad copies
// are returned so that the caller can record them for repair.
#ifndef CAIRN_REPO_RESTORE_ENGINE_H_
#define CAIRN_REPO_RESTORE_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/restore/restore_output.h"
#include "repo/site/site.h"

namespace cairn::repo {

enum class CopyOutcome { kOk, kCorrupt, kMissing, kUnavailable };
// "ok", "corrupt", "missing", "unavailable".
std::string_view CopyOutcomeName(CopyOutcome outcome);

// One file of the bag to rebuild.
struct RestoreItem {
  std::string path;  // bag-relative, decoded: "bagit.txt", "data/a b.txt"
  std::string key;   // storage key, the same on every site
  uint64_t size = 0;
  std::string sha256;  // lower-case hex: what the bytes must hash to
  bool tag_file = false;
  std::vector<std::string> sites;  // site names to try, best first
  // Read and verified like any item, but not part of the restored bag (the
  // output decides what to do with its bytes): version.pb, a manifest Cairn
  // added. Not counted in RestoreRun's files.
  bool check_only = false;
  // How many of `sites`, from the first, the catalog records a copy on (held, or owed by the
  // policy). The rest are tried by key only, in case one holds the bytes unrecorded: one that
  // lacks them or cannot be read there is no finding, and is not named. Default: all of them.
  size_t recorded_sites = SIZE_MAX;
};

// A copy that was read and found bad, or could not be read at all.
struct CopyProblem {
  std::string path;
  std::string key;
  std::string sha256;
  bool tag_file = false;
  std::string site;
  CopyOutcome outcome = CopyOutcome::kCorrupt;
  std::string detail;  // "sha256 of the bytes read is 9f86...", "not found", ...
};

struct RestoreRun {
  Status status;  // OK, or why the bag could not be rebuilt
  uint64_t payload_files = 0;
  uint64_t payload_bytes = 0;
  uint64_t tag_files = 0;
  std::map<std::string, uint64_t> files_from_site;  // site -> files read from it
  // Every copy found corrupt or missing, and every site that could not be read.
  std::vector<CopyProblem> problems;
};

// OK if every item's path is safe to write below DEST (bagit::CheckBagPath),
// payload items lie below data/, tag files do not, and no path repeats.
// InvalidArgument naming the path and the rule otherwise.
Status CheckRestoreItems(const std::vector<RestoreItem>& items);

// Copies every item into `out` (tag files are expected first: they are copied
// one at a time, in order, before any payload file) using `threads` workers
// when the output allows it (0: 4 workers). A site absent from `sites` (or
// null) counts as unavailable. Reads go in 1 MiB chunks; memory stays bounded
// whatever the sizes. Stops at the first item with no good copy: status names
// the file and the outcome of every site recorded as holding it (and of any
// other that gave wrong bytes): Corruption when a copy was read and found
// wrong, or is missing where the catalog records one, or no site holds one;
// Unavailable when the sites holding it could only not be read (down: retry
// when they are back). Or it stops at the first
// FileTarget::Commit() that fails (its status, the bad copies met before it
// still listed in `problems`). Does not call out.Finish().
RestoreRun CopyItems(const std::vector<RestoreItem>& items,
                     const std::map<std::string, Site*, std::less<>>& sites, RestoreOutput& out,
                     unsigned threads);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_ENGINE_H_
