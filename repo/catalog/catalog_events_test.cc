// The hash-chained event log: appends, queries, and `verify` naming the first
// edited, removed or reordered row (tampered with through raw SQL).
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using ::testing::HasSubstr;

class EventLogTest : public testing::CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    std::vector<proto::Event> events;
    for (int i = 1; i <= 6; ++i) {
      proto::Event e;
      e.set_type(i % 2 ? "ingestion" : "fixity check");
      e.set_partner(i <= 3 ? "p1" : "p2");
      e.set_object("o" + std::to_string(i));
      e.set_detail("event " + std::to_string(i));
      events.push_back(e);
      clock_.Advance(kMicrosPerSecond);
      if (i % 3 == 0) {  // two appends of three
        ASSERT_EQ(*catalog_->AppendEvents(events), static_cast<uint64_t>(i));
        events.clear();
      }
    }
  }
  void Sql(const std::string& sql) { ASSERT_OK(CatalogTestAccess::Db(*catalog_).Exec(sql)) << sql; }
  ChainVerdict Verify() {
    auto v = catalog_->VerifyEvents();
    EXPECT_OK(v);
    return v.ok() ? *v : ChainVerdict{};
  }
};

TEST_F(EventLogTest, AppendsChainAndQueries) {
  auto all = catalog_->ListEvents({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].prev_hash(), GenesisHash());
  for (size_t i = 1; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].seq(), i + 1);
    EXPECT_EQ((*all)[i].prev_hash(), (*all)[i - 1].hash());
    EXPECT_EQ((*all)[i].id().size(), 36u);
    EXPECT_NE((*all)[i].id(), (*all)[i - 1].id());
  }
  EXPECT_EQ((*all)[0].outcome(), "success");
  EventFilter f;
  f.partner = "p2";
  f.type = "fixity check";
  auto some = catalog_->ListEvents(f);
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ(some->at(0).seq(), 4u);
  EventFilter after;
  after.after_seq = 4;
  after.limit = 1;
  EXPECT_EQ(catalog_->ListEvents(after)->at(0).seq(), 5u);
  auto head = catalog_->GetEventHead();
  EXPECT_EQ(head->seq, 6u);
  EXPECT_EQ(head->hash, all->back().hash());

  ChainVerdict v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.checked, 6u);
  EXPECT_EQ(v.head.seq, 6u);
}

TEST_F(EventLogTest, EditedColumnNamed) {
  Sql("UPDATE events SET outcome = 'failure' WHERE seq = 3");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 3u);
  EXPECT_THAT(v.problem, HasSubstr("outcome"));
  EXPECT_EQ(v.head.seq, 2u);
}

TEST_F(EventLogTest, EditedRecordDetected) {
  // Rewrite event 4's record with a new detail, consistently in every column.
  auto events = catalog_->ListEvents({});
  proto::Event e = events->at(3);
  e.set_detail("nothing to see");
  auto stmt = CatalogTestAccess::Db(*catalog_).Prepare("UPDATE events SET event = ? WHERE seq = 4");
  ASSERT_OK(stmt);
  stmt->BindBlob(1, e.SerializeAsString());
  ASSERT_OK(stmt->Run());
  ChainVerdict v = Verify();
  EXPECT_EQ(v.first_bad_seq, 4u);
  EXPECT_THAT(v.problem, HasSubstr("edited"));

  // Re-hashing the edited event does not help: event 5 no longer links to it.
  e.set_hash(EventHash(e));
  stmt->Reset();
  stmt->BindBlob(1, e.SerializeAsString());
  ASSERT_OK(stmt->Run());
  auto fix_hash =
      CatalogTestAccess::Db(*catalog_).Prepare("UPDATE events SET hash = ? WHERE seq = 4");
  fix_hash->BindBlob(1, e.hash());
  ASSERT_OK(fix_hash->Run());
  v = Verify();
  EXPECT_EQ(v.first_bad_seq, 5u);
  EXPECT_THAT(v.problem, HasSubstr("prev_hash"));
}

TEST_F(EventLogTest, RemovedRowNamed) {
  Sql("DELETE FROM events WHERE seq = 2");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2u);
  EXPECT_THAT(v.problem, HasSubstr("missing"));
}

TEST_F(EventLogTest, RemovedAndRenumberedDetected) {
  Sql("DELETE FROM events WHERE seq = 2");
  Sql("UPDATE events SET seq = seq - 1 WHERE seq > 2");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2u);
}

TEST_F(EventLogTest, ReorderedRowsNamed) {
  // Swap events 4 and 5 (every column but seq).
  Sql("UPDATE events SET seq = -4 WHERE seq = 4");
  Sql("UPDATE events SET seq = 4 WHERE seq = 5");
  Sql("UPDATE events SET seq = 5 WHERE seq = -4");
  ChainVerdict v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 4u);
  EXPECT_THAT(v.problem, HasSubstr("moved"));
}

TEST_F(EventLogTest, AppendAfterReopenContinuesChain) {
  catalog_.reset();
  auto again = Catalog::Open(path());
  ASSERT_OK(again);
  std::vector<proto::Event> more(1);
  more[0].set_type("replication");
  ASSERT_EQ(*(*again)->AppendEvents(more), 7u);
  auto v = (*again)->VerifyEvents();
  ASSERT_OK(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->checked, 7u);
}

}  // namespace
}  // namespace cairn::repo
