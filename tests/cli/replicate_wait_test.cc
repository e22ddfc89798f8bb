// Issue 15: copies that cannot be made are never a silent success. `replicate`
// leaving failed jobs queued and `daemon --once` with jobs failing exit 1 and
// print, per site, the error and when the copies will be retried;
// `replicate --wait` prints its progress and the last error while it waits
// and gives up with exit 1 after its bound (--wait-timeout).
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class ReplicateWaitTest : public RepoFixture {
 protected:
  fs::path SitePath(const std::string& name) { return tmp_ / "repo/sites" / name; }

  // acme/maps stored on site a only, site b's marker gone (not mounted).
  void DepositWithSiteBUnmarked() {
    fs::path src = MakeSourceFolder("maps");
    ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
    CommandResult dep = Cairn({"deposit", "acme", src.string(), "--id", "maps", "--no-replicate"});
    ASSERT_EQ(dep.exit_code, 0) << dep.out << dep.err;
    marker_ = ReadFile(SitePath("b") / "CAIRN-SITE");
    fs::remove(SitePath("b") / "CAIRN-SITE");
  }

  std::string marker_;
};

TEST_F(ReplicateWaitTest, FailedJobsLeftQueuedExitOneNamingSiteErrorAndRetryTime) {
  DepositWithSiteBUnmarked();
  CommandResult rep = Cairn({"replicate"});
  EXPECT_EQ(rep.exit_code, 1) << rep.out << rep.err;
  // Per site: the site, the error, when it is retried.
  EXPECT_THAT(rep.err, HasSubstr("site b:")) << rep.err;
  EXPECT_THAT(rep.err, HasSubstr("CAIRN-SITE")) << rep.err;
  EXPECT_THAT(rep.err, HasSubstr("next retry at ")) << rep.err;

  // The jobs now wait out their backoff: a daemon round takes none of them,
  // yet the copies are still missing, so it is not "nothing wrong".
  CommandResult once = Cairn({"daemon", "--once"});
  EXPECT_EQ(once.exit_code, 1) << once.out << once.err;
  std::string all = once.out + once.err;
  EXPECT_THAT(all, HasSubstr("site b:")) << all;
  EXPECT_THAT(all, HasSubstr("CAIRN-SITE")) << all;
  EXPECT_THAT(all, HasSubstr("next retry at ")) << all;
}

TEST_F(ReplicateWaitTest, WaitPrintsProgressAndGivesUpAfterItsBound) {
  DepositWithSiteBUnmarked();
  CommandResult wait = Cairn({"replicate", "--wait", "--wait-timeout", "2s"});
  EXPECT_EQ(wait.exit_code, 1) << wait.out << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("waiting: ")) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("last error: ")) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("CAIRN-SITE")) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("gave up waiting after 2s")) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("site b:")) << wait.err;

  CommandResult bad = Cairn({"replicate", "--wait", "--wait-timeout", "soon"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--wait-timeout")) << bad.err;

  // With --json the summary says it gave up, and what is left.
  CommandResult json = Cairn({"replicate", "--wait", "--wait-timeout", "1s", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  auto out = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << json.out;
  EXPECT_EQ(out["gave_up_waiting"], true) << json.out;
  EXPECT_GT(out["queued"].get<int>(), 0) << json.out;
  ASSERT_FALSE(out["retrying"].empty()) << json.out;
  EXPECT_EQ(out["retrying"][0]["site"], "b") << json.out;
  EXPECT_THAT(out["retrying"][0]["last_error"].get<std::string>(), HasSubstr("CAIRN-SITE"));
}

}  // namespace
}  // namespace cairn::testing
