// ParseSample and BucketOf: see sample.h.
#include "policies/sample.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bagit/units.h"

namespace cairn::policies {
namespace {

Status BadSample(std::string_view text) {
  return Status::InvalidArgument("bad sample '" + std::string(text) +
                                 "': expected a share (10%), a bucket n/t (1/4, with 1 <= n "
                                 "<= t) or a size (500M, 2G)");
}

}  // namespace

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
  // The first 16 hex digits, shorter digests padded with zeros on the right
  // (so the number orders as the text does).
  std::string head(sha256_hex.substr(0, std::min<size_t>(16, sha256_hex.size())));
  head.resize(16, '0');
  uint64_t value = 0;
  std::from_chars(head.data(), head.data() + head.size(), value, 16);
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(value) * std::max<uint32_t>(buckets, 1);
  return static_cast<uint32_t>(scaled >> 64) + 1;
}

DigestRange DigestRangeOf(uint32_t bucket, uint32_t buckets) {
  buckets = std::max<uint32_t>(buckets, 1);
  bucket = std::clamp<uint32_t>(bucket, 1, buckets);
  // Bucket n holds the v with (n - 1) * 2^64 <= v * t < n * 2^64: from
  // ceil((n - 1) * 2^64 / t) up to, not including, ceil(n * 2^64 / t).
  const auto first_of = [buckets](uint32_t n) {
    const unsigned __int128 top = static_cast<unsigned __int128>(n) << 64;
    return (top + buckets - 1) / buckets;
  };
  const auto hex = [](unsigned __int128 v) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
    return std::string(text);
  };
  DigestRange range;
  if (bucket > 1) range.low = hex(first_of(bucket - 1));
  if (bucket < buckets) range.high = hex(first_of(bucket));
  return range;
}

}  // namespace cairn::policies
