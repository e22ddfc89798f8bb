// Internal to deposit: what kind of source a deposit reads.
#ifndef CAIRN_REPO_DEPOSIT_SOURCE_H_
#define CAIRN_REPO_DEPOSIT_SOURCE_H_

#include <string>

#include "bagit/status.h"

namespace cairn::repo::deposit_internal {

enum class SourceKind {
  kFolder,        // a folder without bagit.txt: Cairn bags it
  kBagDirectory,  // a folder with bagit.txt
  kArchive,       // .tar, .tar.gz, .tgz, .zip
};

// Looks at `source` (following a symlink given as the source itself).
// NotFound/PermissionDenied name it; InvalidArgument for any other file, and for a `source`
// longer than PATH_MAX (rule source.path-too-long).
Result<SourceKind> DetectSource(const std::string& source);

// True when a path of `bytes` bytes, as it is handed to the system (SOURCE, or SOURCE/rel for a
// file below it), is past what the system opens by name (ENAMETOOLONG: PATH_MAX counts the NUL).
bool PathTooLong(size_t bytes);
// The message of rule source.path-too-long for a path of `bytes` bytes.
std::string PathTooLongMessage(size_t bytes);

}  // namespace cairn::repo::deposit_internal

#endif  // CAIRN_REPO_DEPOSIT_SOURCE_H_
