// Sample parsing, digest buckets and the token bucket, with a fake clock.
#include "audit/sample.h"

#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

TEST(SampleTest, ParsesEveryForm) {
  EXPECT_EQ(ParseSample("")->kind, Sample::Kind::kAll);
  auto p = ParseSample("10%");
  ASSERT_OK(p);
  EXPECT_EQ(p->kind, Sample::Kind::kPercent);
  EXPECT_DOUBLE_EQ(p->percent, 10);
  auto b = ParseSample("3/7");
  ASSERT_OK(b);
  EXPECT_EQ(b->bucket, 3u);
  EXPECT_EQ(b->buckets, 7u);
  auto s = ParseSample("500M");
  ASSERT_OK(s);
  EXPECT_EQ(s->kind, Sample::Kind::kBytes);
  EXPECT_EQ(s->bytes, 500ull << 20);
  for (const char* bad : {"0%", "101%", "x%", "0/4", "5/4", "1/", "/4", "12Q", "M", "-1", "1.5"}) {
    auto r = ParseSample(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(bad), std::string::npos) << bad;
    }
  }
}

TEST(SampleTest, BucketsPartitionDigests) {
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 1000; ++i) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx",
             static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ULL);
    uint32_t bucket = BucketOf(std::string(hex) + std::string(48, '0'), 4);
    ASSERT_GE(bucket, 1u);
    ASSERT_LE(bucket, 4u);
    ++counts[bucket];
  }
  for (int n = 1; n <= 4; ++n) EXPECT_GT(counts[n], 150) << n;
  // Buckets are ranges: a quarter of the 64-bit head each.
  EXPECT_EQ(BucketOf("00000000000000050000", 4), 1u);
  EXPECT_EQ(BucketOf("3fffffffffffffff" + std::string(48, 'f'), 4), 1u);
  EXPECT_EQ(BucketOf("4000000000000000" + std::string(48, '0'), 4), 2u);
  EXPECT_EQ(BucketOf(std::string(64, 'f'), 4), 4u);
}

// Each bucket is exactly one range of digests (what lets the catalog read a
// bucket through its digest index): a digest's bucket is n if and only if it
// lies in DigestRangeOf(n), compared as text, for every t tried, at every
// bucket's edges and for random digests.
TEST(SampleTest, EachBucketIsOneDigestRange) {
  const auto in_range = [](const std::string& digest, const DigestRange& range) {
    return digest >= range.low && (range.high.empty() || digest < range.high);
  };
  uint64_t seed = 0x243f6a8885a308d3ULL;
  for (uint32_t buckets : {1u, 2u, 3u, 7u, 100u, 1000u, 65537u, 4294967295u}) {
    std::vector<std::string> digests = {std::string(64, '0'), std::string(64, 'f')};
    for (int i = 0; i < 300; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      char hex[17];
      snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(seed));
      digests.push_back(std::string(hex) + std::string(48, 'a'));
    }
    // Each bucket's first digest and the one just before it.
    for (uint32_t n : {1u, 2u, buckets / 2, buckets}) {
      if (n < 1 || n > buckets) continue;
      const DigestRange range = DigestRangeOf(n, buckets);
      if (range.low.empty()) continue;
      uint64_t low = std::stoull(range.low, nullptr, 16);
      char hex[17];
      snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(low - 1));
      digests.push_back(range.low + std::string(48, '0'));
      digests.push_back(std::string(hex) + std::string(48, 'f'));
    }
    for (const std::string& digest : digests) {
      const uint32_t bucket = BucketOf(digest, buckets);
      ASSERT_GE(bucket, 1u) << digest;
      ASSERT_LE(bucket, buckets) << digest;
      EXPECT_TRUE(in_range(digest, DigestRangeOf(bucket, buckets))) << digest << " " << buckets;
      if (bucket > 1) {
        EXPECT_FALSE(in_range(digest, DigestRangeOf(bucket - 1, buckets))) << digest;
      }
      if (bucket < buckets) {
        EXPECT_FALSE(in_range(digest, DigestRangeOf(bucket + 1, buckets))) << digest;
      }
    }
  }
  EXPECT_EQ(DigestRangeOf(1, 1).low, "");
  EXPECT_EQ(DigestRangeOf(1, 1).high, "");
  EXPECT_EQ(DigestRangeOf(2, 4).low, "4000000000000000");
  EXPECT_EQ(DigestRangeOf(2, 4).high, "8000000000000000");
  EXPECT_EQ(DigestRangeOf(1, 3).high, "5555555555555556");
}

TEST(RateLimiterTest, HoldsTheRateOnAFakeClock) {
  repo::FakeClock clock;
  int64_t start = clock.NowMicros();
  RateLimiter limiter(10'000'000, clock, [&](int64_t micros) { clock.Advance(micros); });
  for (int i = 0; i < 100; ++i) limiter.Acquire(1'000'000);  // 100 MB at 10 MB/s
  // One second of burst, then 90 MB at the rate: 9 s.
  EXPECT_NEAR(static_cast<double>(clock.NowMicros() - start), 9e6, 1e3);
  // Idle time refills the bucket, but only up to one second's worth.
  clock.Advance(60'000'000);
  int64_t before = clock.NowMicros();
  limiter.Acquire(10'000'000);
  EXPECT_EQ(clock.NowMicros(), before);
  limiter.Acquire(5'000'000);
  EXPECT_NEAR(static_cast<double>(clock.NowMicros() - before), 5e5, 1e3);
}

TEST(RateLimiterTest, ZeroMeansNoLimit) {
  repo::FakeClock clock;
  RateLimiter limiter(0, clock, [](int64_t) { FAIL() << "slept"; });
  limiter.Acquire(1ull << 40);
  EXPECT_EQ(limiter.slept_micros(), 0);
}

}  // namespace
}  // namespace cairn::audit
