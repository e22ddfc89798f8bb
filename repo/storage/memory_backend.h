// MemoryBackend: objects in memory, for unit tests of the logic above storage.
// Same semantics as the posix backend (write-once, atomic commit, key rules);
// thread-safe. Stores opened by name (mem://name) are shared process-wide.
#ifndef CAIRN_REPO_STORAGE_MEMORY_BACKEND_H_
#define CAIRN_REPO_STORAGE_MEMORY_BACKEND_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "repo/storage/backend.h"

namespace cairn::repo {

class MemoryBackend : public StorageBackend {
 public:
  // The objects of one store; several MemoryBackend may share it.
  struct Store {
    std::mutex mu;
    std::map<std::string, std::string, std::less<>> objects;
  };

  // A fresh, private, empty store named `name` (only used in DisplayUrl).
  explicit MemoryBackend(std::string name = "anonymous");
  // A view of an existing store (see OpenMemoryBackend for named ones).
  MemoryBackend(std::string name, std::shared_ptr<Store> store);

  // Bytes are buffered in the writer and inserted under the lock at Commit.
  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  // Nothing to clean: unfinished writers hold their bytes themselves.
  Status CleanupTemp(uint64_t min_age_seconds) override;
  // "mem://name".
  std::string DisplayUrl() const override;

  // For tests that damage stored bytes directly: runs `fn` on the stored
  // object (NotFound if absent) under the store's lock.
  Status Mutate(std::string_view key, const std::function<void(std::string&)>& fn);

 private:
  std::string name_;
  std::shared_ptr<Store> store_;
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_MEMORY_BACKEND_H_
