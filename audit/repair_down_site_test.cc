// A repair source that is down is tried once per sweep, not once per repair
// (found by the corruption soak, tests/hostile/soak_test.cc: with the S3 site
// offline every repair waited out the S3 retries again, about 2 s each).
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit/audit_test_util.h"
#include "repo/storage/fault_backend.h"

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
  ASSERT_TRUE(repo_->OpenSite("c").ok());
  ASSERT_NE(c, nullptr);
  // Every file bad on a and b: the only good copies are on c, which is down.
  for (const std::string& content : kFiles) {
    testing::WriteFile(BlobPath("a", content), "bad on a");
    fs::remove(BlobPath("b", content));
  }
  c->AddRule(
      repo::FaultRule::Fail(repo::FaultPoint::kRead, Status::Unavailable("c is down")).Times(-1));

  AuditOptions options = Options();
  options.scope.site = "a";
  auto report = RunAudit(*repo_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->corrupt, 3u);
  EXPECT_EQ(report->repaired, 0u);
  EXPECT_EQ(report->damaged, 0u) << "c is down, not empty: retried later";
  EXPECT_EQ(c->injected(), 1) << "c was read again for every repair";
  size_t skipped = 0;
  for (const Finding& f : report->findings) {
    if (f.detail.find("site c: could not be read earlier in this sweep") != std::string::npos) {
      ++skipped;
    }
  }
  EXPECT_EQ(skipped, 2u);

  // c is back: the next sweep repairs all three from it.
  c->ClearRules();
  auto healed = RunAudit(*repo_, options);
  ASSERT_TRUE(healed.ok()) << healed.status().ToString();
  EXPECT_EQ(healed->repaired, 3u);
  for (const std::string& content : kFiles) {
    EXPECT_EQ(testing::ReadFile(BlobPath("a", content)), content);
  }
}

// A bad copy met on another site while repairing, outside the sweep's scope,
// is a finding of this sweep: it is a PREMIS fixity-check failure too.
TEST_F(AuditTest, BadSourceMetWhileRepairingIsAnEvent) {
  fs::remove(BlobPath("a", kFiles[1]));
  testing::WriteFile(BlobPath("b", kFiles[1]), "not the second file\n");
  uint64_t head = Head();
  AuditOptions options = Options();
  options.scope.site = "a";
  auto report = RunAudit(*repo_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->missing, 1u);
  EXPECT_EQ(report->corrupt, 1u);   // b's copy, met while repairing a's
  EXPECT_EQ(report->repaired, 1u);  // from c
  bool b_event = false;
  for (const proto::Event& e : Events("fixity check", "failure", head)) {
    if (e.site() == "b" && e.file() == "data/two.txt") b_event = true;
  }
  EXPECT_TRUE(b_event) << "the corrupt copy on b is a finding without an event";
}

}  // namespace
}  // namespace cairn::audit
