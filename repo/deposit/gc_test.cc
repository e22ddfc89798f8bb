// CollectGarbage (cairn gc): blobs no version references are removed after the
// grace period, under the exclusive writers' lock, with a deletion event; a
// refused deposit leaves its new blobs to gc when another writer is in flight.
#include "repo/deposit/gc.h"

#include <gtest/gtest.h>

#include "proto/version.pb.h"
#include "repo/events/event_types.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositTest;
using cairn::testing::WriteFile;

class GcTest : public DepositTest {
 protected:
  static std::string ShaOf(const std::string& bytes) {
    return bagit::HashBytes(bytes,
                            bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  }

  // A bag refused for its second file's checksum, deposited while another
  // writer holds the writers' lock: its first file's blob stays on site a.
  std::string LeaveRefusedBlob(const std::string& name) {
    const std::string bytes = "left behind by " + name + "\n";
    fs::path bag = dir_ / ("src/" + name);
    MakeBag(bag, {{"data/a.txt", bytes}, {"data/z.txt", "right\n"}}, bagit::Algorithm::kSha256);
    WriteFile(bag / "data/z.txt", "wrong\n");
    Result<std::unique_ptr<Repository::WriterLock>> other = repo_->LockForWriting();
    EXPECT_OK(other);
    DepositOutcome out = Run("acme", bag.string());
    EXPECT_TRUE(out.refused);
    const std::string sha = ShaOf(bytes);
    EXPECT_TRUE(fs::exists(SitePath("a") / layout::BlobKey(sha)));
    return sha;
  }

  GcReport Collect(int64_t grace_micros, bool dry_run) {
    GcOptions options;
    options.grace_micros = grace_micros;
    options.dry_run = dry_run;
    Result<GcReport> report = CollectGarbage(*repo_, options);
    EXPECT_OK(report);
    return report.ok() ? *report : GcReport{};
  }

  size_t DeletionEvents() {
    EventFilter filter;
    filter.type = std::string(kDeletion.label);
    Result<std::vector<proto::Event>> events = repo_->catalog().ListEvents(filter);
    EXPECT_OK(events);
    return events.ok() ? events->size() : 0;
  }
};

TEST_F(GcTest, RefusedDepositAloneRemovesItsBlobsAtOnce) {
  fs::path bag = dir_ / "src/alone";
  MakeBag(bag, {{"data/a.txt", "alone\n"}, {"data/z.txt", "right\n"}}, bagit::Algorithm::kSha256);
  WriteFile(bag / "data/z.txt", "wrong\n");
  DepositOutcome out = Run("acme", bag.string());
  EXPECT_TRUE(out.refused);
  ExpectNothingStored("acme", "alone");
}

TEST_F(GcTest, UnreferencedBlobIsRemovedOnlyAfterTheGracePeriod) {
  WriteFile(dir_ / "src/kept/k.txt", "kept: a version holds it\n");
  ASSERT_TRUE(Run("acme", (dir_ / "src/kept").string()).receipt);
  const std::string sha = LeaveRefusedBlob("refused");
  const fs::path blob = SitePath("a") / layout::BlobKey(sha);

  // First sight: recorded, kept (a dry run records nothing).
  GcReport dry = Collect(kDefaultGcGraceMicros, true);
  EXPECT_TRUE(dry.removed.empty());
  ASSERT_EQ(dry.waiting.size(), 1u);
  GcReport first = Collect(kDefaultGcGraceMicros, false);
  EXPECT_TRUE(first.removed.empty());
  ASSERT_EQ(first.waiting.size(), 1u);
  EXPECT_EQ(first.waiting[0].sha256, sha);
  EXPECT_EQ(first.waiting[0].site, "a");
  EXPECT_TRUE(fs::exists(blob));

  // A day later: a dry run names it and leaves it; a real run removes it.
  clock_.Advance(kDefaultGcGraceMicros);
  GcReport would = Collect(kDefaultGcGraceMicros, true);
  ASSERT_EQ(would.removed.size(), 1u);
  EXPECT_EQ(would.removed[0].sha256, sha);
  EXPECT_TRUE(fs::exists(blob));
  EXPECT_EQ(DeletionEvents(), 0u);
  GcReport done = Collect(kDefaultGcGraceMicros, false);
  ASSERT_EQ(done.removed.size(), 1u);
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_EQ(DeletionEvents(), 1u);
  EXPECT_TRUE(done.errors.empty()) << done.errors.front();
  // The accepted deposit's blobs are all still there and verify.
  EXPECT_EQ(VerifiedBlobs("a"), 1u);
  EXPECT_EQ(VerifiedBlobs("b"), 1u);
  EXPECT_TRUE(Collect(0, false).removed.empty());
}

TEST_F(GcTest, BlobsOfAVersionRecordTheCatalogForgotAreKept) {
  const std::string sha = LeaveRefusedBlob("forgotten");
  // A version record on site a that the catalog does not list names the blob.
  proto::VersionRecord record;
  record.set_partner("acme");
  record.set_object("ghost");
  record.set_version(1);
  proto::VersionFile* f = record.add_files();
  f->set_path("data/a.txt");
  f->set_sha256(sha);
  WriteFile(SitePath("a") / layout::VersionRecordKey("acme", "ghost", 1),
            record.SerializeAsString());

  GcReport report = Collect(0, false);
  EXPECT_TRUE(report.removed.empty());
  ASSERT_EQ(report.unknown_versions.size(), 1u);
  EXPECT_NE(report.unknown_versions[0].find("bags/acme/ghost/v1/version.pb"), std::string::npos);
  EXPECT_TRUE(fs::exists(SitePath("a") / layout::BlobKey(sha)));
}

TEST_F(GcTest, WaitsForWritersInFlightAndGivesUpNamingTheLock) {
  Result<std::unique_ptr<Repository::WriterLock>> writer = repo_->LockForWriting();
  ASSERT_OK(writer);
  GcOptions options;
  options.lock_timeout_ms = 200;
  Result<GcReport> report = CollectGarbage(*repo_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.status().IsUnavailable()) << report.status().ToString();
  EXPECT_NE(report.status().message().find("writers.lock"), std::string::npos);
  writer->reset();
  EXPECT_OK(CollectGarbage(*repo_, options));
}

}  // namespace
}  // namespace cairn::repo
