// Small POSIX file helpers shared by PosixBackend and its writer (internal to
// repo/storage/). Every failure is a Status naming the path.
#ifndef CAIRN_REPO_STORAGE_POSIX_IO_H_
#define CAIRN_REPO_STORAGE_POSIX_IO_H_

#include <memory>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/storage/backend.h"

namespace cairn::repo::posix_io {

// fsync() of a folder, so that a new or renamed entry in it is durable.
Status SyncDir(const std::string& dir);

// Creates every missing folder between `root` (which must exist) and the parent
// of `key`, fsyncing the parent of each new folder.
Status MakeParents(const std::string& root, std::string_view key);

// mkdir -p `path` (absolute).
Status MakeDirs(const std::string& path);

// A writer whose bytes go to a new temp file in <root>/tmp/. REQUIRES: root exists.
Result<std::unique_ptr<BlobWriter>> NewTempFileWriter(const std::string& root,
                                                      const PutOptions& options);

}  // namespace cairn::repo::posix_io

#endif  // CAIRN_REPO_STORAGE_POSIX_IO_H_
