// The folder a bag is made from, walked completely before anything is written
// so that a bad entry refuses the whole bag up front (bagit/creator.h).
#ifndef CAIRN_BAGIT_SOURCE_TREE_H_
#define CAIRN_BAGIT_SOURCE_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <vector>

#include "bagit/archive.h"
#include "bagit/digest.h"
#include "bagit/status.h"

namespace cairn::bagit {

struct SourceEntry {
  std::string rel;   // relative to the source folder, '/'-separated: "dir/a.txt"
  std::string open;  // the path to open (a followed symlink: its resolved target)
  uint64_t size = 0;
  mode_t mode = 0;  // permission bits
  struct timespec mtime {};
};

struct SourceTree {
  std::vector<SourceEntry> dirs;   // every folder below the root, parents first
  std::vector<SourceEntry> files;  // every regular file, in walk order
  uint64_t bytes = 0;              // sum of the files' sizes
};

// Walks `root`. Refused (InvalidArgument listing up to 20 offending entries with
// the rule each broke): symlinks (unless `follow_symlinks` and the target is a
// file or folder inside `root`, followed without cycles), devices, fifos and
// sockets, names that are not valid UTF-8, and names a bag path may not hold
// (bagit/paths.h: backslashes, leading '~', ...). Entries whose relative path
// equals one in `skip` are left out (a scratch folder inside `root`).
// NotFound if `root` is missing; InvalidArgument if it is not a folder.
Result<SourceTree> ScanSource(const std::string& root, bool follow_symlinks,
                              const std::vector<std::string>& skip = {});

// True if `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool IsValidUtf8(std::string_view text);

// Reads `entry` once in chunks of `buffer`'s size, feeding each chunk to
// `hasher` and then to `sink` (may be null). InvalidArgument if the file's size
// no longer matches the walk ("changed while bagging"); read errors name it.
Status StreamSourceFile(const SourceEntry& entry, std::span<std::byte> buffer, MultiHasher* hasher,
                        const ChunkSink& sink);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_SOURCE_TREE_H_
