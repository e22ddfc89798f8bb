// A daemon round on a real repository: due schedules run by the fake clock,
// replication and repair jobs drained, a site that is down leaves its work
// queued without failing the round, and a cancelled round stops early.
#include "audit/daemon.h"

#include <gtest/gtest.h>

#include "audit/audit_test_util.h"
#include "repo/catalog/catalog.h"
#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

const std::string kDaemonFile = "the first file\n";

class DaemonTest : public AuditTest {
 protected:
  DaemonOptions Opts() {
    DaemonOptions options;
    options.user = "tester";
    options.owner = "daemon-test";
    return options;
  }
  void Enqueue(proto::JobKind kind, const std::string& target) {
    proto::Job job;
    job.set_kind(kind);
    job.set_partner("acme");
    job.set_object("maps");
    job.set_version(1);
    job.set_target_site(target);
    ASSERT_OK(repo_->catalog().EnqueueJob(job));
  }
  int64_t Jobs(const std::string& kind) {
    return CountRows("SELECT COUNT(*) FROM jobs WHERE kind = '" + kind + "'");
  }
};

TEST_F(DaemonTest, RunsSchedulesReplicationAndRepairsAndSurvivesASiteDown) {
  Schedule s;
  s.name = "quarterly";
  s.every_micros = 90 * repo::kMicrosPerDay;
  s.mode = AuditMode::kAll;
  s.scope.site = "a";
  ASSERT_OK(AddSchedule(*repo_, s));
  // A fourth site to replicate to; a bad copy on b that restore reported.
  ASSERT_OK(repo_->AddSite("d", repo::FileUrl(SitePath("d").string()), ""));
  Enqueue(proto::JOB_KIND_REPLICATE, "d");
  std::string bad = kDaemonFile;
  bad[0] ^= 0x20;
  fs::remove(BlobPath("b", kDaemonFile));
  cairn::testing::WriteFile(BlobPath("b", kDaemonFile), bad);
  Enqueue(proto::JOB_KIND_REPAIR, "b");
  // And a repair for site c, which is down.
  Enqueue(proto::JOB_KIND_REPAIR, "c");
  fs::rename(SitePath("c"), dir_ / "c-away");

  auto round = RunDaemonRound(*repo_, Opts());
  ASSERT_OK(round);
  ASSERT_EQ(round->schedules.size(), 1u);
  EXPECT_OK(round->schedules[0].status);
  int64_t per_site = CountRows(
      "SELECT COUNT(*) FROM replicas WHERE site_id = "
      "(SELECT id FROM sites WHERE name = 'a')");
  EXPECT_EQ(round->schedules[0].report.checked, static_cast<uint64_t>(per_site));
  EXPECT_EQ(round->replication.jobs_done, 1u);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("d", kDaemonFile)), kDaemonFile);
  EXPECT_EQ(round->repairs.jobs_done, 1u);
  EXPECT_EQ(round->repairs.jobs_retry, 1u);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("b", kDaemonFile)), kDaemonFile);  // repaired
  EXPECT_FALSE(round->problems.empty());  // site c is reported
  EXPECT_EQ(Jobs("JOB_KIND_REPLICATE"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM jobs WHERE kind = 'JOB_KIND_REPAIR' AND state = "
                      "'queued' AND target_site = 'c'"),
            1);
  EXPECT_TRUE(repo_->catalog().VerifyEvents()->ok);
  // The copy made on d and the one repaired on b dropped the listing count of the
  // object's latest version; the round kept it again, so `cairn list` reads it.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM "
                      "version_copies c JOIN versions v ON v.id = c.version_id WHERE "
                      "v.partner = o.partner AND v.object = o.object AND v.version = "
                      "(SELECT MAX(version) FROM versions WHERE partner = o.partner AND "
                      "object = o.object))"),
            0);

  // Site c is back: once its job is due again (the backoff), the next round
  // clears it; the schedule is not due again for 90 days.
  fs::rename(dir_ / "c-away", SitePath("c"));
  Reopen();
  clock_.Advance(3600 * repo::kMicrosPerSecond);
  auto next = RunDaemonRound(*repo_, Opts());
  ASSERT_OK(next);
  EXPECT_TRUE(next->schedules.empty());
  EXPECT_EQ(next->repairs.jobs_done, 1u);
  EXPECT_TRUE(next->problems.empty()) << next->problems[0];
  EXPECT_EQ(Jobs("JOB_KIND_REPAIR"), 0);
  clock_.Advance(90 * repo::kMicrosPerDay);
  auto later = RunDaemonRound(*repo_, Opts());
  ASSERT_OK(later);
  EXPECT_EQ(later->schedules.size(), 1u);
}

TEST_F(DaemonTest, CancelledRoundLeavesWorkQueuedAndDue) {
  Schedule s;
  s.name = "nightly";
  s.every_micros = repo::kMicrosPerDay;
  ASSERT_OK(AddSchedule(*repo_, s));
  Enqueue(proto::JOB_KIND_REPAIR, "b");
  std::atomic<bool> stop{true};
  DaemonOptions options = Opts();
  options.cancel = &stop;
  auto round = RunDaemonRound(*repo_, options);
  ASSERT_OK(round);
  EXPECT_TRUE(round->cancelled);
  EXPECT_TRUE(round->schedules.empty());
  EXPECT_EQ(Jobs("JOB_KIND_REPAIR"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM schedules WHERE last_run = 0"), 1);
}

// The daemon's cancel reaches DrainReplication: stopped after one copy of a
// job, that copy counts (verified), the job goes back to the queue unfailed,
// and the next drain finishes it without copying anything twice.
TEST_F(DaemonTest, CancelledReplicationDrainReleasesItsJobBetweenCopies) {
  ASSERT_OK(repo_->AddSite("d", repo::FileUrl(SitePath("d").string()), ""));
  Enqueue(proto::JOB_KIND_REPLICATE, "d");
  int64_t per_site = CountRows(
      "SELECT COUNT(*) FROM replicas WHERE site_id = (SELECT id FROM sites WHERE name = 'a')");
  ASSERT_GT(per_site, 2);
  std::atomic<bool> stop{false};
  repo::ReplicationOptions options;
  options.owner = "daemon-test";
  options.threads_per_site = 1;
  options.cancel = &stop;
  options.after_copy = [&] { stop = true; };  // SIGTERM while the first copy is made
  auto drained = repo::DrainReplication(*repo_, {}, options);
  ASSERT_OK(drained);
  EXPECT_EQ(drained->jobs_done, 0u);
  EXPECT_EQ(drained->jobs_failed, 0u);
  EXPECT_EQ(drained->jobs_released, 1u);
  EXPECT_EQ(drained->copies_made, 1u);
  auto on_d = [&] {
    return CountRows(
        "SELECT COUNT(*) FROM replicas WHERE state = 'ok' AND site_id = "
        "(SELECT id FROM sites WHERE name = 'd')");
  };
  EXPECT_EQ(on_d(), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND attempts = 0 AND "
                      "lease_owner = '' AND target_site = 'd'"),
            1);

  stop = false;
  options.after_copy = nullptr;
  auto rest = repo::DrainReplication(*repo_, {}, options);
  ASSERT_OK(rest);
  EXPECT_EQ(rest->jobs_done, 1u);
  EXPECT_EQ(rest->copies_made, static_cast<uint64_t>(per_site - 1));
  EXPECT_EQ(on_d(), per_site);
  EXPECT_EQ(Jobs("JOB_KIND_REPLICATE"), 0);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("d", kDaemonFile)), kDaemonFile);
}

}  // namespace
}  // namespace cairn::audit
