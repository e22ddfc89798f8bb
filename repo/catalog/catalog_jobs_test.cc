// The durable job queue: lease, complete, retry with backoff, expired leases,
// deduplication and surviving a reopen.
#include <gmock/gmock.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repo/catalog/catalog.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;

proto::Job Replicate(const std::string& blob, const std::string& target) {
  proto::Job job;
  job.set_kind(proto::JOB_KIND_REPLICATE);
  job.set_partner("p1");
  job.set_object("o");
  job.set_version(1);
  job.set_blob(blob);
  job.set_source_site("a");
  job.set_target_site(target);
  return job;
}

TEST_F(CatalogTest, LeasesOfAKilledProcessAreTakenBackAtOnce) {
  // A process that has exited: its pid names no process now.
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  ASSERT_OK(catalog_->EnqueueJob(Replicate("alive", "b")));
  ASSERT_OK(catalog_->EnqueueJob(Replicate("dead", "b")));
  const int64_t hour = 3600 * kMicrosPerSecond;
  auto mine = catalog_->LeaseJobs(1, hour, "cairn " + std::to_string(getpid()));
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].job.blob(), "alive");
  ASSERT_EQ(catalog_->LeaseJobs(1, hour, "cairn " + std::to_string(child))->size(), 1u);
  // The hour has not passed: only the dead holder's job comes back.
  auto again = catalog_->LeaseJobs(10, hour, "rerun");
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].job.blob(), "dead");
  EXPECT_EQ((*again)[0].lease_owner, "rerun");
  // Owners without a pid keep their lease until it expires.
  EXPECT_TRUE(catalog_->LeaseJobs(10, hour, "w9")->empty());
}

TEST_F(CatalogTest, LeaseCompleteAndDedup) {
  auto id1 = catalog_->EnqueueJob(Replicate("b1", "b"));
  auto id2 = catalog_->EnqueueJob(Replicate("b2", "b"));
  ASSERT_TRUE(id1.ok() && id2.ok());
  EXPECT_EQ(*catalog_->EnqueueJob(Replicate("b1", "b")), *id1);  // same work: same job
  EXPECT_NE(*catalog_->EnqueueJob(Replicate("b1", "c")), *id1);
  EXPECT_EQ(catalog_->CountJobs()->queued, 3u);

  auto leased = catalog_->LeaseJobs(2, 60 * kMicrosPerSecond, "w1");
  ASSERT_OK(leased);
  ASSERT_EQ(leased->size(), 2u);
  EXPECT_EQ((*leased)[0].id, *id1);
  EXPECT_EQ((*leased)[0].job.blob(), "b1");
  EXPECT_EQ((*leased)[0].job.source_site(), "a");
  // Leased jobs are invisible to other workers.
  auto other = catalog_->LeaseJobs(10, 60 * kMicrosPerSecond, "w2");
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].job.target_site(), "c");
  EXPECT_TRUE(catalog_->LeaseJobs(10, 60 * kMicrosPerSecond, "w3")->empty());

  ASSERT_OK(catalog_->CompleteJob(*id1));
  EXPECT_TRUE(catalog_->CompleteJob(*id1).IsNotFound());
  auto counts = catalog_->CountJobs();
  EXPECT_EQ(counts->leased, 2u);
  EXPECT_EQ(counts->queued, 0u);
}

TEST_F(CatalogTest, FailRetriesWithBackoffThenGivesUp) {
  auto id = catalog_->EnqueueJob(Replicate("b1", "b"));
  ASSERT_OK(id);
  const Backoff backoff;  // the defaults the fixture's catalog uses
  ASSERT_EQ(catalog_->LeaseJobs(1, kMicrosPerSecond, "w")->size(), 1u);
  ASSERT_OK(catalog_->FailJob(*id, Status::Unavailable("site b down")));
  auto jobs = catalog_->ListJobs();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].state, "queued");
  EXPECT_EQ((*jobs)[0].job.attempts(), 1u);
  EXPECT_EQ((*jobs)[0].job.next_try_unix_micros(), clock_.NowMicros() + backoff.base_micros);
  EXPECT_THAT((*jobs)[0].job.last_error(), ::testing::HasSubstr("site b down"));

  // Not due yet; due after the delay.
  EXPECT_TRUE(catalog_->LeaseJobs(1, kMicrosPerSecond, "w")->empty());
  clock_.Advance(backoff.base_micros);
  ASSERT_EQ(catalog_->LeaseJobs(1, kMicrosPerSecond, "w")->size(), 1u);
  ASSERT_OK(catalog_->FailJob(*id, Status::Unavailable("still down")));
  EXPECT_EQ(catalog_->ListJobs()->at(0).job.next_try_unix_micros(),
            clock_.NowMicros() + 2 * backoff.base_micros);

  // A non-retryable error gives up at once; enqueueing the same work revives it.
  clock_.Advance(2 * backoff.base_micros);
  ASSERT_EQ(catalog_->LeaseJobs(1, kMicrosPerSecond, "w")->size(), 1u);
  ASSERT_OK(catalog_->FailJob(*id, Status::Corruption("source copy is bad")));
  EXPECT_EQ(catalog_->CountJobs()->failed, 1u);
  EXPECT_TRUE(catalog_->LeaseJobs(1, kMicrosPerSecond, "w")->empty());
  EXPECT_EQ(*catalog_->EnqueueJob(Replicate("b1", "b")), *id);
  auto revived = catalog_->ListJobs();
  EXPECT_EQ(revived->at(0).state, "queued");
  EXPECT_EQ(revived->at(0).job.attempts(), 0u);
}

TEST_F(CatalogTest, ExpiredLeaseIsTakenOverAndQueueSurvivesReopen) {
  ASSERT_OK(catalog_->EnqueueJob(Replicate("b1", "b")));
  proto::Job repair = Replicate("b9", "c");
  repair.set_kind(proto::JOB_KIND_REPAIR);
  repair.set_object("other");
  ASSERT_OK(catalog_->EnqueueJob(repair));
  JobFilter only_o;
  only_o.object = "o";
  ASSERT_EQ(catalog_->LeaseJobs(10, 10 * kMicrosPerSecond, "crashed", only_o)->size(), 1u);
  catalog_.reset();  // the worker dies holding the lease

  CatalogOptions options;
  options.clock = &clock_;
  auto reopened = Catalog::Open(path(), options);
  ASSERT_OK(reopened);
  catalog_ = std::move(reopened).value();
  JobFilter replicate;
  replicate.kind = proto::JOB_KIND_REPLICATE;
  EXPECT_TRUE(catalog_->LeaseJobs(10, kMicrosPerSecond, "w", replicate)->empty());
  clock_.Advance(10 * kMicrosPerSecond);
  auto taken = catalog_->LeaseJobs(10, kMicrosPerSecond, "w", replicate);
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].lease_owner, "w");
  JobFilter repairs;
  repairs.kind = proto::JOB_KIND_REPAIR;
  EXPECT_EQ(catalog_->CountJobs(repairs)->queued, 1u);
}

}  // namespace
}  // namespace cairn::repo
