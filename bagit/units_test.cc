// ParseByteSize: decimal and binary units, and what is refused.
#include "bagit/units.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ByteSizeTest, DecimalBareUnitsByDefault) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("500M"), 500'000'000u);
  EXPECT_EQ(*ParseByteSize("200MB"), 200'000'000u);
  EXPECT_EQ(*ParseByteSize("2k"), 2'000u);
  EXPECT_EQ(*ParseByteSize("2Gi"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("16MiB"), 16ull << 20);
}

TEST(ByteSizeTest, BinaryBareUnitsWhenAsked) {
  EXPECT_EQ(*ParseByteSize("5M", BareUnits::kBinary), 5ull << 20);
  EXPECT_EQ(*ParseByteSize("16MiB", BareUnits::kBinary), 16ull << 20);
  EXPECT_EQ(*ParseByteSize("8388608", BareUnits::kBinary), 8388608u);
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "M", "12Q", "-1", "1.5", "1i", "1 M", "99999999999T"}) {
    Result<uint64_t> r = ParseByteSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("'" + std::string(bad) + "'"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace cairn
