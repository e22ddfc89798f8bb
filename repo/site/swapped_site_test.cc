// Unmounted or swapped posix sites (issue 14): a site opened by a running
// process keeps a handle on its root folder; when the folder at the site's
// path is no longer that one (a share unmounted under its mount point, a
// folder renamed away and an empty one made in its place) or its CAIRN-SITE
// marker is gone, nothing is written there: deposit and replication fail or
// stay pending, naming the site.
#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositTest;
using cairn::testing::WriteFile;

class SwappedSiteTest : public DepositTest {
 protected:
  // Opens `site` (as a running daemon holds it), then puts an empty folder
  // at its path: the real one is renamed away.
  void SwapAfterOpen(const std::string& site) {
    ASSERT_OK(repo_->OpenSite(site));
    fs::rename(SitePath(site), dir_ / (site + "-away"));
    fs::create_directory(SitePath(site));
  }
  // Everything in `site`'s folder, folders included.
  std::vector<std::string> Entries(const std::string& site) {
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(SitePath(site)), end; it != end; ++it) {
      found.push_back(fs::relative(it->path(), SitePath(site)).generic_string());
    }
    return found;
  }
};

// As `cairn daemon` did on the code before: site b open in the daemon, b's
// folder swapped for an empty one, then a deposit whose payload b already
// held: the daemon wrote the version's tag files and version.pb into the
// empty folder (tag files were copied without any check of the site).
TEST_F(SwappedSiteTest, ReplicationNeverWritesIntoAFolderSwappedInUnderTheSite) {
  WriteFile(dir_ / "src/first/a.txt", "alpha");
  Run("acme", (dir_ / "src/first").string());  // on a and b: the blob is on b
  WriteFile(dir_ / "src/f/a.txt", "alpha");
  SwapAfterOpen("b");
  DepositOutcome out = Run("acme", (dir_ / "src/f").string());
  ASSERT_TRUE(out.receipt) << out.report.ToText();
  ASSERT_EQ(out.receipt->copies.size(), 2u);
  EXPECT_GT(out.receipt->copies[1].pending, 0u) << "copies to site b count as made";
  EXPECT_EQ(Entries("b"), std::vector<std::string>()) << "written into the swapped-in folder";

  clock_.Advance(3600 * kMicrosPerSecond);  // past the retry backoff
  Result<ReplicationSummary> drained = DrainReplication(*repo_, {});
  ASSERT_OK(drained);
  EXPECT_EQ(drained->jobs_done, 0u);
  ASSERT_FALSE(drained->errors.empty());
  EXPECT_NE(drained->errors[0].find("site b"), std::string::npos) << drained->errors[0];
  EXPECT_EQ(Entries("b"), std::vector<std::string>()) << "written into the swapped-in folder";
  EXPECT_FALSE(fs::exists(dir_ / "b-away/bags/acme/f")) << "nor into the folder moved away";
  // Put back, the site takes the copies (a new process opens it again).
  fs::remove(SitePath("b"));
  fs::rename(dir_ / "b-away", SitePath("b"));
  clock_.Advance(3600 * kMicrosPerSecond);
  Reopen();
  Result<ReplicationSummary> again = DrainReplication(*repo_, {});
  ASSERT_OK(again);
  EXPECT_EQ(again->jobs_done, 1u);
  EXPECT_TRUE(fs::exists(SitePath("b") / "bags/acme/f/v1/version.pb"));
}

TEST_F(SwappedSiteTest, DepositNeverWritesIntoASwappedFirstSite) {
  WriteFile(dir_ / "src/f/a.txt", "alpha");
  SwapAfterOpen("a");
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/f").string();
  Result<DepositOutcome> out = Deposit(*repo_, request);
  ASSERT_FALSE(out.ok() && out->receipt) << "a deposit was acknowledged on a swapped site";
  const std::string message = out.ok() ? out->report.ToText() : out.status().ToString();
  EXPECT_NE(message.find("site"), std::string::npos) << message;
  EXPECT_NE(message.find(SitePath("a").string()), std::string::npos) << message;
  EXPECT_EQ(Entries("a"), std::vector<std::string>()) << "written into the swapped-in folder";
  EXPECT_FALSE(repo_->catalog().GetVersion("acme", "f", std::nullopt, false).ok());
}

// The same folder, its marker gone (an emptied mount point): no write.
TEST_F(SwappedSiteTest, ASiteWhoseMarkerIsGoneIsNeverWritten) {
  WriteFile(dir_ / "src/f/a.txt", "alpha");
  ASSERT_OK(repo_->OpenSite("a"));
  fs::remove(SitePath("a") / "CAIRN-SITE");
  fs::remove(SitePath("a") / "README.txt");
  fs::remove_all(SitePath("a") / "tmp");
  DepositRequest request;
  request.partner = "acme";
  request.source = (dir_ / "src/f").string();
  Result<DepositOutcome> out = Deposit(*repo_, request);
  ASSERT_FALSE(out.ok() && out->receipt) << "a deposit was acknowledged on a site without marker";
  EXPECT_EQ(Entries("a"), std::vector<std::string>()) << "written into a site without marker";
}

}  // namespace
}  // namespace cairn::repo
