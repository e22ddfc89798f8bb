// The factory of each backend, one per URL scheme. OpenBackend() (backend.cc)
// holds the one table that maps a scheme to its factory; nothing else should
// call these directly except tests.
#ifndef CAIRN_REPO_STORAGE_BACKENDS_H_
#define CAIRN_REPO_STORAGE_BACKENDS_H_

#include <memory>
#include <string_view>

#include "bagit/status.h"
#include "repo/storage/backend.h"

namespace cairn::repo {

// file:///absolute/path -> PosixBackend rooted at that folder (posix_backend.cc).
// The folder need not exist yet (see StorageBackend::CreateRoot).
Result<std::unique_ptr<StorageBackend>> OpenPosixBackend(std::string_view url);

// mem://name -> the process-wide in-memory store called `name` (memory_backend.cc):
// two opens of the same name share their objects.
Result<std::unique_ptr<StorageBackend>> OpenMemoryBackend(std::string_view url);

// s3://bucket[/prefix]?endpoint=...&region=... (s3_backend.cc).
Result<std::unique_ptr<StorageBackend>> OpenS3Backend(std::string_view url);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_BACKENDS_H_
