// A bucket sweep's pick (Catalog::Reader::PickAuditCopies with a digest
// range): exactly the copies in the range, read through the digest index, not
// by visiting every replica row (issue 19: picking took 26.6% of a 1/100
// sweep at 10,000,000 files when it scanned them all).
#include <gmock/gmock.h>

#include <set>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_audit.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;

class AuditPickTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    AddSitesAndPartners();
    // 4 versions of 500 files on sites a and b: 4,000 blob copies, 16 tag file copies.
    for (uint32_t n = 0; n < 4; ++n) {
      std::vector<std::string> contents;
      for (int i = 0; i < 500; ++i) contents.push_back("file " + std::to_string(n * 1000 + i));
      NewVersion v = MakeVersion("p1", "obj" + std::to_string(n), 1, contents);
      v.stored_on = {"a", "b"};
      ASSERT_OK(catalog_->InsertVersion(v));
    }
    auto reader = catalog_->OpenReader(0);
    ASSERT_OK(reader);
    reader_ = std::move(reader).value();
  }

  // Replica ids and digests of a pick.
  std::map<int64_t, std::string> Pick(const AuditPick& pick) {
    auto picked = reader_->PickAuditCopies(pick);
    EXPECT_OK(picked);
    std::map<int64_t, std::string> ids;
    if (picked.ok()) {
      for (const AuditCopy& c : *picked) ids[c.replica_id] = c.sha256;
    }
    return ids;
  }

  static bool InRange(const std::string& digest, const std::string& low, const std::string& high) {
    return digest >= low && (high.empty() || digest < high);
  }

  std::unique_ptr<Catalog::Reader> reader_;
};

TEST_F(AuditPickTest, ARangeReadsOnlyItsCopiesThroughTheIndex) {
  AuditPick all;
  all.due_only = false;
  const std::map<int64_t, std::string> everything = Pick(all);
  ASSERT_EQ(everything.size(), 4000u + 16u);
  const int64_t all_steps = reader_->last_pick_steps();
  EXPECT_GT(all_steps, 4000);

  const std::vector<std::pair<std::string, std::string>> ranges = {
      {"", "4000000000000000"},
      {"4000000000000000", "8000000000000000"},
      {"a3d70a3d70a3d70b", "a5e353f7ced91688"},  // 1/100 of the digests
      {"c000000000000000", ""}};
  size_t covered = 0;
  for (const auto& [low, high] : ranges) {
    AuditPick pick = all;
    pick.digest_low = low;
    pick.digest_high = high;
    const std::map<int64_t, std::string> got = Pick(pick);
    // A quarter of the digests costs well under half the steps of them all,
    // the hundredth under a twentieth: the rows outside were not visited.
    const int64_t steps = reader_->last_pick_steps();
    if (low.starts_with("a3d7")) {
      EXPECT_LT(steps, all_steps / 20) << low << ".." << high;
    } else {
      EXPECT_LT(steps, all_steps / 2) << low << ".." << high;
    }
    std::map<int64_t, std::string> want;
    for (const auto& [id, digest] : everything) {
      if (InRange(digest, low, high)) want[id] = digest;
    }
    EXPECT_EQ(got, want) << low << ".." << high;
    covered += got.size();
  }
  // The quarters and the hundredth hold about their share of the 4,016 copies.
  EXPECT_GT(covered, 2800u);
  EXPECT_LT(covered, 3300u);
}

TEST_F(AuditPickTest, ARangeKeepsTheSiteAndDueScope) {
  // Copies on a due later than now, those on b due now.
  ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec(
      "UPDATE replicas SET next_due = CASE site_id WHEN (SELECT id FROM sites WHERE name = 'a') "
      "THEN 9000000000000000 ELSE 0 END"));
  AuditPick pick;
  pick.due_only = true;
  pick.now_micros = 1;
  AuditPick of_b = pick;
  of_b.site = "b";
  const size_t all_of_b = Pick(of_b).size();
  ASSERT_EQ(all_of_b, 2000u + 8u);
  const int64_t all_steps = reader_->last_pick_steps();

  pick.digest_low = "a3d70a3d70a3d70b";
  pick.digest_high = "a5e353f7ced91688";
  const std::map<int64_t, std::string> due = Pick(pick);
  ASSERT_FALSE(due.empty());
  pick.site = "a";
  EXPECT_TRUE(Pick(pick).empty());
  pick.site = "b";
  EXPECT_EQ(Pick(pick), due);
  // Read through the digest index even with a site named (SQLite would
  // otherwise start from the site and read all its rows through replicas_due).
  EXPECT_LT(reader_->last_pick_steps(), all_steps / 20);
  for (const auto& [id, digest] : due) {
    EXPECT_TRUE(InRange(digest, "a3d70a3d70a3d70b", "a5e353f7ced91688")) << digest;
  }
}

}  // namespace
}  // namespace cairn::repo
