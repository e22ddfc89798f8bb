// Sample parsing, digest buckets and the per-site token bucket.
#include "audit/sample.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace cairn::audit {
namespace {

Status BadSample(std::string_view text) {
  return Status::InvalidArgument("--sample '" + std::string(text) +
                                 "': expected a share (10%), a bucket n/t (1/4, with 1 <= n "
                                 "<= t) or a size (500M, 2G)");
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  std::string t(text);
  if (!t.empty() && (t.back() == 'B' || t.back() == 'b')) t.pop_back();
  uint64_t base = 1000;
  if (!t.empty() && (t.back() == 'i' || t.back() == 'I')) {
    base = 1024;
    t.pop_back();
  }
  uint64_t multiplier = 1;
  if (!t.empty() && std::isalpha(static_cast<unsigned char>(t.back()))) {
    static constexpr std::string_view kUnits = "KMGT";
    size_t index = kUnits.find(static_cast<char>(std::toupper(t.back())));
    if (index == std::string_view::npos) t.clear();  // unknown unit
    for (size_t i = 0; i <= index && index != std::string_view::npos; ++i) multiplier *= base;
    if (!t.empty()) t.pop_back();
  } else if (base == 1024) {
    t.clear();  // "i" without a unit
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a byte size (examples: 4096, 500M, 2G, 1Gi)");
  }
  return value * multiplier;
}

Result<Sample> ParseSample(std::string_view text) {
  Sample sample;
  if (text.empty()) return sample;
  if (text.back() == '%') {
    std::string number(text.substr(0, text.size() - 1));
    char* end = nullptr;
    double p = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(p > 0) || p > 100) {
      return BadSample(text);
    }
    sample.kind = Sample::Kind::kPercent;
    sample.percent = p;
    return sample;
  }
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    uint32_t n = 0, t = 0;
    std::string_view a = text.substr(0, slash), b = text.substr(slash + 1);
    auto ra = std::from_chars(a.data(), a.data() + a.size(), n);
    auto rb = std::from_chars(b.data(), b.data() + b.size(), t);
    if (a.empty() || b.empty() || ra.ec != std::errc() || rb.ec != std::errc() ||
        ra.ptr != a.data() + a.size() || rb.ptr != b.data() + b.size() || n < 1 || n > t) {
      return BadSample(text);
    }
    sample.kind = Sample::Kind::kBucket;
    sample.bucket = n;
    sample.buckets = t;
    return sample;
  }
  Result<uint64_t> bytes = ParseByteSize(text);
  if (!bytes.ok() || *bytes == 0) return BadSample(text);
  sample.kind = Sample::Kind::kBytes;
  sample.bytes = *bytes;
  return sample;
}

uint32_t BucketOf(std::string_view sha256_hex, uint32_t buckets) {
  uint64_t value = 0;
  std::string_view head = sha256_hex.substr(0, std::min<size_t>(16, sha256_hex.size()));
  std::from_chars(head.data(), head.data() + head.size(), value, 16);
  return static_cast<uint32_t>(value % std::max<uint32_t>(buckets, 1)) + 1;
}

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
