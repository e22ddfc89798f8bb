// Issue 15: a schedule whose --rate is too low for its sweep to finish before
// the next run is due is warned about, with the numbers (rate, bytes, time
// needed, the window, the rate it would take); a rate that keeps up is not.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuditRateWarningTest : public RepoFixture {};

TEST_F(AuditRateWarningTest, TooLowARateForTheIntervalIsWarnedWithTheNumbers) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");  // about 70 KiB per site
  // 1 byte/s: about 20 hours for one site's copies, with a run every hour.
  CommandResult slow =
      Cairn({"audit", "schedule", "add", "slow", "--every", "1h", "--all", "--rate", "1"});
  EXPECT_EQ(slow.exit_code, 0) << slow.err;  // added, but warned
  EXPECT_THAT(slow.err, HasSubstr("warning: schedule slow: at --rate 1 B/s")) << slow.err;
  EXPECT_THAT(slow.err, HasSubstr("KiB")) << slow.err;
  EXPECT_THAT(slow.err, HasSubstr("longer than --every 1h")) << slow.err;
  EXPECT_THAT(slow.err, HasSubstr("raise --rate to at least")) << slow.err;

  // A rate that reads them in time: no warning.
  CommandResult fine =
      Cairn({"audit", "schedule", "add", "fine", "--every", "1h", "--all", "--rate", "200M"});
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_THAT(fine.err, Not(HasSubstr("warning"))) << fine.err;
}

// A sweep of the copies due right after a deposit checks none: it says nothing was due and
// names --all (the "0 of 0 copies checked ... 0 ok" alone read like a clean sweep).
TEST_F(AuditRateWarningTest, ASweepWithNothingDueSaysSoAndNamesAll) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  CommandResult due = Cairn({"audit", "run"});
  EXPECT_EQ(due.exit_code, 0) << due.err;
  EXPECT_THAT(due.out, HasSubstr("0 of 0 copies checked")) << due.out;
  EXPECT_THAT(due.out, HasSubstr("nothing was due")) << due.out;
  EXPECT_THAT(due.out, HasSubstr("cairn audit run --all")) << due.out;
  CommandResult all = Cairn({"audit", "run", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, Not(HasSubstr("nothing was due"))) << all.out;
}

}  // namespace
}  // namespace cairn::testing
