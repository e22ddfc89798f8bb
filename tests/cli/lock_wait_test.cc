// End to end (issue 14 "Permissions and locks", issue 15 lock messages): a
// lock another process holds is waited for with a bound, the wait is said
// once naming the holder (pid, command, user, host, since), and after the
// bound the verb exits 2 with that same naming, never waiting forever; a
// holder record of a dead pid is called stale; a lock file that cannot be
// opened is told apart from a busy lock.
//
// The holder here is the test process: it takes the flock and writes the
// holder record (LOCK.holder-PID, repo/lock_wait.h) as a cairn would.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

std::string ThisHost() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

class CliLockWaitTest : public RepoFixture {
 protected:
  // Holds flock `op` on `path` until TearDown; writes a holder record for
  // `pid` (0: none) naming `command`.
  void Hold(const fs::path& path, int op, pid_t pid, const std::string& command) {
    fs::create_directories(path.parent_path());
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(flock(fd, op | LOCK_NB), 0) << path;
    held_.push_back(fd);
    if (pid > 0) WriteRecord(path, pid, command);
  }
  void WriteRecord(const fs::path& path, pid_t pid, const std::string& command) {
    WriteFile(path.string() + ".holder-" + std::to_string(pid),
              "pid " + std::to_string(pid) + "\ncommand " + command + "\nuser archivist\nhost " +
                  ThisHost() + "\nsince 2026-12-01T10:00:00Z\nmode exclusive\n");
  }
  void TearDown() override {
    for (int fd : held_) close(fd);
  }
  // cairn under `timeout`, so a verb that waits forever fails the test (exit 124).
  CommandResult Bounded(std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", "60", CairnBinary().string()});
    return RunProcess(args, {"CAIRN_REPO=" + Root()});
  }
  static int Count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
  std::vector<int> held_;
};

TEST_F(CliLockWaitTest, DepositWaitsForAnExclusiveHolderThenFailsNamingIt) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("w");
  const fs::path lock = fs::path(Root()) / "writers.lock";
  Hold(lock, LOCK_EX, getpid(), "cairn gc");
  CommandResult r = Bounded({"--lock-timeout", "1", "deposit", "acme", src.string(), "--id", "w"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string holder = "pid " + std::to_string(getpid()) +
                             " (cairn gc, user archivist, host " + ThisHost() +
                             ", since 2026-12-01T10:00:00Z)";
  EXPECT_EQ(Count(r.err, "waiting for the lock " + lock.string() + " held by " + holder), 1)
      << r.err;
  EXPECT_NE(r.err.find(lock.string() + " is still held after 1 s"), std::string::npos) << r.err;
  EXPECT_EQ(Count(r.err, holder), 2) << "the wait and the failure both name the holder: " << r.err;
  EXPECT_EQ(r.err.find("stale"), std::string::npos) << r.err;
  // The object was not stored.
  EXPECT_NE(Cairn({"show", "acme/w"}).exit_code, 0);
}

TEST_F(CliLockWaitTest, DepositOfALockedObjectFailsNamingTheOtherDeposit) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("o");
  const fs::path lock = fs::path(Root()) / "locks/acme/o.lock";
  Hold(lock, LOCK_EX, getpid(), "cairn deposit");
  CommandResult r = RunProcess(
      {"timeout", "60", CairnBinary().string(), "deposit", "acme", src.string(), "--id", "o"},
      {"CAIRN_REPO=" + Root(), "CAIRN_LOCK_TIMEOUT=1"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(Count(r.err, "waiting for the lock " + lock.string() + " held by pid " +
                             std::to_string(getpid()) + " (cairn deposit, user archivist"),
            1)
      << r.err;
  EXPECT_NE(r.err.find("still held after 1 s"), std::string::npos) << r.err;
}

TEST_F(CliLockWaitTest, ARecordOfADeadPidIsCalledStale) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("s");
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);
  const fs::path lock = fs::path(Root()) / "writers.lock";
  // Held by a process that left no record, beside the record of a dead one.
  Hold(lock, LOCK_EX, 0, "");
  WriteRecord(lock, child, "cairn replicate");
  CommandResult r = Bounded({"--lock-timeout", "1", "deposit", "acme", src.string(), "--id", "s"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("pid " + std::to_string(child) + " (cairn replicate"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("a stale record: pid " + std::to_string(child) + " is not running"),
            std::string::npos)
      << r.err;
  // Once free, the next writer clears the stale record and runs.
  for (int fd : held_) close(fd);
  held_.clear();
  CommandResult ok = Bounded({"deposit", "acme", src.string(), "--id", "s"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_FALSE(fs::exists(lock.string() + ".holder-" + std::to_string(child)));
}

TEST_F(CliLockWaitTest, ALockFileThatCannotBeOpenedIsNotABusyLock) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("u");
  // A folder where the lock file should be: open(2) fails (EISDIR), as a
  // lock file in a read-only folder or owned by another user would.
  fs::create_directories(fs::path(Root()) / "writers.lock");
  CommandResult r = Bounded({"deposit", "acme", src.string(), "--id", "u"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot open the lock file " + Root() + "/writers.lock"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("not a busy lock"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("waiting"), std::string::npos) << r.err;
}

TEST_F(CliLockWaitTest, ASweepLockThatCannotBeOpenedIsNotAnotherSweep) {
  Deposit("acme", MakeSourceFolder("v").string(), "v");
  fs::create_directories(fs::path(Root()) / "audit-a.lock");
  CommandResult r = Bounded({"audit", "run", "--all", "--no-repair"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("cannot open the lock file " + Root() + "/audit-a.lock"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("another sweep holds its lock"), std::string::npos)
      << r.out << r.err;
}

}  // namespace
}  // namespace cairn::testing
