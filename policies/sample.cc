// ParseSample and BucketOf: see sample.h.
#include "policies/sample.h"

#include <algorithm>
#include <charconv>
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
  uint64_t value = 0;
  std::string_view head = sha256_hex.substr(0, std::min<size_t>(16, sha256_hex.size()));
  std::from_chars(head.data(), head.data() + head.size(), value, 16);
  return static_cast<uint32_t>(value % std::max<uint32_t>(buckets, 1)) + 1;
}

}  // namespace cairn::policies
