// The withdrawals, purge_keys and holds tables (migration 8) on a real SQLite file: the
// compare-and-set of states, the purge's first step (shared blobs kept, usage moved, keys
// recorded), version numbers never reused, and a catalog of schema 7 migrated with its rows.
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;
using ::testing::HasSubstr;

WithdrawalRecord Request(const std::string& partner, const std::string& object, uint32_t version,
                         bool purge) {
  WithdrawalRecord w;
  w.partner = partner;
  w.object = object;
  w.version = version;
  w.reason = "consent withdrawn";
  w.purge = purge;
  w.requested_by = "ann@" + partner;
  w.requested_role = "partner-admin";
  return w;
}

TEST_F(CatalogTest, WithdrawalStatesAreComparedAndSet) {
  AddSitesAndPartners();
  auto id = catalog_->AddWithdrawal(Request("p1", "o", 1, false));
  ASSERT_OK(id);
  auto dup = catalog_->AddWithdrawal(Request("p1", "o", 1, true));
  EXPECT_TRUE(dup.status().IsAlreadyExists()) << dup.status().ToString();
  auto w = catalog_->GetWithdrawal(*id);
  ASSERT_OK(w);
  EXPECT_EQ(w->state, WithdrawalState::kRequested);
  EXPECT_EQ(w->requested_micros, clock_.NowMicros());
  // Approval by the requester is refused by the table itself, whoever asks.
  w->state = WithdrawalState::kWithdrawn;
  w->approved_by = w->requested_by;
  w->approved_micros = 5;
  EXPECT_FALSE(catalog_->UpdateWithdrawal(*w, WithdrawalState::kRequested).ok());
  w->approved_by = "op";
  ASSERT_OK(catalog_->UpdateWithdrawal(*w, WithdrawalState::kRequested));
  // A second approver racing the first finds it no longer requested.
  Status again = catalog_->UpdateWithdrawal(*w, WithdrawalState::kRequested);
  EXPECT_THAT(again.message(), HasSubstr("is withdrawn, not requested"));
  auto of = catalog_->WithdrawalOf("p1", "o", 1);
  ASSERT_OK(of);
  ASSERT_TRUE(of->has_value());
  EXPECT_EQ((*of)->approved_by, "op");
  EXPECT_FALSE(catalog_->WithdrawalOf("p1", "o", 2)->has_value());
  EXPECT_TRUE(catalog_->GetWithdrawal(99).status().IsNotFound());
}

TEST_F(CatalogTest, PurgeKeepsSharedBlobsAndMovesUsage) {
  AddSitesAndPartners();
  NewVersion mine = MakeVersion("p1", "o", 1, {"shared", "only-p1"});
  mine.stored_on = {"a", "b"};
  ASSERT_OK(catalog_->InsertVersion(mine));
  NewVersion theirs = MakeVersion("p2", "x", 1, {"shared"});
  theirs.stored_on = {"a", "b"};
  ASSERT_OK(catalog_->InsertVersion(theirs));
  auto before = catalog_->GetUsage();
  ASSERT_OK(before);
  // Copies still queued: of the purged version (they go with it) and of another object's.
  for (const auto& [partner, object] : {std::pair{"p1", "o"}, std::pair{"p2", "x"}}) {
    for (proto::JobKind kind : {proto::JOB_KIND_REPLICATE, proto::JOB_KIND_VERIFY}) {
      proto::Job job;
      job.set_kind(kind);
      job.set_partner(partner);
      job.set_object(object);
      job.set_version(1);
      job.set_source_site("a");
      job.set_target_site("c");
      ASSERT_OK(catalog_->EnqueueJob(job));
    }
  }
  auto id = catalog_->AddWithdrawal(Request("p1", "o", 1, true));
  ASSERT_OK(id);
  auto w = catalog_->GetWithdrawal(*id);
  ASSERT_OK(w);
  EXPECT_FALSE(catalog_->BeginPurge(*id).ok()) << "not approved yet";
  w->state = WithdrawalState::kWithdrawn;
  w->approved_by = "op";
  w->approved_micros = 9;
  ASSERT_OK(catalog_->UpdateWithdrawal(*w, WithdrawalState::kRequested));
  ASSERT_OK(catalog_->BeginPurge(*id));
  ASSERT_OK(catalog_->BeginPurge(*id));  // a rerun changes nothing
  EXPECT_EQ(catalog_->GetWithdrawal(*id)->state, WithdrawalState::kPurging);
  auto jobs = catalog_->ListJobs();
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 2u) << "the purged version's jobs went with it";
  for (const JobRecord& j : *jobs) EXPECT_EQ(j.job.partner(), "p2");

  auto keys = catalog_->ListPurgeKeys(*id);
  ASSERT_OK(keys);
  // On every site of the repository (a, b and c: c counts no copy of it, but a catalog may not
  // know every copy a site holds): the unshared blob and the two tag files; never the shared blob.
  ASSERT_EQ(keys->size(), 9u);
  for (const PurgeKey& k : *keys) {
    EXPECT_NE(k.sha256, testing::Sha("shared")) << k.key;
    EXPECT_TRUE(k.key == layout::BlobKey(testing::Sha("only-p1")) ||
                k.key.starts_with("bags/p1/o/v1/"))
        << k.key;
  }
  EXPECT_TRUE(catalog_->BlobExists(testing::Sha("shared")));
  EXPECT_FALSE(catalog_->BlobExists(testing::Sha("only-p1")));
  EXPECT_TRUE(catalog_->GetVersion("p1", "o", 1, false).status().IsNotFound());
  // The shared blob is p2's alone now: its whole size counts to p2.
  auto after = catalog_->GetUsage();
  ASSERT_OK(after);
  const PartnerUsage* p2 = nullptr;
  for (const PartnerUsage& p : after->partners) {
    if (p.partner == "p2") p2 = &p;
    if (p.partner == "p1") EXPECT_EQ(p.files, 0u);
  }
  ASSERT_NE(p2, nullptr);
  EXPECT_EQ(p2->unique_bytes, std::string("shared").size());
  EXPECT_DOUBLE_EQ(p2->fair_bytes, 6.0 + 55 + 100);
  // The number is never given again.
  EXPECT_EQ(*catalog_->NextVersion("p1", "o"), 2u);
  ASSERT_OK(catalog_->RemovePurgeKey(*id, "a", keys->front().key));
  EXPECT_EQ(catalog_->ListPurgeKeys(*id)->size(), 8u);
}

TEST_F(CatalogTest, OneHoldAtATime) {
  AddSitesAndPartners();
  HoldRecord h{0, "p1", "o", "litigation", "op", "operator", 0};
  auto id = catalog_->AddHold(h);
  ASSERT_OK(id);
  EXPECT_TRUE(catalog_->AddHold(h).status().IsAlreadyExists());
  auto on = catalog_->HoldOn("p1", "o");
  ASSERT_OK(on);
  ASSERT_TRUE(on->has_value());
  HoldRecord r = **on;
  r.removal_requested_by = "op";
  r.removal_requested_micros = 3;
  ASSERT_OK(catalog_->UpdateHold(r));
  r.removed_by = "op";  // the same person: refused by the table
  r.removed_micros = 4;
  EXPECT_FALSE(catalog_->UpdateHold(r).ok());
  r.removed_by = "op2";
  ASSERT_OK(catalog_->UpdateHold(r));
  EXPECT_FALSE(catalog_->HoldOn("p1", "o")->has_value());
  EXPECT_EQ(catalog_->ListHolds("p1")->size(), 1u);
  EXPECT_OK(catalog_->AddHold(h).status());
}

// A catalog made by the previous binary (schema 7) gains the tables and keeps its rows.
TEST(MigrationWithdrawalsTest, Version7CatalogGainsTheTables) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  {
    auto db = sql::Db::Open(path, true, 1000);
    ASSERT_OK(db);
    for (const Migration& m : AllMigrations()) {
      if (m.version > 7) break;
      ASSERT_OK(db->Exec(m.sql)) << m.name;
    }
    ASSERT_OK(db->Exec("PRAGMA user_version = 7"));
    ASSERT_OK(db->Exec("INSERT INTO partners (id, name, created) VALUES ('yale', 'Yale', 1)"));
  }
  auto catalog = Catalog::Open(path);
  ASSERT_OK(catalog);
  EXPECT_EQ(*(*catalog)->SchemaVersion(), LatestSchemaVersion());
  ASSERT_EQ((*catalog)->ListPartners()->size(), 1u);
  ASSERT_OK((*catalog)->AddWithdrawal(Request("yale", "o", 1, false)));
  sql::Db& db = CatalogTestAccess::Db(**catalog);
  EXPECT_FALSE(db.Exec("UPDATE withdrawals SET state = 'gone'").ok());
  EXPECT_FALSE(db.Exec("INSERT INTO holds (partner, object, reason, added_by, added_role, added) "
                       "VALUES ('yale', 'o', '', 'x', 'operator', 1)")
                   .ok())
      << "a hold gives a reason";
}

}  // namespace
}  // namespace cairn::repo
