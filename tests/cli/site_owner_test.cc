// A site belongs to one repository (issue 14 item 9), on the real binary: the
// CAIRN-SITE marker names the repository; a second repository that adds the
// same folder is refused whatever name it gives it, and may adopt it only
// deliberately (--adopt); a site whose marker names another repository is
// never written to; a marker from before repository ids still opens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SiteOwnerCliTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    CommandResult init = RunCairn({"init", Other()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  std::string Other() const { return (tmp_ / "other-repo").string(); }
  CommandResult InOther(std::vector<std::string> args) {
    args.insert(args.begin(), {"--repo", Other()});
    return RunCairn(args);
  }
  std::string NasUrl() const { return "file://" + (tmp_ / "nas").string(); }
};

TEST_F(SiteOwnerCliTest, OneFolderAddedToTwoRepositoriesIsRefusedWhateverItsName) {
  CommandResult first = Cairn({"site", "add", "nas", NasUrl()});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::string marker = ReadFile(tmp_ / "nas/CAIRN-SITE");
  EXPECT_THAT(marker, HasSubstr("repository-id: "));

  for (const char* name : {"nas", "shared"}) {
    CommandResult second = InOther({"site", "add", name, NasUrl()});
    EXPECT_EQ(second.exit_code, 2) << name << ": " << second.out << second.err;
    EXPECT_THAT(second.err, HasSubstr("belongs to another Cairn repository")) << name;
    EXPECT_THAT(second.err, HasSubstr("--adopt")) << name;
    EXPECT_THAT(InOther({"site", "list"}).out, Not(HasSubstr(name)));
  }
  // Nothing on the site changed.
  EXPECT_EQ(ReadFile(tmp_ / "nas/CAIRN-SITE"), marker);
}

TEST_F(SiteOwnerCliTest, AdoptionIsDeliberateRecordedAndRewritesNothing) {
  ASSERT_EQ(Cairn({"site", "add", "nas", NasUrl()}).exit_code, 0);
  const std::string marker = ReadFile(tmp_ / "nas/CAIRN-SITE");
  CommandResult adopted = InOther({"site", "add", "nas", NasUrl(), "--adopt"});
  ASSERT_EQ(adopted.exit_code, 0) << adopted.out << adopted.err;
  EXPECT_THAT(adopted.out, HasSubstr("adopted from repository"));
  EXPECT_EQ(ReadFile(tmp_ / "nas/CAIRN-SITE"), marker);
  // The adopting repository writes to it.
  WriteFile(tmp_ / "src/a.txt", "alpha\n");
  WriteFile(tmp_ / "policy.txt", "copies: 2 sites: \"a\" sites: \"nas\"\n");
  ASSERT_EQ(InOther({"partner", "add", "acme"}).exit_code, 0);
  CommandResult policy =
      InOther({"policy", "set", (tmp_ / "policy.txt").string(), "--partner", "acme"});
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  CommandResult deposit = InOther({"deposit", "acme", (tmp_ / "src").string(), "--id", "obj"});
  ASSERT_EQ(deposit.exit_code, 0) << deposit.out << deposit.err;
  EXPECT_TRUE(fs::exists(tmp_ / "nas/bags/acme/obj/v1/version.pb"));
}

TEST_F(SiteOwnerCliTest, ASiteSwappedForAnotherRepositorysIsNeverWrittenTo) {
  // Site b of this repository now holds the other repository's marker.
  WriteFile(tmp_ / "repo/sites/b/CAIRN-SITE", ReadFile(fs::path(Other()) / "sites/b/CAIRN-SITE"));
  WriteFile(tmp_ / "src/a.txt", "alpha\n");
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  // Stored on a (if a comes first), never on b: the copy to b stays pending,
  // and the receipt says why.
  CommandResult r = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "obj"});
  EXPECT_THAT(r.out + r.err, HasSubstr("belongs to repository")) << r.exit_code;
  CommandResult replicate = Cairn({"replicate"});
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/b/bags"));
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/b/blobs"));
}

TEST_F(SiteOwnerCliTest, AMarkerWrittenBeforeRepositoryIdsStillOpens) {
  fs::create_directories(tmp_ / "old");
  WriteFile(tmp_ / "old/CAIRN-SITE", "cairn-site 1\nsite-id: old\ncreated: 2026-01-01T00:00:00Z\n");
  CommandResult added = Cairn({"site", "add", "old", "file://" + (tmp_ / "old").string()});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
  WriteFile(tmp_ / "src/a.txt", "alpha\n");
  WriteFile(tmp_ / "policy.txt", "copies: 2 sites: \"a\" sites: \"old\"\n");
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "policy.txt").string(), "--partner", "acme"}).exit_code,
            0);
  CommandResult deposit = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "obj"});
  ASSERT_EQ(deposit.exit_code, 0) << deposit.out << deposit.err;
  EXPECT_TRUE(fs::exists(tmp_ / "old/bags/acme/obj/v1/version.pb"));
}

}  // namespace
}  // namespace cairn::testing
