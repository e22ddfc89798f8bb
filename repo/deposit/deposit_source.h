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
// longer than PATH_MAX (rule source.path-too-long: bagit::PathTooLong, bagit/dir_list.h).
Result<SourceKind> DetectSource(const std::string& source);

}  // namespace cairn::repo::deposit_internal

#endif  // CAIRN_REPO_DEPOSIT_SOURCE_H_
