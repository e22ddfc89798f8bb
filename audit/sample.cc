// The per-site token bucket.
#include "audit/sample.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace cairn::audit {

RateLimiter::RateLimiter(uint64_t bytes_per_sec, repo::Clock& clock,
                         std::function<void(int64_t)> sleep, const std::atomic<bool>* cancel)
    : rate_(bytes_per_sec),
      clock_(clock),
      sleep_(std::move(sleep)),
      cancel_(cancel),
      tokens_(static_cast<double>(bytes_per_sec)),
      last_micros_(clock.NowMicros()) {}

bool RateLimiter::Acquire(uint64_t bytes) {
  if (cancelled()) return false;
  if (rate_ == 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled()) return false;  // set while another worker held the lock
  int64_t now = clock_.NowMicros();
  double burst = static_cast<double>(rate_);
  tokens_ = std::min(
      burst, tokens_ + static_cast<double>(now - last_micros_) * static_cast<double>(rate_) / 1e6);
  last_micros_ = now;
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ >= 0) return true;
  // Sleep off the debt, in slices when it can be cancelled; the refill after
  // the sleep brings tokens back to 0.
  auto wait = static_cast<int64_t>(-tokens_ * 1e6 / static_cast<double>(rate_)) + 1;
  bool stopped = false;
  for (int64_t left = wait; left > 0;) {
    if (cancelled()) {
      stopped = true;
      break;
    }
    int64_t slice = cancel_ != nullptr ? std::min(left, kSleepSliceMicros) : left;
    sleep_(slice);
    slept_micros_ += slice;
    left -= slice;
  }
  int64_t after = clock_.NowMicros();
  tokens_ = std::min(burst, tokens_ + static_cast<double>(after - last_micros_) *
                                          static_cast<double>(rate_) / 1e6);
  last_micros_ = after;
  return !stopped;
}

}  // namespace cairn::audit
