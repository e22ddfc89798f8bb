// The per-site token bucket.
#include "audit/sample.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace cairn::audit {

RateLimiter::RateLimiter(uint64_t bytes_per_sec, repo::Clock& clock,
                         std::function<void(int64_t)> sleep)
    : rate_(bytes_per_sec),
      clock_(clock),
      sleep_(std::move(sleep)),
      tokens_(static_cast<double>(bytes_per_sec)),
      last_micros_(clock.NowMicros()) {}

void RateLimiter::Acquire(uint64_t bytes) {
  if (rate_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.NowMicros();
  double burst = static_cast<double>(rate_);
  tokens_ = std::min(
      burst, tokens_ + static_cast<double>(now - last_micros_) * static_cast<double>(rate_) / 1e6);
  last_micros_ = now;
  tokens_ -= static_cast<double>(bytes);
  if (tokens_ >= 0) return;
  // Sleep off the debt; the refill after the sleep brings tokens back to 0.
  auto wait = static_cast<int64_t>(-tokens_ * 1e6 / static_cast<double>(rate_)) + 1;
  sleep_(wait);
  slept_micros_ += wait;
  int64_t after = clock_.NowMicros();
  tokens_ = std::min(burst, tokens_ + static_cast<double>(after - last_micros_) *
                                          static_cast<double>(rate_) / 1e6);
  last_micros_ = after;
}

}  // namespace cairn::audit
