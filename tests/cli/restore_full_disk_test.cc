// A restore into a folder on a full file system said only "No space left on device" of a
// temporary name (DEST.partial-XXXXXX): disaster-recovery staff could not tell whether anything
// was left, how much the bag needs, nor that the same command, once there is room, finishes the
// job. A restore whose bag cannot fit in the free space of DEST's file system is now refused
// before anything is read or written, with both figures; one that fills the disk midway (the free
// space taken by another writer) says nothing was left at DEST, and to free space or choose
// another folder and run the same command again. Both without root, through the LD_PRELOAD shim
// (tests/shim/site_fault_shim.cc: CAIRN_FAULT_FREE fakes the free space it reports).
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RestoreFullDiskTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
    CommandResult dep =
        Cairn({"deposit", "acme", MakeSourceFolder("maps").string(), "--id", "maps"});
    ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
    fs::create_directories(Disk());
  }

  fs::path Disk() { return tmp_ / "usb"; }  // the file system DR staff restore onto

  CommandResult RestoreOntoFullDisk(std::vector<std::string> args, const std::string& free) {
    std::vector<std::string> env = {
        "CAIRN_REPO=" + Root(), "LD_PRELOAD=" + std::string(CAIRN_SITE_FAULT_SHIM),
        "ASAN_OPTIONS=verify_asan_link_order=0", "CAIRN_FAULT_PREFIX=" + Disk().string(),
        "CAIRN_FAULT_KIND=nospace"};
    if (!free.empty()) env.push_back("CAIRN_FAULT_FREE=" + free);
    return RunCairn(args, env);
  }

  // Nothing is left beside DEST: no DEST, no DEST.partial-*, no DEST.tmp-*.
  void ExpectNothingLeft() {
    EXPECT_TRUE(fs::is_empty(Disk())) << fs::directory_iterator(Disk())->path();
  }
};

TEST_F(RestoreFullDiskTest, ABagLargerThanTheFreeSpaceIsRefusedBeforeAnythingIsWritten) {
  const std::string dest = (Disk() / "maps").string();
  CommandResult r = RestoreOntoFullDisk({"restore", "acme/maps", dest}, "1000");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // The payload is 71,724 bytes (a.txt, sub/b.bin, "c d.txt"), with its tag files more.
  EXPECT_THAT(r.err, HasSubstr("restore acme/maps@v1: " + dest + " needs")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("but its file system has only 1000 bytes free")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nothing was written")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("run the same command again")) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr(".partial-"))) << r.err;
  ExpectNothingLeft();
  // An archive is refused the same way.
  CommandResult tar =
      RestoreOntoFullDisk({"restore", "acme/maps", (Disk() / "maps.tar").string()}, "1000");
  EXPECT_EQ(tar.exit_code, 2) << tar.out << tar.err;
  EXPECT_THAT(tar.err, HasSubstr("only 1000 bytes free")) << tar.err;
  ExpectNothingLeft();

  CommandResult again = Cairn({"restore", "acme/maps", dest});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(ReadTree(fs::path(dest) / "data"), ReadTree(tmp_ / "src-maps"));
}

TEST_F(RestoreFullDiskTest, ADiskFilledMidwaySaysNothingWasLeftAndToRunTheSameCommandAgain) {
  const std::string dest = (Disk() / "maps").string();
  // The free space reported is ample (10 GB), but every write there fails: another writer
  // took it meanwhile.
  CommandResult r = RestoreOntoFullDisk({"restore", "acme/maps", dest}, "10000000000");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("No space left on device")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nothing was left at " + dest)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("free space there or restore to another folder")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("run the same command again")) << r.err;
  ExpectNothingLeft();

  CommandResult again = Cairn({"restore", "acme/maps", dest});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

}  // namespace
}  // namespace cairn::testing
