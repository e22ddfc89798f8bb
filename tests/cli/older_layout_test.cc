// Sites made before layout 2 (blobs fanned out over two folder levels,
// blobs/sha256/ab/cd/<digest>) keep that layout, and every verb serves them
// beside sites of the current one (blobs/sha256/ab/<digest>): deposit and
// replication, audit and repair, orphans and gc, restore, catalog rebuild, and
// the site README's recipe for coreutils alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class OlderLayoutTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    MakeLayoutOneSite("b");
  }

  // Where each layout keeps the blob of `bytes`.
  fs::path OneLevel(const std::string& site, const std::string& bytes) {
    std::string sha = Sha256Of(bytes);
    return tmp_ / "repo/sites" / site / "blobs/sha256" / sha.substr(0, 2) / sha;
  }
  fs::path TwoLevels(const std::string& site, const std::string& bytes) {
    std::string sha = Sha256Of(bytes);
    return tmp_ / "repo/sites" / site / "blobs/sha256" / sha.substr(0, 2) / sha.substr(2, 2) / sha;
  }

  // A folder of a few files, deposited as acme/box (stored on a, replicated to b).
  std::map<std::string, std::string> DepositBox() {
    fs::path src = tmp_ / "box";
    std::map<std::string, std::string> files = {{"one.txt", "first file\n"},
                                                {"two.txt", "second file\n"},
                                                {"sub/three.bin", std::string(70'000, 'x')}};
    for (const auto& [name, bytes] : files) WriteFile(src / name, bytes);
    Deposit("acme", src.string(), "box");
    return files;
  }
};

TEST_F(OlderLayoutTest, EachSiteKeepsItsLayoutAndAuditRestoreAndRebuildServeBoth) {
  std::map<std::string, std::string> files = DepositBox();
  for (const auto& [name, bytes] : files) {
    EXPECT_EQ(ReadFile(OneLevel("a", bytes)), bytes) << name;
    EXPECT_FALSE(fs::exists(TwoLevels("a", bytes))) << name;
    EXPECT_EQ(ReadFile(TwoLevels("b", bytes)), bytes) << name;
    EXPECT_FALSE(fs::exists(OneLevel("b", bytes))) << name;
  }
  // A full audit with orphans finds every copy on both sites and nothing stray.
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  auto report = nlohmann::json::parse(audit.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << audit.out;
  EXPECT_GE(report.value("checked", 0), 2 * static_cast<int>(files.size())) << audit.out;
  EXPECT_EQ(report.value("ok", -1), report.value("checked", 0)) << audit.out;
  EXPECT_EQ(report.value("orphans", -1), 0) << audit.out;
  EXPECT_EQ(report.value("missing", -1), 0) << audit.out;

  // Damage on the older site is found under its own path and repaired from a.
  fs::path damaged = TwoLevels("b", files["two.txt"]);
  FlipByte(damaged);
  CommandResult repair = Cairn({"audit", "run", "--all"});
  EXPECT_NE(repair.exit_code, 0) << "a corrupt copy is reported: " << repair.out;
  EXPECT_EQ(ReadFile(damaged), files["two.txt"]) << repair.out << repair.err;
  EXPECT_FALSE(fs::exists(OneLevel("b", files["two.txt"])));
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0);

  // Restore from the older site alone, and from the newer.
  for (std::string site : {"b", "a"}) {
    fs::path dest = tmp_ / ("from-" + site);
    CommandResult r = Cairn({"restore", "acme/box", dest.string(), "--site", site});
    ASSERT_EQ(r.exit_code, 0) << site << ": " << r.out << r.err;
    for (const auto& [name, bytes] : files)
      EXPECT_EQ(ReadFile(dest / "data" / name), bytes) << name;
  }

  // The catalog rebuilt from the older site alone holds the version.
  fs::path other = tmp_ / "rebuilt";
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", "b", "--into", other.string(), "--json"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  auto j = nlohmann::json::parse(rebuilt.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << rebuilt.out;
  EXPECT_EQ(j["versions"], 1) << rebuilt.out;
  EXPECT_EQ(j["blobs"], static_cast<int>(files.size())) << rebuilt.out;
}

TEST_F(OlderLayoutTest, AStrayBlobOnTheOlderSiteIsAnOrphanThatGcRemoves) {
  DepositBox();
  const std::string stray = "left by a killed deposit\n";
  fs::path planted = TwoLevels("b", stray);
  WriteFile(planted, stray);
  // A file in the other layout's place is not a blob of this site: not listed, never removed.
  fs::path elsewhere = OneLevel("b", stray);
  WriteFile(elsewhere, stray);
  CommandResult orphans = Cairn({"audit", "run", "--orphans"});
  EXPECT_THAT(orphans.out + orphans.err, HasSubstr(planted.filename().string()));
  EXPECT_THAT(orphans.out + orphans.err, HasSubstr("blobs/sha256/" + Sha256Of(stray).substr(0, 2) +
                                                   "/" + Sha256Of(stray).substr(2, 2) + "/"));
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_FALSE(fs::exists(planted)) << gc.out;
  EXPECT_TRUE(fs::exists(elsewhere)) << gc.out;
}

TEST_F(OlderLayoutTest, ReplicationFromTheOlderSiteWritesTheNewLayout) {
  std::map<std::string, std::string> files = DepositBox();
  // Site a loses its blobs; a resync (audit repair) copies them back from b.
  for (const auto& [name, bytes] : files) fs::remove(OneLevel("a", bytes));
  CommandResult repair = Cairn({"audit", "run", "--all"});
  EXPECT_NE(repair.exit_code, 0) << "missing copies are reported: " << repair.out;
  for (const auto& [name, bytes] : files) {
    EXPECT_EQ(ReadFile(OneLevel("a", bytes)), bytes) << name << repair.out << repair.err;
    EXPECT_FALSE(fs::exists(TwoLevels("a", bytes))) << name;
  }
  EXPECT_EQ(Cairn({"audit", "run", "--all", "--orphans"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
