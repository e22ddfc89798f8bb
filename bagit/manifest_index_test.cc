#include "bagit/manifest_index.h"

#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"

namespace cairn::bagit {
namespace {

constexpr BagitVersion kVersion1{1, 0};
constexpr BagitVersion kVersion097{0, 97};

std::string Hex(char c, Algorithm a) { return std::string(HexLength(a), c); }

TEST(ManifestIndexTest, MergesManifestsByPath) {
  MemoryManifestIndex index;
  Report report;
  ASSERT_OK(index.BeginManifest(Algorithm::kSha256, "manifest-sha256.txt"));
  index.Add({Hex('a', Algorithm::kSha256), "data/b"}, 1, kVersion1, &report);
  index.Add({Hex('b', Algorithm::kSha256), "data/a"}, 2, kVersion1, &report);
  index.EndManifest(kVersion1, &report);
  ASSERT_OK(index.BeginManifest(Algorithm::kMd5, "manifest-md5.txt"));
  index.Add({Hex('c', Algorithm::kMd5), "data/a"}, 1, kVersion1, &report);
  index.Add({Hex('d', Algorithm::kMd5), "data/c"}, 2, kVersion1, &report);
  index.EndManifest(kVersion1, &report);
  EXPECT_TRUE(report.valid());
  EXPECT_EQ(index.size(), 3u);
  auto a = index.Find("data/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(index.listed_mask(*a), index.all_manifests_mask());
  EXPECT_EQ(index.HexDigest(*a, Algorithm::kSha256), Hex('b', Algorithm::kSha256));
  EXPECT_EQ(index.HexDigest(*a, Algorithm::kMd5), Hex('c', Algorithm::kMd5));
  auto b = index.Find("data/b");
  ASSERT_TRUE(b);
  EXPECT_EQ(index.listed_mask(*b), 1u);
  EXPECT_EQ(index.HexDigest(*b, Algorithm::kMd5), "");
  EXPECT_FALSE(index.Find("data/zzz"));
  std::vector<std::string> order;
  index.ForEach([&](const ManifestIndex::EntryView& e) { order.emplace_back(e.path); });
  EXPECT_EQ(order, (std::vector<std::string>{"data/a", "data/b", "data/c"}));
  Digests computed;
  computed[Algorithm::kSha256] = Hex('b', Algorithm::kSha256);
  computed[Algorithm::kMd5] = Hex('e', Algorithm::kMd5);
  EXPECT_EQ(index.Mismatches(*a, computed), std::vector<int>{1});
}

TEST(ManifestIndexTest, SecondManifestOfSameAlgorithmIsRefused) {
  MemoryManifestIndex index;
  ASSERT_OK(index.BeginManifest(Algorithm::kSha256, "manifest-sha256.txt"));
  EXPECT_FALSE(index.BeginManifest(Algorithm::kSha256, "manifest-SHA-256.txt").ok());
}

TEST(ManifestIndexTest, DuplicateLinesFollowTheVersionRules) {
  for (const BagitVersion& version : {kVersion097, kVersion1}) {
    MemoryManifestIndex index;
    Report report;
    ASSERT_OK(index.BeginManifest(Algorithm::kSha256, "manifest-sha256.txt"));
    index.Add({Hex('a', Algorithm::kSha256), "data/x"}, 1, version, &report);
    index.Add({Hex('a', Algorithm::kSha256), "data/x"}, 2, version, &report);
    index.Add({Hex('a', Algorithm::kSha256), "data/y"}, 3, version, &report);
    index.Add({Hex('b', Algorithm::kSha256), "data/y"}, 4, version, &report);
    index.EndManifest(version, &report);
    EXPECT_EQ(index.size(), 2u);
    ASSERT_EQ(report.findings().size(), 2u);
    const Finding& same = report.findings()[0];
    EXPECT_EQ(same.rule, "manifest.duplicate");
    EXPECT_EQ(same.line, 2u);
    EXPECT_EQ(same.severity, version.AtLeast1() ? Severity::kError : Severity::kWarning);
    const Finding& conflict = report.findings()[1];
    EXPECT_EQ(conflict.rule, "manifest.duplicate-conflict");
    EXPECT_EQ(conflict.line, 4u);
    EXPECT_EQ(conflict.severity, Severity::kError);
  }
}

TEST(ManifestIndexTest, DuplicateInALaterManifestIsFound) {
  MemoryManifestIndex index;
  Report report;
  ASSERT_OK(index.BeginManifest(Algorithm::kMd5, "manifest-md5.txt"));
  index.Add({Hex('a', Algorithm::kMd5), "data/x"}, 1, kVersion1, &report);
  index.EndManifest(kVersion1, &report);
  ASSERT_OK(index.BeginManifest(Algorithm::kSha1, "manifest-sha1.txt"));
  index.Add({Hex('a', Algorithm::kSha1), "data/x"}, 1, kVersion1, &report);
  index.Add({Hex('b', Algorithm::kSha1), "data/x"}, 2, kVersion1, &report);
  index.EndManifest(kVersion1, &report);
  ASSERT_EQ(report.findings().size(), 1u);
  EXPECT_EQ(report.findings()[0].rule, "manifest.duplicate-conflict");
  EXPECT_EQ(report.findings()[0].file, "manifest-sha1.txt");
}

}  // namespace
}  // namespace cairn::bagit
