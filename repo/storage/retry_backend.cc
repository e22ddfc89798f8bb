#include "repo/storage/retry_backend.h"

#include <algorithm>
#include <cmath>
#include <thread>

namespace cairn::repo {

std::chrono::milliseconds BackoffCeiling(const RetryPolicy& policy, int retry) {
  double ceiling = static_cast<double>(policy.initial_delay.count()) *
                   std::pow(std::max(policy.multiplier, 1.0), std::max(retry - 1, 0));
  double cap = static_cast<double>(policy.max_delay.count());
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(ceiling, cap)));
}

RetryBackend::RetryBackend(std::unique_ptr<StorageBackend> inner, RetryPolicy policy, SleepFn sleep,
                           uint64_t seed)
    : ForwardingBackend(std::move(inner)), policy_(policy), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  policy_.max_attempts = std::max(policy_.max_attempts, 1);
  rng_.seed(seed != 0 ? seed : std::random_device{}());
}

std::chrono::milliseconds RetryBackend::Delay(int retry) {
  std::chrono::milliseconds ceiling = BackoffCeiling(policy_, retry);
  if (!policy_.jitter || ceiling.count() <= 0) return ceiling;
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::chrono::milliseconds(
      std::uniform_int_distribution<int64_t>(0, ceiling.count())(rng_));
}

Status RetryBackend::Retry(const std::function<Status()>& attempt,
                           const std::function<bool()>& progressed) {
  int total = 0;
  for (int tries = 1;; ++tries) {
    Status status = attempt();
    ++total;
    if (!status.ok() && status.retryable() && progressed && progressed()) tries = 0;
    if (status.ok() || !status.retryable() || tries >= policy_.max_attempts) {
      if (!status.ok() && status.retryable() && total > 1) {
        return status.WithContext("gave up after " + std::to_string(total) + " attempts");
      }
      return status;
    }
    sleep_(Delay(std::max(tries, 1)));
    ++retries_;
  }
}

Result<std::unique_ptr<BlobWriter>> RetryBackend::NewWriter(const PutOptions& options) {
  std::unique_ptr<BlobWriter> writer;
  Status status = Retry([&] {
    auto made = inner().NewWriter(options);
    if (!made.ok()) return made.status();
    writer = std::move(made).value();
    return Status::OK();
  });
  if (!status.ok()) return status;
  return writer;
}

Status RetryBackend::Read(std::string_view key, uint64_t offset, uint64_t length,
                          const ByteSink& sink) {
  uint64_t delivered = 0;
  uint64_t before = 0;  // delivered when the current attempt started
  bool sink_failed = false;
  return Retry(
      [&]() -> Status {
        before = delivered;
        uint64_t remaining = length == kToEnd ? kToEnd : length - delivered;
        if (remaining == 0) return Status::OK();
        Status status =
            inner().Read(key, offset + delivered, remaining, [&](std::span<const std::byte> chunk) {
              Status s = sink(chunk);
              if (!s.ok()) {
                sink_failed = true;
                return s;
              }
              delivered += chunk.size();
              return Status::OK();
            });
        // A sink's own error stops everything, retryable or not.
        if (sink_failed) return Status(status).SetRetryable(false);
        return status;
      },
      [&] { return delivered > before; });
}

Result<ObjectInfo> RetryBackend::Stat(std::string_view key) {
  ObjectInfo info;
  Status status = Retry([&] {
    auto result = inner().Stat(key);
    if (!result.ok()) return result.status();
    info = std::move(result).value();
    return Status::OK();
  });
  if (!status.ok()) return status;
  return info;
}

Status RetryBackend::RetryListing(const std::function<Status(const EntryFn&)>& list,
                                  const EntryFn& fn) {
  bool called = false;
  return Retry([&] {
    Status status = list([&](const ObjectInfo& info) {
      called = true;
      return fn(info);
    });
    if (called && !status.ok()) return Status(status).SetRetryable(false);
    return status;
  });
}

Status RetryBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  return RetryListing([&](const EntryFn& each) { return inner().List(prefix, each); }, fn);
}

Status RetryBackend::ListAfter(std::string_view prefix, std::string_view start_after,
                               const std::function<Status(const ObjectInfo&)>& fn) {
  return RetryListing(
      [&](const EntryFn& each) { return inner().ListAfter(prefix, start_after, each); }, fn);
}

Status RetryBackend::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  return RetryListing([&](const EntryFn& each) { return inner().ListTopLevel(each); }, fn);
}

Status RetryBackend::Remove(std::string_view key) {
  return Retry([&] { return inner().Remove(key); });
}

Result<Erasure> RetryBackend::RemoveEveryVersion(std::string_view key) {
  Erasure erasure;
  CAIRN_RETURN_IF_ERROR(Retry([&] {
    auto result = inner().RemoveEveryVersion(key);
    if (!result.ok()) return result.status();
    erasure = *result;
    return Status::OK();
  }));
  return erasure;
}

Status RetryBackend::CleanupTemp(uint64_t min_age_seconds) {
  return Retry([&] { return inner().CleanupTemp(min_age_seconds); });
}

Status RetryBackend::CreateRoot() {
  return Retry([&] { return inner().CreateRoot(); });
}

Status RetryBackend::Probe() {
  return Retry([&] { return inner().Probe(); });
}

Result<int> RetryBackend::OpenForCopy(std::string_view key) {
  int fd = -1;
  Status status = Retry([&] {
    auto opened = inner().OpenForCopy(key);
    if (!opened.ok()) return opened.status();
    fd = *opened;
    return Status::OK();
  });
  if (!status.ok()) return status;
  return fd;
}

Result<std::unique_ptr<StorageBackend>> OpenSiteBackend(std::string_view url) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<StorageBackend> backend, OpenBackend(url));
  return std::unique_ptr<StorageBackend>(new RetryBackend(std::move(backend)));
}

Status RetryBackend::ExtendRetention(std::string_view key) {
  return Retry([&] { return inner().ExtendRetention(key); });
}

}  // namespace cairn::repo
