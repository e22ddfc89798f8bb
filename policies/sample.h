// A fixity sample: which part of the picked copies one sweep checks. The one
// grammar for a policy's fixity.sample, a schedule's and `audit run --sample`.
#ifndef CAIRN_POLICIES_SAMPLE_H_
#define CAIRN_POLICIES_SAMPLE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::policies {

struct Sample {
  enum class Kind { kAll, kPercent, kBucket, kBytes };
  Kind kind = Kind::kAll;
  double percent = 100;  // kPercent: 0 < percent <= 100
  uint32_t bucket = 0;   // kBucket: n, 1..buckets
  uint32_t buckets = 0;  // kBucket: t
  uint64_t bytes = 0;    // kBytes: > 0
};

// Parses "" (all), "10%" / "2.5%", "n/t" (1 <= n <= t) or a byte size
// ("500M", "2G", "4096": see bagit/units.h, bare units are powers of 1000).
// InvalidArgument names the text and the accepted forms.
Result<Sample> ParseSample(std::string_view text);

// The bucket (1..buckets) a copy with this lowercase hex digest falls in: the
// first 16 hex digits as a number v, bucket floor(v * buckets / 2^64) + 1.
// Deterministic, so t sweeps with n = 1..t cover every copy exactly once; and
// each bucket is one range of digests (DigestRangeOf), so the catalog reads a
// bucket's copies through its digest index instead of visiting every copy.
uint32_t BucketOf(std::string_view sha256_hex, uint32_t buckets);

// The digests of bucket n of t as a half-open range of hex strings: a digest
// is in the bucket exactly when low <= digest and (high is empty or digest <
// high), compared as strings. low and high are 16 hex digits ("" for no bound).
struct DigestRange {
  std::string low;
  std::string high;
};
DigestRange DigestRangeOf(uint32_t bucket, uint32_t buckets);

}  // namespace cairn::policies

#endif  // CAIRN_POLICIES_SAMPLE_H_
