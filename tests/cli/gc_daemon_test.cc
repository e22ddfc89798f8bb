// End to end (issue 14 "No deletion without coordination", issue 15 "Orphans
// have an end"): an orphan blob no version references is reported by
// `audit run --orphans` once, with the way to clear it, not as a new finding
// on every sweep; the daemon runs gc itself (with the grace period, only when
// no writer holds the lock) and records the removal as an event.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CliGcDaemonTest : public RepoFixture {};

TEST_F(CliGcDaemonTest, AnOrphanIsReportedOnceWithTheWayToClearIt) {
  Deposit("acme", MakeSourceFolder("kept").string(), "kept");
  std::string sha;
  PlantUnreferencedBlob("left by a killed deposit\n", &sha);
  CommandResult first = Cairn({"audit", "run", "--orphans"});
  EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
  EXPECT_NE(first.out.find(sha), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("cairn gc"), std::string::npos) << first.out;
  // The next sweeps know it: counted, named as left for gc, not a new problem.
  for (int i = 0; i < 2; ++i) {
    CommandResult again = Cairn({"audit", "run", "--orphans"});
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(again.out.find(sha), std::string::npos) << again.out;
    EXPECT_NE(again.out.find("1 orphan blobs already reported"), std::string::npos) << again.out;
  }
}

TEST_F(CliGcDaemonTest, TheDaemonCollectsAfterTheGracePeriodOnlyWhenNoWriterHoldsTheLock) {
  Deposit("acme", MakeSourceFolder("kept").string(), "kept");
  std::string sha;
  fs::path blob = PlantUnreferencedBlob("left by a refused deposit\n", &sha);
  // First round: seen unreferenced, kept (grace 24h).
  CommandResult r1 = CairnAt("2030-01-01T00:00:00Z", {"daemon", "--once"});
  EXPECT_LE(r1.exit_code, 1) << r1.out << r1.err;
  EXPECT_NE(r1.out.find("gc: "), std::string::npos) << r1.out;
  EXPECT_TRUE(fs::exists(blob));
  // A day on, while a writer holds the lock: the daemon does not wait for it
  // and does not collect.
  {
    int fd = open((fs::path(Root()) / "writers.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_SH), 0);
    CommandResult busy =
        RunProcess({"timeout", "60", CairnBinary().string(), "daemon", "--once"},
                   {"CAIRN_REPO=" + Root(), "CAIRN_FAKE_NOW=2030-01-02T01:00:00Z"});
    EXPECT_LE(busy.exit_code, 1) << busy.out << busy.err;
    EXPECT_TRUE(fs::exists(blob));
    close(fd);
  }
  // Free again: collected, with a deletion event; the kept object is intact.
  CommandResult r2 = CairnAt("2030-01-02T01:00:00Z", {"daemon", "--once"});
  EXPECT_LE(r2.exit_code, 1) << r2.out << r2.err;
  EXPECT_FALSE(fs::exists(blob)) << r2.out << r2.err;
  CommandResult events = Cairn({"events", "--type", "deletion"});
  EXPECT_NE(events.out.find(sha), std::string::npos) << events.out << events.err;
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans", "--no-repair"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace cairn::testing
