// `cairn deposit` had no signal handling: Ctrl-C (SIGINT) or SIGTERM ended it at once, printing
// nothing, so the depositor could not tell whether the version was stored. The first signal now
// stops the deposit at its next safe point and it says what is true: before the catalog commit,
// "interrupted: nothing was stored" (exit 2; nothing of it is visible and the same command
// deposits it); after it, the version stored on the first site and the copies not made yet,
// which `cairn replicate` makes (exit 1). The cairn-testing hook CAIRN_PAUSE_AT
// (repo/crash_point.h) holds the deposit at a point until the signal is seen, so the signal lands
// there every time.
#include <gmock/gmock.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DepositSignalTest : public RepoFixture {
 protected:
  void SetUp() override {
    // A cairn started with SIGINT ignored (this test run as a background job of a script)
    // keeps it ignored: the signals are sent to a child that has them at their default.
    signal(SIGINT, SIG_DFL);
    RepoFixture::SetUp();
    ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
    source_ = MakeSourceFolder("maps");
    for (int i = 0; i < 40; ++i) {
      WriteFile(source_ / "many" / ("f" + std::to_string(i) + ".txt"), std::to_string(i) + "\n");
    }
  }

  std::vector<std::string> DepositArgs() {
    return {"deposit", "acme", source_.string(), "--id", "maps"};
  }

  struct Stopped {
    int exit_code = -1;  // -1: ended by a signal, or did not end
    std::string output;  // stdout and stderr
  };

  // Starts the deposit held at pause point `point`, sends `sig` once it is there, and waits for
  // the process to end.
  Stopped InterruptAt(const std::string& point, int sig) {
    const fs::path ready = tmp_ / ("paused-" + point);
    const fs::path log = tmp_ / ("deposit-" + point + ".log");
    pid_t pid =
        StartCairn(DepositArgs(), log,
                   {"CAIRN_REPO=" + Root(), "CAIRN_PAUSE_AT=" + point + ":" + ready.string()});
    Stopped result;
    EXPECT_GT(pid, 0);
    if (pid <= 0) return result;
    for (int i = 0; i < 600 && !fs::exists(ready); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(fs::exists(ready)) << "never reached " << point << "\n" << ReadFile(log);
    EXPECT_EQ(kill(pid, sig), 0);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 1200 && done == 0; ++i) {  // a guard against a hang
      done = waitpid(pid, &status, WNOHANG);
      if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (done == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    result.output = ReadFile(log);
    if (done != 0 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    return result;
  }

  // No version of acme/maps anywhere: not listed, no version folder, no blob on a site, no note
  // of a deposit in progress. Then the same command deposits it as version 1.
  void ExpectNothingStoredAndARerunDeposits() {
    CommandResult list = Cairn({"list", "--json"});
    EXPECT_THAT(list.out, Not(HasSubstr("maps"))) << list.out;
    for (const char* site : {"a", "b"}) {
      const fs::path root = tmp_ / "repo/sites" / site;
      EXPECT_FALSE(fs::exists(root / "bags/acme/maps")) << site;
      size_t blobs = 0;
      if (fs::exists(root / "blobs")) {
        for (const auto& e : fs::recursive_directory_iterator(root / "blobs")) {
          blobs += fs::is_regular_file(e.status()) ? 1 : 0;
        }
      }
      EXPECT_EQ(blobs, 0u) << "site " << site << " keeps blobs of the interrupted deposit";
    }
    EXPECT_FALSE(fs::exists(tmp_ / "repo/locks/acme/maps.pending"));
    CommandResult again = Cairn(DepositArgs());
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_THAT(again.out, HasSubstr("acme/maps v1")) << again.out;
  }

  fs::path source_;
};

TEST_F(DepositSignalTest, SigintWhileStoringSaysNothingWasStoredAndLeavesNothing) {
  Stopped s = InterruptAt("deposit.storing", SIGINT);
  EXPECT_EQ(s.exit_code, 2) << s.output;
  EXPECT_THAT(s.output, HasSubstr("interrupted: nothing was stored")) << s.output;
  EXPECT_THAT(s.output, HasSubstr("run the same command again")) << s.output;
  ExpectNothingStoredAndARerunDeposits();
}

TEST_F(DepositSignalTest, SigtermBeforeTheCommitSaysNothingWasStoredAndLeavesNothing) {
  Stopped s = InterruptAt("deposit.before-commit", SIGTERM);
  EXPECT_EQ(s.exit_code, 2) << s.output;
  EXPECT_THAT(s.output, HasSubstr("interrupted: nothing was stored")) << s.output;
  ExpectNothingStoredAndARerunDeposits();
}

TEST_F(DepositSignalTest, SigintAfterTheCommitSaysTheVersionIsStoredAndWhichCopiesAreOwed) {
  Stopped s = InterruptAt("deposit.committed", SIGINT);
  EXPECT_EQ(s.exit_code, 1) << s.output;
  EXPECT_THAT(
      s.output,
      HasSubstr("deposit interrupted by SIGINT: version 1 of acme/maps is stored on site a; "
                "48 of its copies to site b were not made yet"))
      << s.output;
  EXPECT_THAT(s.output, HasSubstr("cairn replicate makes them")) << s.output;
  EXPECT_THAT(s.output, HasSubstr("acme/maps v1")) << "the receipt\n" << s.output;
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/b/bags/acme/maps/v1/version.pb"));

  CommandResult show = Cairn({"show", "acme/maps"});
  EXPECT_EQ(show.exit_code, 1) << show.out << show.err;  // lacking its copy on b
  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/b/bags/acme/maps/v1/version.pb"));
  show = Cairn({"show", "acme/maps"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
}

}  // namespace
}  // namespace cairn::testing
