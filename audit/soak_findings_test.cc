// Bugs the corruption soak (tests/hostile/soak_test.cc) found in the auditor
// and the daemon, each pinned by a test here:
// - a repair source that is down was re-read (with full storage retries,
//   ~2 s on S3) for every repair of a sweep, not once;
// - a bad copy met on another site while repairing had no PREMIS event;
// - every repair job ran its own sweep of the whole object on its site, so a
//   restore that met 54 bad copies of one object cost 54 sweeps of it.
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_util.h"
#include "audit/daemon.h"
#include "repo/catalog/catalog.h"
#include "repo/storage/fault_backend.h"
#include "repo/storage/retry_backend.h"
#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

const std::string kFiles[] = {"the first file\n", "the second file, a little longer\n",
                              std::string(10000, 'x')};

class RepairDownSiteTest : public AuditTest {
 protected:
  void TearDown() override {
    repo_.reset();
    repo::SetBackendWrapperForTesting({});
    AuditTest::TearDown();
  }
};

TEST_F(RepairDownSiteTest, ASourceSiteDownIsReadOncePerSweep) {
  repo::FaultBackend* c = nullptr;
  repo::SetBackendWrapperForTesting(
      [&](std::string_view url,
          std::unique_ptr<repo::StorageBackend> inner) -> std::unique_ptr<repo::StorageBackend> {
        if (url.substr(url.size() - 2) != "/c") return inner;
        auto fault = std::make_unique<repo::FaultBackend>(std::move(inner));
        c = fault.get();
        return fault;
      });
  Reopen();
  ASSERT_OK(repo_->OpenSite("c"));
  ASSERT_NE(c, nullptr);
  // Every file bad on a and b: the only good copies are on c, which is down.
  for (const std::string& content : kFiles) {
    cairn::testing::WriteFile(BlobPath("a", content), "bad on a");
    fs::remove(BlobPath("b", content));
  }
  c->AddRule(
      repo::FaultRule::Fail(repo::FaultPoint::kRead, Status::Unavailable("c is down")).Times(-1));

  AuditOptions options = Options();
  options.scope.site = "a";
  // Reads of c by the repairs only: not the read of c's event log by the
  // flush that ends a run.
  options.flush_events = false;
  auto report = RunAudit(*repo_, options);
  ASSERT_OK(report);
  EXPECT_EQ(report->corrupt, 3u);
  EXPECT_EQ(report->repaired, 0u);
  EXPECT_EQ(report->damaged, 0u) << "c is down, not empty: retried later";
  // The retry wrapper stacked on every site (above this fault layer, as in
  // production) tries each read of c max_attempts times: count logical reads.
  const int attempts = repo::RetryPolicy().max_attempts;
  EXPECT_EQ(c->injected() % attempts, 0) << "each read of c is retried in full, then given up";
  const int reads = c->injected() / attempts;
  // Repairs run in parallel: two may try c before either marks it down (seen
  // under ASan's slower timing), but never one read per repair (3).
  EXPECT_GE(reads, 1);
  EXPECT_LE(reads, 2) << "c was read again for every repair";
  size_t skipped = 0;
  for (const Finding& f : report->findings) {
    if (f.detail.find("site c: could not be read earlier in this sweep") != std::string::npos) {
      ++skipped;
    }
  }
  EXPECT_EQ(skipped + static_cast<size_t>(reads), 3u);

  // c is back: the next sweep repairs all three from it.
  c->ClearRules();
  auto healed = RunAudit(*repo_, options);
  ASSERT_OK(healed);
  EXPECT_EQ(healed->repaired, 3u);
  for (const std::string& content : kFiles) {
    EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", content)), content);
  }
}

// A bad copy met on another site while repairing, outside the sweep's scope,
// is a finding of this sweep: it is a PREMIS fixity-check failure too.
TEST_F(AuditTest, BadSourceMetWhileRepairingIsAnEvent) {
  fs::remove(BlobPath("a", kFiles[1]));
  cairn::testing::WriteFile(BlobPath("b", kFiles[1]), "not the second file\n");
  cairn::testing::WriteFile(BlobPath("c", kFiles[1]), "not it either\n");
  uint64_t head = Head();
  AuditOptions options = Options();
  options.scope.site = "a";
  auto report = RunAudit(*repo_, options);
  ASSERT_OK(report);
  EXPECT_EQ(report->missing, 1u);
  EXPECT_EQ(report->corrupt, 2u);  // b's and c's copies, met while repairing a's
  EXPECT_EQ(report->damaged, 1u);
  std::set<std::string> sites;
  for (const proto::Event& e : Events("fixity check", "failure", head)) {
    if (e.file() == "data/two.txt") sites.insert(e.site());
  }
  EXPECT_EQ(sites, (std::set<std::string>{"a", "b", "c"}))
      << "a corrupt copy met while repairing is a finding without an event";
}

// Jobs for the same site and object share one sweep: queued ones too.
TEST_F(AuditTest, RepairJobsOfOneObjectAndSiteShareOneSweep) {
  cairn::testing::WriteFile(BlobPath("a", kFiles[0]), "bad on a");
  for (const std::string& content : kFiles) {  // as a restore queues them: one per copy
    proto::Job job;
    job.set_kind(proto::JOB_KIND_REPAIR);
    job.set_partner("acme");
    job.set_object("maps");
    job.set_version(1);
    job.set_blob(Sha(content));
    job.set_target_site("a");
    ASSERT_OK(repo_->catalog().EnqueueJob(job));
  }
  proto::Job other;  // another site: a sweep of its own
  other.set_kind(proto::JOB_KIND_REPAIR);
  other.set_partner("acme");
  other.set_object("maps");
  other.set_version(1);
  other.set_target_site("b");
  ASSERT_OK(repo_->catalog().EnqueueJob(other));
  DaemonOptions options;
  options.user = "tester";
  options.owner = "soak-findings-test";
  auto summary = DrainRepairs(*repo_, options);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->jobs_done, 4u);
  EXPECT_EQ(summary->jobs_retry, 0u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM jobs WHERE kind = 'JOB_KIND_REPAIR'"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs WHERE schedule LIKE 'repair job %'"), 2)
      << "one sweep per site and object";
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", kFiles[0])), kFiles[0]);
}

}  // namespace
}  // namespace cairn::audit
