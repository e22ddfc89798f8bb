// Storage faults around real posix sites (issue 7, "Crash consistency"): the
// library runs deposit, replication, audit and restore with a FaultBackend
// (repo/storage/fault_backend.h) wrapped around site a or b: ENOSPC and errors
// on write, failed fsync/rename before the object is visible, failed folder
// fsync after it is, read errors, short reads and flipped bytes. Each run must
// fail cleanly or route around the fault; then, with the faults gone, the real
// `cairn` reruns what is left (deposit, replicate --wait) and the repository
// passes the same consistency checks as after a kill (consistency.h).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "repo/deposit/deposit.h"
#include "repo/replicate/replicate.h"
#include "repo/restore/restore.h"
#include "repo/site/repository.h"
#include "repo/storage/fault_backend.h"
#include "tests/hostile/consistency.h"
#include "tests/util/assert_ok.h"

namespace cairn::testing {
namespace {

using repo::FaultAction;
using repo::FaultBackend;
using repo::FaultPoint;
using repo::FaultRule;

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeSourceAndRepository(tmp_ / "src", Root());
    if (HasFatalFailure()) return;
    repo::SetBackendWrapperForTesting(
        [this](
            std::string_view url,
            std::unique_ptr<repo::StorageBackend> inner) -> std::unique_ptr<repo::StorageBackend> {
          std::string name = url.substr(url.size() - 2) == "/a" ? "a" : "b";
          auto fault = std::make_unique<FaultBackend>(std::move(inner), /*seed=*/7);
          faults_[name] = fault.get();
          return fault;
        });
    auto opened = repo::Repository::Open(Root());
    ASSERT_OK(opened);
    repo_ = std::move(opened).value();
    ASSERT_OK(repo_->OpenSite("a"));
    ASSERT_OK(repo_->OpenSite("b"));
  }
  void TearDown() override {
    repo_.reset();
    repo::SetBackendWrapperForTesting({});
  }

  std::string Root() const { return (tmp_ / "repo").string(); }
  FaultBackend& Faults(const std::string& site) { return *faults_.at(site); }

  Result<repo::DepositOutcome> Deposit(const std::string& id, bool replicate = true) {
    repo::DepositRequest request;
    request.partner = "acme";
    request.source = (tmp_ / "src").string();
    request.object_id = id;
    request.replicate = replicate;
    request.threads = 2;
    return repo::Deposit(*repo_, request);
  }

  // Faults off, the library's repository closed; the real binary finishes what
  // is queued and the repository is checked.
  void HealAndCheck(const std::string& label, std::vector<std::string> rerun = {}) {
    for (auto& [name, f] : faults_) f->ClearRules();
    repo_.reset();
    repo::SetBackendWrapperForTesting({});
    if (!rerun.empty()) {
      CommandResult r = In(Root(), rerun);
      EXPECT_EQ(r.exit_code, 0) << label << ": " << r.out << r.err;
    }
    // The backoff of the failed jobs has passed (no test waits 30 s for it).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp_ / "repo/catalog.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE jobs SET next_try = 0", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    CommandResult drain = In(Root(), {"replicate", "--wait"});
    EXPECT_EQ(drain.exit_code, 0) << label << ": " << drain.out << drain.err;
    CheckRepository(Root(), SourceFiles(), label);
  }

  TempDir tmp_;
  std::unique_ptr<repo::Repository> repo_;
  std::map<std::string, FaultBackend*> faults_;
};

TEST_F(FaultInjectionTest, NoSpaceOnTheFirstSiteFailsTheDepositNamingItAndLeavesNothing) {
  Faults("a").AddRule(
      FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("No space left on device")).Skip(2));
  auto outcome = Deposit("one");
  ASSERT_FALSE(outcome.ok()) << "a full first site fails the deposit";
  EXPECT_NE(outcome.status().ToString().find("No space"), std::string::npos)
      << outcome.status().ToString();
  EXPECT_GE(Faults("a").injected(), 1);
  auto objects = repo_->catalog().ListObjects("");
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty());
  HealAndCheck("no space", {"deposit", "acme", (tmp_ / "src").string(), "--id", "one"});
}

TEST_F(FaultInjectionTest, FsyncOrRenameFailureBeforeVisibleFailsTheDepositCleanly) {
  Faults("a").AddRule(FaultRule::Fail(FaultPoint::kCommitBeforeVisible,
                                      Status::IOError("fsync: Input/output error"))
                          .Skip(3));
  auto outcome = Deposit("one");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.status().ToString().find("Input/output"), std::string::npos)
      << outcome.status().ToString();
  auto objects = repo_->catalog().ListObjects("");
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty());
  HealAndCheck("commit before visible",
               {"deposit", "acme", (tmp_ / "src").string(), "--id", "one"});
}

// A serialized bag's blobs are committed on background threads while the next
// members are read: a failed commit, whether of an early member (seen when the
// next one is handed over) or of the last one (seen only when the walk waits
// for the committers), still fails the deposit and leaves nothing.
class ArchiveFaultTest : public FaultInjectionTest, public ::testing::WithParamInterface<int> {
 protected:
  // Makes tmp/bag.tar of the source with `cairn bag create` (manifests last, so the deposit
  // reads the tag files ahead), arms `rule` on site a, deposits the tar: the deposit must
  // fail naming `error`, store nothing, and a rerun of the real binary once healed completes.
  void ExpectCleanFailure(FaultRule rule, const std::string& error, const std::string& label) {
    const std::string tar = (tmp_ / "bag.tar").string();
    CommandResult made = RunCairn({"bag", "create", (tmp_ / "src").string(), tar});
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    Faults("a").AddRule(std::move(rule));
    repo::DepositRequest request;
    request.partner = "acme";
    request.source = tar;
    request.object_id = "one";
    request.threads = 4;
    auto outcome = repo::Deposit(*repo_, request);
    ASSERT_FALSE(outcome.ok()) << label;
    EXPECT_NE(outcome.status().ToString().find(error), std::string::npos)
        << outcome.status().ToString();
    EXPECT_EQ(Faults("a").injected(), 1);
    auto objects = repo_->catalog().ListObjects("");
    ASSERT_OK(objects);
    EXPECT_TRUE(objects->empty());
    HealAndCheck(label, {"deposit", "acme", tar, "--id", "one"});
  }
};

TEST_P(ArchiveFaultTest, CommitFailureOfAnArchiveMemberFailsTheDepositCleanly) {
  // Commits on site a: the five payload blobs first, then the tag files.
  ExpectCleanFailure(FaultRule::Fail(FaultPoint::kCommitBeforeVisible,
                                     Status::IOError("fsync: Input/output error"))
                         .Skip(GetParam()),
                     "Input/output",
                     "a failed commit of payload blob " + std::to_string(GetParam() + 1));
}

INSTANTIATE_TEST_SUITE_P(EarlyAndLastMember, ArchiveFaultTest, ::testing::Values(0, 4));

// The tag files read ahead are written to the first site before any payload: a site that fails
// that first write fails the deposit, naming the site's error, and leaves nothing (the walk's
// sink-error path for a tag file read ahead).
TEST_F(ArchiveFaultTest, AFailedWriteOfATagFileReadAheadFailsTheDepositCleanly) {
  ExpectCleanFailure(
      FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("No space left on device")).Times(1),
      "No space", "tag file read ahead");
}

TEST_F(FaultInjectionTest, FolderFsyncFailureAfterVisibleOnTheCopySiteIsNotCounted) {
  Faults("b").AddRule(
      FaultRule::Fail(FaultPoint::kCommitAfterVisible, Status::IOError("fsync of folder failed"))
          .Times(3));
  auto outcome = Deposit("one");
  ASSERT_OK(outcome);
  ASSERT_TRUE(outcome->receipt.has_value());
  EXPECT_GE(Faults("b").injected(), 1);
  const repo::SiteCopies& b = outcome->receipt->copies.back();
  EXPECT_EQ(b.site, "b");
  EXPECT_GT(b.pending, 0u) << "a copy whose commit failed must not count";
  HealAndCheck("commit after visible");
}

TEST_F(FaultInjectionTest, RandomWriteFaultsOnTheCopySiteLeaveJobsThatResume) {
  Faults("b").AddRule(FaultRule::Fail(FaultPoint::kAppend, Status::NoSpace("No space left"))
                          .Times(-1)
                          .WithProbability(0.3));
  Faults("b").AddRule(
      FaultRule::Fail(FaultPoint::kCommitBeforeVisible, Status::IOError("rename: EIO"))
          .Times(-1)
          .WithProbability(0.3));
  auto outcome = Deposit("one");
  ASSERT_OK(outcome);
  auto again = Deposit("two");
  ASSERT_OK(again);
  EXPECT_GT(Faults("b").injected(), 0);
  HealAndCheck("random write faults");
}

TEST_F(FaultInjectionTest, ShortAndFlippedReadsOfTheSourceNeverMakeACountedCopy) {
  auto outcome = Deposit("one", /*replicate=*/false);
  ASSERT_OK(outcome);
  Faults("a").AddRule(FaultRule::OnRead(FaultAction::kShortRead, 1000).Matching("blobs/").Times(2));
  Faults("a").AddRule(FaultRule::OnRead(FaultAction::kFlipByte, 5).Matching("blobs/").Times(2));
  auto drained = repo::DrainReplication(*repo_, {});
  ASSERT_OK(drained);
  EXPECT_GT(drained->jobs_failed, 0u) << "bad reads of the source must fail the copy";
  EXPECT_GT(Faults("a").injected(), 0);
  HealAndCheck("short and flipped reads");
}

TEST_F(FaultInjectionTest, ReadErrorsDuringAuditAreUnavailableNeverCorruptOrRepaired) {
  ASSERT_OK(Deposit("one"));
  Faults("b").AddRule(
      FaultRule::Fail(FaultPoint::kRead, Status::Unavailable("site b: EIO")).Times(-1));
  audit::AuditOptions options;
  options.mode = audit::AuditMode::kAll;
  auto report = audit::RunAudit(*repo_, options);
  ASSERT_OK(report);
  EXPECT_EQ(report->corrupt, 0u);
  EXPECT_EQ(report->missing, 0u);
  EXPECT_EQ(report->repaired, 0u);
  EXPECT_GT(report->unavailable, 0u);
  HealAndCheck("read errors during audit");
}

TEST_F(FaultInjectionTest, ShortReadsDuringRestoreAreCaughtAndTakenFromTheOtherSite) {
  ASSERT_OK(Deposit("one"));
  Faults("a").AddRule(FaultRule::OnRead(FaultAction::kShortRead, 100).Matching("blobs/").Times(-1));
  // Any site first: the short copies on a are caught and taken from b. (The
  // other order is flaky: a refused site-a restore marks as many bad copies as
  // its workers reached before it stopped, and a marked copy is not tried first.)
  repo::RestoreRequest any;
  any.partner = "acme";
  any.object = "one";
  any.dest = (tmp_ / "from-any").string();
  auto restored = repo::Restore(*repo_, any);
  ASSERT_OK(restored);
  EXPECT_FALSE(restored->problems.empty());
  EXPECT_EQ(ReadTree(tmp_ / "from-any/data"), SourceFiles());

  repo::RestoreRequest only_a = any;
  only_a.site = "a";
  only_a.dest = (tmp_ / "from-a").string();
  auto refused = repo::Restore(*repo_, only_a);
  EXPECT_FALSE(refused.ok()) << "short copies on the only site allowed cannot make a restore";
  EXPECT_FALSE(fs::exists(tmp_ / "from-a")) << "nothing is left at DEST";
  HealAndCheck("short reads during restore");
}

// The retry layer is stacked on every site in production ABOVE the testing
// wrapper: a transient outage of site a (Unavailable, twice) is absorbed and
// the deposit succeeds, on both sites. Without the retry layer the first
// failure failed the deposit.
TEST_F(FaultInjectionTest, TransientUnavailableBelowTheRetryLayerIsAbsorbed) {
  Faults("a").AddRule(
      FaultRule::Fail(FaultPoint::kNewWriter, Status::Unavailable("site a: busy")).Times(2));
  Faults("a").AddRule(FaultRule::Fail(FaultPoint::kRead, Status::Unavailable("site a: reset"))
                          .Matching("blobs/")
                          .Times(1));
  auto outcome = Deposit("one");
  ASSERT_OK(outcome);
  ASSERT_TRUE(outcome->receipt.has_value());
  EXPECT_EQ(Faults("a").injected(), 3) << "each transient fault fired and was retried";
  for (const repo::SiteCopies& copies : outcome->receipt->copies) {
    EXPECT_EQ(copies.pending, 0u) << copies.site;
  }
  HealAndCheck("transient unavailable");
}

// A site that stays down still fails fast: each call is tried the policy's
// 3 times, then the deposit stops naming the site; nothing is stored.
TEST_F(FaultInjectionTest, PermanentOutageStillFailsAfterTheBoundedAttempts) {
  Faults("a").SetOffline(true);
  auto outcome = Deposit("one");
  ASSERT_FALSE(outcome.ok());
  const std::string message = outcome.status().ToString();
  EXPECT_TRUE(outcome.status().IsUnavailable()) << message;
  EXPECT_NE(message.find("gave up after 3 attempts"), std::string::npos) << message;
  EXPECT_NE(message.find("offline"), std::string::npos) << message;
  auto objects = repo_->catalog().ListObjects("");
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty());
  Faults("a").SetOffline(false);
  HealAndCheck("permanent outage", {"deposit", "acme", (tmp_ / "src").string(), "--id", "one"});
}

}  // namespace
}  // namespace cairn::testing
