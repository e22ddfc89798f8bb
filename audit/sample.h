// Sampling and rate limiting of audit sweeps: how much of the picked copies a
// sweep checks ("10%", "n/t", "500M") and how many bytes per second it reads.
#ifndef CAIRN_AUDIT_SAMPLE_H_
#define CAIRN_AUDIT_SAMPLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "bagit/status.h"
#include "repo/clock.h"

namespace cairn::audit {

struct Sample {
  enum class Kind { kAll, kPercent, kBucket, kBytes };
  Kind kind = Kind::kAll;
  double percent = 100;  // kPercent: 0 < percent <= 100
  uint32_t bucket = 0;   // kBucket: n, 1..total
  uint32_t buckets = 0;  // kBucket: t
  uint64_t bytes = 0;    // kBytes
};

// Parses "" (all), "10%" / "2.5%", "n/t" (1 <= n <= t) or a size ("500M",
// "2G", "4096"; K/M/G/T are powers of 1000, Ki/Mi/Gi/Ti of 1024, optional
// trailing "B"). InvalidArgument names the text and the accepted forms.
Result<Sample> ParseSample(std::string_view text);

// Parses a byte count with the same suffixes (for --rate). InvalidArgument
// naming the text when it is not one.
Result<uint64_t> ParseByteSize(std::string_view text);

// The bucket (1..buckets) a copy with this hex digest falls in: the first 16
// hex digits as a number, modulo buckets, plus one. Deterministic, so t sweeps
// with n = 1..t cover every copy exactly once.
uint32_t BucketOf(std::string_view sha256_hex, uint32_t buckets);

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
