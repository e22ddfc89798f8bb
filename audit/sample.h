// Rate limiting of audit sweeps: how many bytes per second a sweep reads.
#ifndef CAIRN_AUDIT_SAMPLE_H_
#define CAIRN_AUDIT_SAMPLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "policies/sample.h"
#include "repo/clock.h"

namespace cairn::audit {

// The sample grammar and the digest buckets are the policy engine's
// (policies/sample.h), shared with a policy's fixity.sample.
using policies::BucketOf;
using policies::DigestRange;
using policies::DigestRangeOf;
using policies::ParseSample;
using policies::Sample;

// A token bucket: Acquire(n) returns once n more bytes fit in the rate,
// sleeping through `sleep` as needed. Burst is one second's worth. The clock
// and the sleep are injected so tests run without waiting. Thread-safe.
// With `cancel`, a wait is slept in slices of at most kSleepSliceMicros and
// ends as soon as *cancel is set, so a sweep at a low rate still stops within
// a fraction of a second (issue 15).
class RateLimiter {
 public:
  static constexpr int64_t kSleepSliceMicros = 100'000;
  // rate 0: no limit (Acquire never sleeps).
  RateLimiter(uint64_t bytes_per_sec, repo::Clock& clock, std::function<void(int64_t micros)> sleep,
              const std::atomic<bool>* cancel = nullptr);
  // True once n more bytes fit in the rate; false (at once, or in the middle
  // of the wait) when *cancel is set: the caller stops reading.
  bool Acquire(uint64_t bytes);
  bool cancelled() const { return cancel_ != nullptr && cancel_->load(); }
  // Total microseconds slept so far.
  int64_t slept_micros() const { return slept_micros_; }

 private:
  uint64_t rate_;
  repo::Clock& clock_;
  std::function<void(int64_t)> sleep_;
  const std::atomic<bool>* cancel_;
  std::mutex mu_;
  double tokens_;
  int64_t last_micros_;
  int64_t slept_micros_ = 0;
};

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_SAMPLE_H_
