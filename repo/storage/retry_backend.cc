#include "repo/storage/retry_backend.h"

#include <algorithm>
#include <thread>

namespace cairn::repo {

RetryBackend::RetryBackend(std::unique_ptr<StorageBackend> inner, RetryPolicy policy, SleepFn sleep)
    : inner_(std::move(inner)), policy_(policy), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  policy_.max_attempts = std::max(policy_.max_attempts, 1);
}

Status RetryBackend::Retry(const std::function<Status()>& attempt) {
  std::chrono::milliseconds delay = policy_.initial_delay;
  for (int tries = 1;; ++tries) {
    Status status = attempt();
    if (status.ok() || !status.retryable() || tries >= policy_.max_attempts) {
      if (!status.ok() && status.retryable() && tries > 1) {
        return status.WithContext("gave up after " + std::to_string(tries) + " attempts");
      }
      return status;
    }
    sleep_(delay);
    ++retries_;
    auto next = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(delay.count()) * policy_.multiplier));
    delay = std::min(next, policy_.max_delay);
  }
}

Result<std::unique_ptr<BlobWriter>> RetryBackend::NewWriter(const PutOptions& options) {
  std::unique_ptr<BlobWriter> writer;
  Status status = Retry([&] {
    auto made = inner_->NewWriter(options);
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
  bool sink_failed = false;
  return Retry([&]() -> Status {
    uint64_t remaining = length == kToEnd ? kToEnd : length - delivered;
    if (remaining == 0) return Status::OK();
    Status status =
        inner_->Read(key, offset + delivered, remaining, [&](std::span<const std::byte> chunk) {
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
  });
}

Result<ObjectInfo> RetryBackend::Stat(std::string_view key) {
  ObjectInfo info;
  Status status = Retry([&] {
    auto result = inner_->Stat(key);
    if (!result.ok()) return result.status();
    info = std::move(result).value();
    return Status::OK();
  });
  if (!status.ok()) return status;
  return info;
}

Status RetryBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  bool called = false;
  return Retry([&] {
    Status status = inner_->List(prefix, [&](const ObjectInfo& info) {
      called = true;
      return fn(info);
    });
    if (called && !status.ok()) return Status(status).SetRetryable(false);
    return status;
  });
}

Status RetryBackend::Remove(std::string_view key) {
  return Retry([&] { return inner_->Remove(key); });
}

Status RetryBackend::CleanupTemp(uint64_t min_age_seconds) {
  return Retry([&] { return inner_->CleanupTemp(min_age_seconds); });
}

Status RetryBackend::CreateRoot() {
  return Retry([&] { return inner_->CreateRoot(); });
}

Status RetryBackend::ExtendRetention(std::string_view key) {
  return Retry([&] { return inner_->ExtendRetention(key); });
}

}  // namespace cairn::repo
