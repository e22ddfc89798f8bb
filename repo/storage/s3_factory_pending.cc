// TEMPORARY: stands in for OpenS3Backend until repo/storage/s3_backend.cc lands.
// The s3 helper deletes this file when its real factory is committed.
#include "repo/storage/backends.h"

namespace cairn::repo {

Result<std::unique_ptr<StorageBackend>> OpenS3Backend(std::string_view url) {
  return Status::NotSupported("s3 backend not built yet");
}

}  // namespace cairn::repo
