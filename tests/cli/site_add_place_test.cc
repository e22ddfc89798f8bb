// Where a posix site may be made, on the real binary. A missing parent folder
// is an unmounted share, never a folder for `site add` to make on the local
// disk (issue 14 item 12); `cairn init` still makes REPO/sites/a and b; and
// `site resync` fills an emptied folder only with --init.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class SiteAddPlaceCliTest : public RepoFixture {};

TEST_F(SiteAddPlaceCliTest, MissingParentFolderIsRefusedAndNothingIsMade) {
  const fs::path share = tmp_ / "mnt/share";  // tmp_/mnt does not exist: not mounted
  CommandResult r = Cairn({"site", "add", "nas", "file://" + (share / "cairn").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr((tmp_ / "mnt").string()));
  EXPECT_THAT(r.err, HasSubstr("nas"));
  EXPECT_FALSE(fs::exists(tmp_ / "mnt")) << "site add made the missing parent folders";
  CommandResult list = Cairn({"site", "list"});
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("nas")));
}

TEST_F(SiteAddPlaceCliTest, LastFolderIsMadeWhenItsParentExists) {
  fs::create_directories(tmp_ / "mnt/share");
  CommandResult r = Cairn({"site", "add", "nas", "file://" + (tmp_ / "mnt/share/cairn").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(tmp_ / "mnt/share/cairn/CAIRN-SITE"));
}

TEST_F(SiteAddPlaceCliTest, InitStillMakesItsTwoSites) {
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/a/CAIRN-SITE"));
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/b/CAIRN-SITE"));
}

// An emptied folder is what an unmounted share looks like: resync fills it
// only when asked (--init).
TEST_F(SiteAddPlaceCliTest, ResyncNeverFillsAnEmptiedSiteFolderWithoutInit) {
  Deposit("acme", MakeSourceFolder("one").string(), "obj");
  const fs::path b = tmp_ / "repo/sites/b";
  for (fs::directory_iterator it(b), end; it != end; ++it) fs::remove_all(it->path());
  CommandResult refused = Cairn({"site", "resync", "b"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("--init"));
  EXPECT_TRUE(fs::is_empty(b)) << "resync wrote into the emptied folder";
  CommandResult init = Cairn({"site", "resync", "b", "--init"});
  EXPECT_EQ(init.exit_code, 0) << init.out << init.err;
  EXPECT_TRUE(fs::exists(b / "CAIRN-SITE"));
}

}  // namespace
}  // namespace cairn::testing

namespace cairn::testing {
namespace {

// `cairn init` prints its sites as folders ("site a  /srv/cairn/sites/a"), and staff gave
// `site add` and `catalog rebuild --from` a folder the same way: "storage URL with unknown
// scheme '/mnt/nas/cairn'". A folder is now taken as its file:// URL (absolute, normalized);
// a site name cannot hold a '/', so `--from` tells the two apart.
TEST_F(SiteAddPlaceCliTest, AFolderIsTakenAsItsFileUrl) {
  fs::create_directories(tmp_ / "mnt/share");
  const std::string folder = (tmp_ / "mnt/../mnt/share/cairn").string();
  CommandResult r = Cairn({"site", "add", "nas", folder});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string url = "file://" + (tmp_ / "mnt/share/cairn").string();
  EXPECT_THAT(r.out, HasSubstr("added site nas " + url)) << r.out;
  EXPECT_TRUE(fs::exists(tmp_ / "mnt/share/cairn/CAIRN-SITE"));
  EXPECT_THAT(Cairn({"site", "list"}).out, HasSubstr(url));

  // The catalog lost: rebuilt from site a given as its folder.
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  ASSERT_EQ(Cairn({"deposit", "acme", MakeSourceFolder("maps").string(), "--id", "maps"}).exit_code,
            0);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", Root() + "/sites/a"});
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  CommandResult show = Cairn({"show", "acme/maps"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
}

}  // namespace
}  // namespace cairn::testing
