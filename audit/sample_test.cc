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
  EXPECT_EQ(s->bytes, 500'000'000u);
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
  EXPECT_EQ(BucketOf("00000000000000050000", 4), 2u);  // 5 % 4 + 1
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
