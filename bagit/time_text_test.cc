// FormatUtc and ParseUtc: every form, before the epoch, and what is refused.
#include "bagit/time_text.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

constexpr int64_t kT = 1'763'729'044'123'456;  // 2025-11-21T12:44:04.123456Z

TEST(TimeTextTest, FormatsEveryForm) {
  EXPECT_EQ(FormatUtc(kT), "2025-11-21T12:44:04Z");
  EXPECT_EQ(FormatUtc(kT, TimeText::kMicros), "2025-11-21T12:44:04.123456Z");
  EXPECT_EQ(FormatUtc(kT, TimeText::kDate), "2025-11-21");
  EXPECT_EQ(FormatUtc(kT, TimeText::kIsoWeek), "2025-W47");
  EXPECT_EQ(FormatUtc(kT, TimeText::kMonth), "2025-11");
  EXPECT_EQ(FormatUtc(-1, TimeText::kMicros), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeTextTest, ParsesWhatItFormats) {
  EXPECT_EQ(*ParseUtc("2025-11-21T12:44:04.123456Z"), kT);
  EXPECT_EQ(*ParseUtc("2025-11-21T12:44:04Z"), kT - 123'456);
  EXPECT_EQ(*ParseUtc("2025-11-21T12:44:04.1Z"), kT - 23'456);
  EXPECT_EQ(*ParseUtc("1970-01-02"), int64_t{86'400} * 1'000'000);
  for (const char* bad : {"", "2025-13-01", "2025-11-32", "2025-11-21T12:44:04", "21-11-2025",
                          "2025-11-21T25:00:00Z", "2025-11-21T12:44:04.1234567Z", "yesterday"}) {
    Result<int64_t> r = ParseUtc(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("YYYY-MM-DD"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace cairn
