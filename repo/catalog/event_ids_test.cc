// Event ids (time-ordered UUID v7) and appending events inside a caller's
// transaction on another connection (the auditor's batches).
#include <gmock/gmock.h>

#include <array>
#include <set>

#include "repo/catalog/catalog.h"
#include "repo/catalog/event_chain.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using ::testing::HasSubstr;

constexpr std::array<unsigned char, 8> kRandom = {0xff, 1, 2, 3, 4, 5, 6, 7};

// The 48-bit millisecond time at the front of a v7 UUID.
uint64_t MillisOf(const std::string& uuid) {
  return std::stoull(uuid.substr(0, 8) + uuid.substr(9, 4), nullptr, 16);
}

TEST(UuidV7Test, LayoutFollowsRfc9562) {
  // 1700000000123456 us: 1700000000123 ms = 0x018bcfe5687b; 456 us of the
  // millisecond = 1867/4096 = 0x74b; variant bits 10 over 0xff -> 0xbf.
  EXPECT_EQ(UuidV7(1700000000123456, kRandom), "018bcfe5-687b-774b-bf01-020304050607");
  EXPECT_EQ(UuidV7(-5, kRandom), "00000000-0000-7000-bf01-020304050607");
}

TEST(UuidV7Test, LaterTimesSortLater) {
  std::string previous;
  for (int64_t micros = 1700000000000000; micros < 1700000000003000; micros += 7) {
    std::string id = UuidV7(micros, kRandom);
    EXPECT_LT(previous, id) << micros;
    previous = id;
  }
}

class EventIdsTest : public testing::CatalogTest {
 protected:
  static std::vector<proto::Event> Checks(int n) {
    std::vector<proto::Event> events(n);
    for (int i = 0; i < n; ++i) {
      events[i].set_type("fixity check");
      events[i].set_partner("p1");
      events[i].set_object("o" + std::to_string(i));
    }
    return events;
  }
  // A second connection to the same catalog file, as the auditor opens.
  sql::Db OtherConnection() {
    auto db = sql::Db::Open(path(), false, 30'000);
    EXPECT_OK(db);
    return std::move(db).value();
  }
};

TEST_F(EventIdsTest, AppendedEventsGetUniqueV7IdsOfTheirTime) {
  std::vector<proto::Event> events = Checks(2000);
  ASSERT_EQ(*catalog_->AppendEvents(events), 2000u);
  std::set<std::string> ids;
  for (const proto::Event& e : events) {
    ASSERT_EQ(e.id().size(), 36u);
    EXPECT_EQ(e.id()[14], '7') << e.id();                                // version
    EXPECT_NE(std::string("89ab").find(e.id()[19]), std::string::npos);  // variant
    EXPECT_EQ(MillisOf(e.id()), static_cast<uint64_t>(e.time_unix_micros()) / 1000);
    ids.insert(e.id());
  }
  EXPECT_EQ(ids.size(), 2000u);
}

TEST_F(EventIdsTest, InTransactionRefusedOutsideOne) {
  sql::Db db = OtherConnection();
  std::vector<proto::Event> events = Checks(1);
  Result<uint64_t> appended = AppendEventsInTransaction(db, clock_.NowMicros(), events);
  ASSERT_FALSE(appended.ok());
  EXPECT_THAT(appended.status().message(), HasSubstr("not inside a write transaction"));
  EXPECT_EQ(catalog_->GetEventHead()->seq, 0u);
}

TEST_F(EventIdsTest, InTransactionCommitsOrRollsBackWithTheCallersRows) {
  std::vector<proto::Event> first = Checks(3);
  ASSERT_EQ(*catalog_->AppendEvents(first), 3u);
  sql::Db db = OtherConnection();
  {
    auto tx = sql::Transaction::Begin(db);
    ASSERT_OK(tx);
    std::vector<proto::Event> lost = Checks(5);
    ASSERT_EQ(*AppendEventsInTransaction(db, clock_.NowMicros(), lost), 8u);
    // Destroyed without Commit: rolled back.
  }
  EXPECT_EQ(catalog_->GetEventHead()->seq, 3u);
  {
    auto tx = sql::Transaction::Begin(db);
    ASSERT_OK(tx);
    std::vector<proto::Event> kept = Checks(4);
    ASSERT_EQ(*AppendEventsInTransaction(db, clock_.NowMicros(), kept), 7u);
    EXPECT_EQ(kept[0].prev_hash(), first[2].hash());
    ASSERT_OK(tx->Commit());
  }
  std::vector<proto::Event> after = Checks(1);
  ASSERT_EQ(*catalog_->AppendEvents(after), 8u);
  auto v = catalog_->VerifyEvents();
  ASSERT_OK(v);
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->checked, 8u);
}

}  // namespace
}  // namespace cairn::repo
