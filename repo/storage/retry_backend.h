// RetryBackend: a wrapper that retries calls failing with a retryable Status
// (Unavailable: a site that is down or slow) with bounded exponential backoff.
// Non-retryable errors (NotFound, Corruption, PermissionDenied, ...) pass
// through at once. Stack it around any backend: OpenBackend() does not add it.
#ifndef CAIRN_REPO_STORAGE_RETRY_BACKEND_H_
#define CAIRN_REPO_STORAGE_RETRY_BACKEND_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "repo/storage/backend.h"

namespace cairn::repo {

struct RetryPolicy {
  int max_attempts = 5;  // tries in all, including the first; >= 1
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{5000};
  double multiplier = 2.0;
};

// Waits between attempts; tests inject one that records delays and returns.
using SleepFn = std::function<void(std::chrono::milliseconds)>;

class RetryBackend : public StorageBackend {
 public:
  // `sleep` empty: std::this_thread::sleep_for.
  RetryBackend(std::unique_ptr<StorageBackend> inner, RetryPolicy policy = {}, SleepFn sleep = {});

  // NewWriter is retried; the writer's Append/Commit are NOT (the bytes are a
  // stream the wrapper does not keep): a caller whose commit fails with a
  // retryable error writes the object again.
  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  // A read that fails part way is resumed after the bytes already delivered,
  // so the sink never sees a byte twice. A sink error is never retried.
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  // Retried only while `fn` has not been called yet (no duplicate entries).
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  Status CleanupTemp(uint64_t min_age_seconds) override;
  std::string DisplayUrl() const override { return inner_->DisplayUrl(); }
  Status CreateRoot() override;
  Status ExtendRetention(std::string_view key) override;

  // Retries made so far (attempts after the first), for tests and metrics.
  int retries() const { return retries_.load(); }

 private:
  // Runs `attempt` until it succeeds, fails for good, or attempts run out.
  Status Retry(const std::function<Status()>& attempt);

  std::unique_ptr<StorageBackend> inner_;
  RetryPolicy policy_;
  SleepFn sleep_;
  std::atomic<int> retries_{0};
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_RETRY_BACKEND_H_
