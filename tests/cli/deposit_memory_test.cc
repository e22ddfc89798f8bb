// A deposit's memory must not grow with its file count (issue 3: "peak memory
// stays under 200 MiB whatever the deposit size"). The real `cairn` binary
// deposits a folder of kSmall tiny files and one of kLarge; the peak RSS of the
// child (wait4 ru_maxrss) may differ by a few MiB only. Both sizes are past
// the point where the bounded page caches (the catalog's 2 MiB, the deposit
// scratch's 512 KiB) are full, so the difference is what grows per file.
// Before the per-file lists went to the deposit's scratch file a deposit held
// about 650 bytes per file: the larger deposit then cost about 7.4 MiB more.
#include <gtest/gtest.h>

#include <string>

#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

constexpr int kSmall = 6000;
constexpr int kLarge = 18000;
// What the old code held per file, for the message.
constexpr long kPerFileBefore = 650;
// Allowed growth: what still grows per file is the bag checker's compact
// manifest index (about 120 bytes per file, docs/PERFORMANCE.md): 1.4 MiB here.
constexpr long kMaxGrowthKib = 4 * 1024;

void MakeFolder(const fs::path& dir, int files) {
  for (int i = 0; i < files; ++i) {
    WriteFile(dir / ("d" + std::to_string(i / 1000)) / ("f" + std::to_string(i % 1000)),
              "file " + std::to_string(i) + "\n");
  }
}

long DepositPeakKib(const fs::path& repo, const fs::path& source, const std::string& id) {
  CommandResult r = RunCairn(
      {"--repo", repo.string(), "deposit", "mem", source.string(), "--id", id, "--no-replicate"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("mem/" + id + " v1"), std::string::npos) << r.out;
  return r.max_rss_kib;
}

TEST(DepositMemoryTest, PeakRssDoesNotGrowWithTheFileCount) {
  TempDir tmp;
  fs::path repo = tmp / "repo";
  ASSERT_EQ(RunCairn({"init", repo.string()}).exit_code, 0);
  ASSERT_EQ(RunCairn({"--repo", repo.string(), "partner", "add", "mem"}).exit_code, 0);
  MakeFolder(tmp / "small", kSmall);
  MakeFolder(tmp / "large", kLarge);
  long small_kib = DepositPeakKib(repo, tmp / "small", "small");
  long large_kib = DepositPeakKib(repo, tmp / "large", "large");
  ASSERT_GT(small_kib, 0);
  EXPECT_LT(large_kib - small_kib, kMaxGrowthKib)
      << "peak RSS " << small_kib << " KiB for " << kSmall << " files, " << large_kib << " KiB for "
      << kLarge << " (the old per-file lists would add about "
      << kPerFileBefore * (kLarge - kSmall) / 1024 << " KiB)";

  CommandResult show = RunCairn({"--repo", repo.string(), "show", "mem/large", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("d17/f999"), std::string::npos) << "every file is in the catalog";
}

}  // namespace
}  // namespace cairn::testing
