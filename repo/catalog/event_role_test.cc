// The `role` of an event (issue 17) in the hash chain: an event without one hashes exactly as
// the version-1 serialization always did (old logs still verify), and one with a role is
// covered by its hash (an edited role is detected).
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/event_chain.h"
#include "repo/events/event_types.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;
using ::testing::HasSubstr;

proto::Event Sample() {
  proto::Event e;
  e.set_seq(3);
  e.set_id("0190a3b2-0000-7000-8000-000000000001");
  e.set_type("ingestion");
  e.set_time_unix_micros(1'700'000'000'000'000);
  e.set_user("local:archivist");
  e.set_partner("yale");
  e.set_object("maps");
  e.set_version(1);
  e.set_outcome("success");
  e.set_prev_hash(GenesisHash());
  return e;
}

TEST(EventRole, AnEventWithoutRoleHasTheVersion1Bytes) {
  proto::Event e = Sample();
  const std::string bytes = CanonicalEventBytes(e);
  // Version 1 ends with the length-prefixed prev_hash: nothing after it.
  EXPECT_EQ(bytes.substr(bytes.size() - 40), std::string("\0\0\0\0\0\0\0\x20", 8) + GenesisHash());
  e.set_role("operator");
  const std::string with_role = CanonicalEventBytes(e);
  EXPECT_EQ(with_role.substr(0, bytes.size()), bytes);
  EXPECT_EQ(with_role.substr(bytes.size()), std::string("\0\0\0\0\0\0\0\x08", 8) + "operator");
  EXPECT_NE(EventHash(e), EventHash(Sample()));
}

TEST(EventRole, NewEventsNameTheOperatorRoleUnlessTold) {
  EXPECT_EQ(NewEvent(kIngestion, {.user = "local:root"}).role(), "operator");
  EXPECT_EQ(NewEvent(kIngestion, {.user = "alice@yale", .role = "depositor"}).role(), "depositor");
}

TEST_F(CatalogTest, OldEventsAndNewOnesVerifyAndAnEditedRoleIsCaught) {
  std::vector<proto::Event> old_events = {Sample(), Sample()};
  for (proto::Event& e : old_events) {  // as written before issue 17: no role
    e.clear_role();
    e.clear_id();
    e.clear_seq();
  }
  ASSERT_OK(catalog_->AppendEvents(old_events));
  std::vector<proto::Event> new_events = {
      NewEvent(kFixityCheck, {.user = "audit.bot", .role = "auditor", .outcome = "success"})};
  ASSERT_OK(catalog_->AppendEvents(new_events));
  auto verdict = catalog_->VerifyEvents();
  ASSERT_OK(verdict);
  EXPECT_TRUE(verdict->ok) << verdict->problem;

  auto events = catalog_->ListEvents({});
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].role(), "");
  proto::Event edited = (*events)[2];
  EXPECT_EQ(edited.role(), "auditor");
  edited.set_role("operator");
  auto stmt = CatalogTestAccess::Db(*catalog_).Prepare("UPDATE events SET event = ? WHERE seq = 3");
  ASSERT_OK(stmt);
  stmt->BindBlob(1, edited.SerializeAsString());
  ASSERT_OK(stmt->Run());
  auto after = catalog_->VerifyEvents();
  ASSERT_OK(after);
  EXPECT_FALSE(after->ok);
  EXPECT_EQ(after->first_bad_seq, 3u);
  EXPECT_THAT(after->problem, HasSubstr("edited"));
}

}  // namespace
}  // namespace cairn::repo
