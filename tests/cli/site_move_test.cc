// `cairn site move NAME PLACE [--empty]`: a site's files moved (a NAS mounted at a new path, a
// bucket behind a new gateway) left the repository pointing at the old place for ever: every
// verb said the site could not be opened, and the only ways out were `site remove` (refused while
// it holds a last good copy) or editing the catalog. Driven through the real binary on real
// folders: the move, what a rebuild then knows, the refusals, and a lost site pointed at a new
// empty place and filled again by `site resync`.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SiteMoveTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("maps").string(), "maps");
    fs::create_directories(tmp_ / "nas");
  }
  fs::path SiteB() { return tmp_ / "repo/sites/b"; }
  std::string SiteList() { return Cairn({"site", "list"}).out; }
};

TEST_F(SiteMoveTest, ASiteWhoseFilesMovedIsPointedAtTheirNewPlace) {
  const fs::path moved = tmp_ / "nas/b";
  fs::rename(SiteB(), moved);
  CommandResult lost = Cairn({"list"});
  EXPECT_EQ(lost.exit_code, 1);  // b cannot be opened where the catalog says, and that is told
  EXPECT_THAT(lost.err, HasSubstr("if its files were moved, `cairn site move b PLACE` points it "
                                  "there"))
      << lost.err;

  CommandResult move = Cairn({"site", "move", "b", moved.string()});
  ASSERT_EQ(move.exit_code, 0) << move.out << move.err;
  EXPECT_THAT(move.out, HasSubstr("moved site b to file://" + moved.string())) << move.out;
  EXPECT_THAT(SiteList(), HasSubstr("file://" + moved.string()));
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  CommandResult audit = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("0 corrupt, 0 missing")) << audit.out;

  // The sites' settings know the new place: a catalog rebuilt from site a does too.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", Root() + "/sites/a"});
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(SiteList(), HasSubstr("file://" + moved.string()));
  EXPECT_EQ(Cairn({"audit", "run", "--site", "b"}).exit_code, 0);
}

TEST_F(SiteMoveTest, APlaceThatIsAnotherSiteOrUnknownIsRefusedAndNothingChanges) {
  const std::string before = SiteList();
  CommandResult other = Cairn({"site", "move", "b", Root() + "/sites/a"});
  EXPECT_EQ(other.exit_code, 2) << other.out << other.err;
  EXPECT_THAT(other.err, HasSubstr("is already Cairn site 'a', not 'b'")) << other.err;
  EXPECT_THAT(other.err, HasSubstr("site b was not moved")) << other.err;

  fs::create_directories(tmp_ / "nas/full");
  WriteFile(tmp_ / "nas/full/notes.txt", "someone's files\n");
  CommandResult unmarked = Cairn({"site", "move", "b", (tmp_ / "nas/full").string(), "--empty"});
  EXPECT_EQ(unmarked.exit_code, 2) << unmarked.out << unmarked.err;
  EXPECT_THAT(unmarked.err, HasSubstr("site b was not moved")) << unmarked.err;

  CommandResult unknown = Cairn({"site", "move", "zz", (tmp_ / "nas").string()});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no site named zz")) << unknown.err;

  CommandResult same = Cairn({"site", "move", "b", SiteB().string()});
  EXPECT_EQ(same.exit_code, 2) << same.out << same.err;
  EXPECT_THAT(same.err, HasSubstr("site b is already at")) << same.err;
  EXPECT_EQ(SiteList(), before);
  EXPECT_EQ(Cairn({"list"}).exit_code, 0);
}

// Site b's disk died: it is pointed at a new empty folder (--empty: without it an empty place is
// refused, as it may be an unmounted share), then `site resync b` fills it from site a.
TEST_F(SiteMoveTest, ALostSiteIsPointedAtANewEmptyPlaceAndResyncFillsIt) {
  fs::remove_all(SiteB());
  const fs::path fresh = tmp_ / "nas/new-b";
  fs::create_directories(fresh);
  CommandResult refused = Cairn({"site", "move", "b", fresh.string()});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("holds no copy of site b")) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("--empty")) << refused.err;
  EXPECT_FALSE(fs::exists(fresh / "CAIRN-SITE"));
  EXPECT_THAT(SiteList(), Not(HasSubstr(fresh.string())));

  CommandResult move = Cairn({"site", "move", "b", fresh.string(), "--empty"});
  ASSERT_EQ(move.exit_code, 0) << move.out << move.err;
  EXPECT_THAT(move.out, HasSubstr("next: cairn site resync b")) << move.out;
  CommandResult resync = Cairn({"site", "resync", "b"});
  EXPECT_EQ(resync.exit_code, 0) << resync.out << resync.err;
  CommandResult audit = Cairn({"audit", "run", "--site", "b"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("0 corrupt, 0 missing")) << audit.out;
  EXPECT_EQ(ReadTree(fresh / "blobs").size(), ReadTree(Root() + "/sites/a/blobs").size());
}

}  // namespace
}  // namespace cairn::testing
