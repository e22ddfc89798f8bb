// Site resync and ReconcileCopies on a real repository: deposits
// replicated to sites a and b, then site b lost in various ways.
#include "repo/recovery/resync.h"

#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "repo/catalog/catalog.h"
#include "repo/replicate/copies_queue.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/library_deposits.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::CheckBlobFiles;
using cairn::testing::DepositFolder;
using cairn::testing::ReadTree;
using cairn::testing::SampleFiles;
using cairn::testing::TempDir;
using cairn::testing::WriteTree;

class ResyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::Init((tmp_ / "repo").string());
    ASSERT_OK(repo);
    repo_ = std::move(repo).value();
    WriteTree(tmp_ / "src1", SampleFiles("one", 12, 2000));
    WriteTree(tmp_ / "src2", SampleFiles("two", 7, 100));
    ASSERT_EQ(DepositFolder(*repo_, "acme", "photos", tmp_ / "src1"), 1u);
    ASSERT_EQ(DepositFolder(*repo_, "zeta", "letters", tmp_ / "src2"), 1u);
    site_a_ = fs::path(repo_->root()) / "sites" / "a";
    site_b_ = fs::path(repo_->root()) / "sites" / "b";
    before_ = ReadTree(site_b_);
    ASSERT_GT(before_.size(), 20u);
  }

  // Every replica the catalog puts on `site` is ok.
  void ExpectAllOk(Repository& repo, const std::string& site) {
    for (auto [p, o] : {std::pair{"acme", "photos"}, {"zeta", "letters"}}) {
      auto v = repo.catalog().GetVersion(p, o, std::nullopt, false);
      ASSERT_OK(v);
      auto replicas = repo.catalog().ReplicasOf(v->id);
      ASSERT_OK(replicas);
      for (const ReplicaRecord& r : *replicas) {
        if (r.site == site) {
          EXPECT_EQ(r.state, ReplicaState::kOk) << r.sha256;
        }
      }
    }
  }

  TempDir tmp_;
  std::unique_ptr<Repository> repo_;
  fs::path site_a_, site_b_;
  std::map<std::string, std::string> before_;
};

TEST_F(ResyncTest, LostSiteFolderComesBackWholeAndVerified) {
  fs::remove_all(site_b_);
  auto repo = Repository::Open(repo_->root());
  ASSERT_OK(repo);
  // Never made again without being asked: an empty place may be an unmounted share.
  Status refused = ResyncSite(**repo, "b").status();
  EXPECT_TRUE(refused.IsUnavailable()) << refused.ToString();
  EXPECT_NE(refused.message().find("--init"), std::string::npos) << refused.message();
  EXPECT_FALSE(fs::exists(site_b_));
  ResyncOptions init;
  init.init_site = true;
  auto summary = ResyncSite(**repo, "b", init);
  ASSERT_OK(summary);
  EXPECT_TRUE(summary->complete()) << summary->ToText();
  EXPECT_TRUE(summary->initialised);
  EXPECT_EQ(summary->versions, 2u);
  EXPECT_EQ(summary->versions_repaired, 2u);
  EXPECT_GT(summary->copied, 20u);
  EXPECT_EQ(summary->failed, 0u);

  // Every blob, tag file and version.pb is back byte for byte; blobs hash to their names.
  std::map<std::string, std::string> after = ReadTree(site_b_);
  for (const auto& [rel, bytes] : before_) {
    if (rel.starts_with("events/") || rel == "CAIRN-SITE") continue;
    ASSERT_TRUE(after.count(rel)) << rel;
    EXPECT_EQ(after[rel], bytes) << rel;
  }
  EXPECT_EQ(CheckBlobFiles(site_b_), CheckBlobFiles(site_a_));
  ExpectAllOk(**repo, "b");
  // The event log is on b again, recovery events included.
  auto site = (*repo)->OpenSite("b");
  ASSERT_OK(site);
  auto head = (*repo)->catalog().GetEventHead();
  auto last = LastSeqOnSite(**site);
  ASSERT_OK(last);
  EXPECT_EQ(*last, head->seq);
  EventFilter recovery;
  recovery.type = "recovery";
  auto events = (*repo)->catalog().ListEvents(recovery);
  ASSERT_OK(events);
  EXPECT_EQ(events->size(), 2u);

  // A second run finds everything there: nothing copied, no new recovery event.
  auto again = ResyncSite(**repo, "b");
  ASSERT_OK(again);
  EXPECT_EQ(again->copied, 0u);
  EXPECT_EQ(again->present, summary->items_checked);
  auto events_after = (*repo)->catalog().ListEvents(recovery);
  EXPECT_EQ(events_after->size(), 2u);
}

TEST_F(ResyncTest, MissingAndTruncatedFilesAreReplacedOthersLeftAlone) {
  auto v = repo_->catalog().GetVersion("acme", "photos", 1, true);
  ASSERT_OK(v);
  fs::path gone = site_b_ / layout::BlobKey(v->files[0].sha256);
  fs::path cut = site_b_ / layout::BlobKey(v->files[1].sha256);
  fs::path tag = site_b_ / layout::TagFileKey("acme", "photos", 1, "bag-info.txt");
  fs::remove(gone);
  fs::resize_file(cut, 10);
  fs::remove(tag);
  auto summary = ResyncSite(*repo_, "b");
  ASSERT_OK(summary);
  EXPECT_TRUE(summary->complete()) << summary->ToText();
  EXPECT_FALSE(summary->initialised);
  EXPECT_EQ(summary->copied, 3u);
  EXPECT_EQ(summary->versions_repaired, 1u);
  std::map<std::string, std::string> after = ReadTree(site_b_);
  for (const auto& [rel, bytes] : before_) {
    if (rel.starts_with("events/")) continue;
    EXPECT_EQ(after[rel], bytes) << rel;
  }
}

TEST_F(ResyncTest, NoGoodCopyElsewhereLeavesTheJobQueued) {
  fs::remove_all(site_b_);
  auto v = repo_->catalog().GetVersion("zeta", "letters", 1, true);
  ASSERT_OK(v);
  fs::remove(site_a_ / layout::BlobKey(v->files[0].sha256));
  auto repo = Repository::Open(repo_->root());
  ResyncOptions init;
  init.init_site = true;
  auto summary = ResyncSite(**repo, "b", init);
  ASSERT_OK(summary);
  EXPECT_FALSE(summary->complete());
  EXPECT_EQ(summary->failed, 2u);  // the blob, then version.pb held back
  EXPECT_EQ(summary->jobs_left, 1u);
  EXPECT_FALSE(fs::exists(site_b_ / layout::VersionRecordKey("zeta", "letters", 1)));
  EXPECT_TRUE(fs::exists(site_b_ / layout::VersionRecordKey("acme", "photos", 1)));
  EXPECT_NE(summary->ToText().find("INCOMPLETE"), std::string::npos);
}

TEST_F(ResyncTest, UnknownSiteIsNotFound) {
  auto summary = ResyncSite(*repo_, "nowhere");
  EXPECT_FALSE(summary.ok());
  EXPECT_TRUE(summary.status().IsNotFound()) << summary.status().ToString();
}

TEST_F(ResyncTest, RaisingCopiesQueuesTheMissingOnesAndReplicateMakesThem) {
  fs::path c = tmp_ / "site-c";
  ASSERT_OK(repo_->AddSite("c", FileUrl(c.string()), ""));
  auto none = ReconcileCopies(repo_->catalog());
  ASSERT_OK(none);
  EXPECT_EQ(none->jobs_queued, 0u);  // copies: 2 on a and b: nothing missing
  EXPECT_EQ(none->versions_checked, 2u);

  PolicyRecord policy;
  policy.scope = std::string(kDefaultPolicyScope);
  policy.text = "copies: 3\n";
  ASSERT_OK(repo_->catalog().SetPolicy(policy));
  auto queued = ReconcileCopies(repo_->catalog());
  ASSERT_OK(queued);
  EXPECT_EQ(queued->jobs_queued, 2u);
  EXPECT_EQ(queued->versions_short, 2u);
  auto twice = ReconcileCopies(repo_->catalog());  // dedup: same jobs
  ASSERT_OK(twice);
  EXPECT_EQ(twice->jobs_queued, 0u);
  EXPECT_EQ(twice->copies_short, 2u);
  EXPECT_EQ(twice->short_by_site.at("c"), 2u);
  JobFilter to_c;
  to_c.target_site = "c";
  auto counts = repo_->catalog().CountJobs(to_c);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->queued, 2u);

  auto drained = DrainReplication(*repo_, ReplicationFilter{});
  ASSERT_OK(drained);
  EXPECT_EQ(drained->jobs_failed, 0u);
  ExpectAllOk(*repo_, "c");
  EXPECT_EQ(CheckBlobFiles(c), CheckBlobFiles(site_a_));
  auto after = ReconcileCopies(repo_->catalog());
  EXPECT_EQ(after->jobs_queued, 0u);
}

TEST_F(ResyncTest, ReconcileLeavesFailedJobsToTheDaemonAndSkipsCopiesOkNowhere) {
  fs::path c = tmp_ / "site-c";
  ASSERT_OK(repo_->AddSite("c", FileUrl(c.string()), ""));
  PolicyRecord policy;
  policy.scope = std::string(kDefaultPolicyScope);
  policy.text = "copies: 3\n";
  ASSERT_OK(repo_->catalog().SetPolicy(policy));
  auto queued = ReconcileCopies(repo_->catalog());
  ASSERT_OK(queued);
  ASSERT_EQ(queued->jobs_queued, 2u);
  // Both jobs fail for good (a site that refuses them).
  JobFilter to_c;
  to_c.target_site = "c";
  auto jobs = repo_->catalog().LeaseJobs(10, 60'000'000, "test", to_c);
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  for (const JobRecord& j : *jobs) {
    ASSERT_OK(repo_->catalog().FailJob(j.id, Status::InvalidArgument("refused")));
  }
  ReconcileOptions daemon;
  daemon.revive_failed = false;
  auto round = ReconcileCopies(repo_->catalog(), daemon);
  ASSERT_OK(round);
  EXPECT_EQ(round->copies_short, 2u);
  EXPECT_EQ(round->jobs_queued, 0u);
  EXPECT_EQ(repo_->catalog().CountJobs(to_c)->failed, 2u);
  auto operator_asks = ReconcileCopies(repo_->catalog());
  ASSERT_OK(operator_asks);
  EXPECT_EQ(operator_asks->jobs_queued, 2u);
  EXPECT_EQ(repo_->catalog().CountJobs(to_c)->queued, 2u);

  // A blob ok on no site cannot be copied: no job for it on a or b, which
  // hold everything else (the auditor's business, not a copy to queue).
  auto v = repo_->catalog().GetVersion("acme", "photos", 1, true);
  ASSERT_OK(v);
  const std::string sha = v->files.front().sha256;
  for (const char* site : {"a", "b"}) {
    ASSERT_TRUE(repo_->catalog()
                    .SetReplicaState(ReplicaRef::Blob(sha), site, ReplicaState::kMissing, -1, -1)
                    .ok());
  }
  auto damaged = ReconcileCopies(repo_->catalog());
  ASSERT_OK(damaged);
  EXPECT_EQ(damaged->short_by_site.count("a"), 0u);
  EXPECT_EQ(damaged->short_by_site.count("b"), 0u);
  EXPECT_EQ(damaged->short_by_site.at("c"), 2u);
}

}  // namespace
}  // namespace cairn::repo
