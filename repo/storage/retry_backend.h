// RetryBackend: a wrapper that retries calls failing with a retryable Status
// (Unavailable: a site that is down or slow, an S3 503 SlowDown or 429) with
// capped, jittered exponential backoff. Non-retryable errors (NotFound,
// Corruption, PermissionDenied, IOError, ...) pass through at once.
//
// It is stacked on every site the product opens (OpenSiteBackend below), above
// any testing wrapper (SetBackendWrapperForTesting), so a transient fault
// injected under it is absorbed as production absorbs one. Backends keep no
// retry loops of their own, except for what only they can resend (the S3
// writer's parts and small PUTs: their bytes are in the writer; see
// s3_backend.h).
#ifndef CAIRN_REPO_STORAGE_RETRY_BACKEND_H_
#define CAIRN_REPO_STORAGE_RETRY_BACKEND_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>

#include "repo/storage/forwarding_backend.h"

namespace cairn::repo {

// The defaults are the production numbers (docs/RELIABILITY.md): 3 attempts,
// waits drawn from [0, 50 ms] then [0, 100 ms]: a site that is down is
// declared down after at most 150 ms of waiting per call.
struct RetryPolicy {
  int max_attempts = 3;  // tries in all, including the first; >= 1
  std::chrono::milliseconds initial_delay{50};
  std::chrono::milliseconds max_delay{1000};  // cap of any single wait
  double multiplier = 2.0;
  // Full jitter: each wait is drawn uniformly from [0, ceiling] (so clients
  // that failed together do not retry together); false: the ceiling itself.
  bool jitter = true;
};

// The ceiling of the wait before retry `retry` (1 = the first retry):
// min(max_delay, initial_delay * multiplier^(retry-1)).
std::chrono::milliseconds BackoffCeiling(const RetryPolicy& policy, int retry);

// Waits between attempts; tests inject one that records delays and returns.
using SleepFn = std::function<void(std::chrono::milliseconds)>;

class RetryBackend : public ForwardingBackend {
 public:
  // `sleep` empty: std::this_thread::sleep_for. `seed` drives the jitter
  // (tests replay it); 0: a random seed.
  RetryBackend(std::unique_ptr<StorageBackend> inner, RetryPolicy policy = {}, SleepFn sleep = {},
               uint64_t seed = 0);

  // NewWriter is retried; the writer's Append/Commit are NOT (the bytes are a
  // stream the wrapper does not keep): a caller whose commit fails with a
  // retryable error writes the object again. The writer is the inner one, so
  // its fast paths (AppendFromFile, DigestAppended) are the inner backend's.
  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  // A read that fails part way is resumed after the bytes already delivered,
  // so the sink never sees a byte twice; an attempt that delivered bytes
  // before failing starts a fresh budget of attempts (a long read over a
  // flaky link finishes; one that makes no progress gives up). A sink error is
  // never retried.
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  // Retried only while `fn` has not been called yet (no duplicate entries).
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) override;
  Status ListAfter(std::string_view prefix, std::string_view start_after,
                   const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  Status CleanupTemp(uint64_t min_age_seconds) override;
  Status CreateRoot() override;
  Status ExtendRetention(std::string_view key) override;
  Result<Erasure> RemoveEveryVersion(std::string_view key) override;
  Status Probe() override;
  Result<int> OpenForCopy(std::string_view key) override;

  // Retries made so far (attempts after the first), for tests and metrics.
  int retries() const { return retries_.load(); }

 private:
  // Runs `attempt` until it succeeds, fails for good, or attempts run out.
  // `progressed` (optional) says whether the attempt that just failed made
  // progress; then the count of attempts starts again.
  Status Retry(const std::function<Status()>& attempt,
               const std::function<bool()>& progressed = {});
  // The wait before retry `retry`, jittered.
  std::chrono::milliseconds Delay(int retry);
  // A listing (`list` hands each entry to the function it is given), retried only while no
  // entry has reached `fn` (so none is handed over twice): List and ListAfter.
  using EntryFn = std::function<Status(const ObjectInfo&)>;
  Status RetryListing(const std::function<Status(const EntryFn&)>& list, const EntryFn& fn);

  RetryPolicy policy_;
  SleepFn sleep_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::atomic<int> retries_{0};
};

// Opens the backend of a site the way the product does: OpenBackend(url)
// (with the testing wrapper, if one is set, right around the real backend)
// inside a RetryBackend with the default RetryPolicy. Repository, site check,
// resync and catalog rebuild open their sites with it; OpenBackend alone
// gives the bare backend (unit tests, DisplayUrl).
Result<std::unique_ptr<StorageBackend>> OpenSiteBackend(std::string_view url);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_RETRY_BACKEND_H_
