// A deposit its first site cannot take (full, its folder gone, its share not mounted) exits 2
// and said only the site's error ("No space left on device", "has no CAIRN-SITE marker"): the
// depositor could not tell whether anything was stored, nor what to do. It now says that
// nothing was stored, the way forward for that site, and to run the same command again; and
// nothing of the deposit is left visible, so that rerun, once the site is back, stores it.
// A full site is made without root by the LD_PRELOAD shim (tests/shim/site_fault_shim.cc).
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FirstSiteRefusedTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  }

  fs::path SiteA() { return tmp_ / "repo/sites/a"; }

  std::vector<std::string> DepositArgs() {
    return {"deposit", "acme", MakeSourceFolder("maps").string(), "--id", "maps"};
  }

  // Nothing of the refused deposit is visible: no object in the catalog, no version on either
  // site.
  void ExpectNothingStored() {
    CommandResult list = Cairn({"list", "--json"});
    EXPECT_THAT(list.out, Not(HasSubstr("maps"))) << list.out;
    EXPECT_FALSE(fs::exists(SiteA() / "bags/acme/maps/v1/version.pb"));
    EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/b/bags/acme/maps"));
  }
};

TEST_F(FirstSiteRefusedTest, AFullFirstSiteSaysNothingWasStoredAndToFreeSpaceThenRerun) {
  CommandResult full = RunCairn(
      DepositArgs(), {"CAIRN_REPO=" + Root(), "LD_PRELOAD=" + std::string(CAIRN_SITE_FAULT_SHIM),
                      "ASAN_OPTIONS=verify_asan_link_order=0",
                      "CAIRN_FAULT_PREFIX=" + SiteA().string(), "CAIRN_FAULT_KIND=nospace"});
  EXPECT_EQ(full.exit_code, 2) << full.out << full.err;
  EXPECT_THAT(full.err, HasSubstr("No space left on device")) << full.err;
  EXPECT_THAT(full.err, HasSubstr("nothing was stored")) << full.err;
  EXPECT_THAT(full.err, HasSubstr("free space on site a")) << full.err;
  EXPECT_THAT(full.err, HasSubstr("cairn site check a")) << full.err;
  EXPECT_THAT(full.err, HasSubstr("run the same command again")) << full.err;
  ExpectNothingStored();

  CommandResult again = Cairn(DepositArgs());
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("acme/maps v1")) << again.out;
}

TEST_F(FirstSiteRefusedTest, AFirstSiteNotMountedSaysNothingWasStoredAndToMountItThenRerun) {
  fs::rename(SiteA(), tmp_ / "a.away");
  fs::create_directories(SiteA());  // the mount point of a share not mounted
  CommandResult down = Cairn(DepositArgs());
  EXPECT_EQ(down.exit_code, 2) << down.out << down.err;
  EXPECT_THAT(down.err, HasSubstr("site a")) << down.err;
  EXPECT_THAT(down.err, HasSubstr("nothing was stored")) << down.err;
  EXPECT_THAT(down.err, HasSubstr("mount it")) << down.err;
  EXPECT_THAT(down.err, HasSubstr("run the same command again")) << down.err;
  ExpectNothingStored();

  fs::remove(SiteA());
  fs::rename(tmp_ / "a.away", SiteA());
  CommandResult again = Cairn(DepositArgs());
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("acme/maps v1")) << again.out;
}

TEST_F(FirstSiteRefusedTest, AFirstSiteWhoseFolderIsGoneSaysNothingWasStoredThenRerun) {
  fs::rename(SiteA(), tmp_ / "a.away");
  CommandResult gone = Cairn(DepositArgs());
  EXPECT_EQ(gone.exit_code, 2) << gone.out << gone.err;
  EXPECT_THAT(gone.err, HasSubstr("nothing was stored")) << gone.err;
  EXPECT_THAT(gone.err, HasSubstr("run the same command again")) << gone.err;
  ExpectNothingStored();

  fs::rename(tmp_ / "a.away", SiteA());
  CommandResult again = Cairn(DepositArgs());
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

}  // namespace
}  // namespace cairn::testing
