// Rate limiting of audit sweeps: how many bytes per second a sweep reads.
#ifndef CAIRN_AUDIT_SAMPLE_H_
#define CAIRN_AUDIT_SAMPLE_H_

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
using policies::ParseSample;
using policies::Sample;

// A token bucket: Acquire(n) returns once n more bytes fit in the rate,
// sleeping through `sleep` as needed. Burst is one second's worth. The clock
// and the sleep are injected so tests run without waiting. Thread-safe.
class RateLimiter {
 public:
  // rate 0: no limit (Acquire never sleeps).
  RateLimiter(uint64_t bytes_per_sec, repo::Clock& clock,
              std::function<void(int64_t micros)> sleep);
  void Acquire(uint64_t bytes);
  // Total microseconds slept so far.
  int64_t slept_micros() const { return slept_micros_; }

 private:
  uint64_t rate_;
  repo::Clock& clock_;
  std::function<void(int64_t)> sleep_;
  std::mutex mu_;
  double tokens_;
  int64_t last_micros_;
  int64_t slept_micros_ = 0;
};

}  // namespace cairn::audit

#endif  // CAIRN_AUDIT_SAMPLE_H_
