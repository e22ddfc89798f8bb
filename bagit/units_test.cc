// ParseByteSize: one reading of sizes for every option, and what is refused.
#include "bagit/units.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

// `cairn serve --max-upload 2M` read 2,000,000 bytes and `--upload-part-size 2M` 2 MiB: two
// parsers' readings of the same text. Every size now reads as the README writes sizes (a
// 32M part is 32 MiB): K, M, G, T count in powers of 1024, with or without "i" and "B"; only
// KB, MB, GB, TB written out so are powers of 1000.
TEST(ByteSizeTest, BareUnitsAreBinaryAndKiloBytesDecimal) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("4096B"), 4096u);
  EXPECT_EQ(*ParseByteSize("2M"), 2ull << 20);
  EXPECT_EQ(*ParseByteSize("2k"), 2048u);
  EXPECT_EQ(*ParseByteSize("64G"), 64ull << 30);
  EXPECT_EQ(*ParseByteSize("1T"), 1ull << 40);
  EXPECT_EQ(*ParseByteSize("2Gi"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("16MiB"), 16ull << 20);
  EXPECT_EQ(*ParseByteSize("16mib"), 16ull << 20);
  EXPECT_EQ(*ParseByteSize("200MB"), 200'000'000u);
  EXPECT_EQ(*ParseByteSize("2kb"), 2'000u);
  EXPECT_EQ(*ParseByteSize("3GB"), 3'000'000'000u);
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad :
       {"", "M", "B", "12Q", "-1", "1.5", "1i", "1iB", "1 M", "1MBi", "99999999999T"}) {
    Result<uint64_t> r = ParseByteSize(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("'" + std::string(bad) + "'"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace cairn
