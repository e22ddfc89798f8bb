// The principals and api_tokens tables (migration 7) on a real SQLite file: round trips,
// the role/partner rule, and a catalog of the previous schema migrated with its rows kept.
#include <gmock/gmock.h>

#include "repo/catalog/catalog.h"
#include "repo/catalog/catalog_test_access.h"
#include "repo/catalog/migrations.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"

namespace cairn::repo {
namespace {

using testing::CatalogTest;
using ::testing::HasSubstr;

const std::string kHashA(32, 'a');

TEST_F(CatalogTest, PrincipalsRoundTripAndSurviveReopen) {
  AddSitesAndPartners();
  ASSERT_OK(catalog_->AddPrincipal({"alice@p1", Role::kDepositor, "p1", 0, 0}));
  ASSERT_OK(catalog_->AddPrincipal({"audit.bot", Role::kAuditor, "", 5, 0}));
  Status dup = catalog_->AddPrincipal({"alice@p1", Role::kOperator, "", 0, 0});
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();
  ASSERT_OK(catalog_->DisablePrincipal("audit.bot", 77));
  ASSERT_OK(catalog_->DisablePrincipal("audit.bot", 99));  // keeps the first time
  EXPECT_TRUE(catalog_->DisablePrincipal("nobody", 1).IsNotFound());
  catalog_.reset();

  auto again = Catalog::Open(path());
  ASSERT_OK(again);
  auto all = (*again)->ListPrincipals();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice@p1");
  EXPECT_EQ((*all)[0].role, Role::kDepositor);
  EXPECT_EQ((*all)[0].partner, "p1");
  EXPECT_EQ((*all)[0].created_micros, clock_.NowMicros());
  EXPECT_EQ((*all)[0].disabled_micros, 0);
  EXPECT_EQ((*all)[1].name, "audit.bot");
  EXPECT_EQ((*all)[1].role, Role::kAuditor);
  EXPECT_EQ((*all)[1].partner, "");
  EXPECT_EQ((*all)[1].created_micros, 5);
  EXPECT_EQ((*all)[1].disabled_micros, 77);
  auto one = (*again)->GetPrincipal("alice@p1");
  ASSERT_OK(one);
  EXPECT_EQ(one->partner, "p1");
  EXPECT_TRUE((*again)->GetPrincipal("bob").status().IsNotFound());
}

TEST_F(CatalogTest, PrincipalPartnerRules) {
  AddSitesAndPartners();
  Status no_partner = catalog_->AddPrincipal({"d", Role::kDepositor, "", 0, 0});
  EXPECT_EQ(no_partner.code(), Code::kInvalidArgument) << no_partner.ToString();
  EXPECT_THAT(no_partner.message(), HasSubstr("needs a partner"));
  Status unknown = catalog_->AddPrincipal({"d", Role::kPartnerAdmin, "nope", 0, 0});
  EXPECT_TRUE(unknown.IsNotFound()) << unknown.ToString();
  EXPECT_THAT(unknown.message(), HasSubstr("nope"));
  Status op_with_partner = catalog_->AddPrincipal({"o", Role::kOperator, "p1", 0, 0});
  EXPECT_EQ(op_with_partner.code(), Code::kInvalidArgument) << op_with_partner.ToString();
  auto all = catalog_->ListPrincipals();
  ASSERT_OK(all);
  EXPECT_TRUE(all->empty());
}

TEST_F(CatalogTest, ApiTokensRoundTripWithoutTheirHashInListings) {
  AddSitesAndPartners();
  ASSERT_OK(catalog_->AddPrincipal({"alice", Role::kPartnerAdmin, "p2", 0, 0}));
  ASSERT_OK(catalog_->AddApiToken({"0123456789ab", "alice", 10, 20, 0, {}}, kHashA));
  EXPECT_TRUE(
      catalog_->AddApiToken({"0123456789ab", "alice", 10, 0, 0, {}}, kHashA).IsAlreadyExists());
  EXPECT_TRUE(catalog_->AddApiToken({"ffffffffffff", "bob", 10, 0, 0, {}}, kHashA).IsNotFound());
  EXPECT_FALSE(catalog_->AddApiToken({"eeeeeeeeeeee", "alice", 10, 0, 0, {}}, "short").ok());

  auto credential = catalog_->GetApiTokenCredential("0123456789ab");
  ASSERT_OK(credential);
  EXPECT_EQ(credential->secret_sha256, kHashA);
  EXPECT_EQ(credential->token.expires_micros, 20);
  EXPECT_EQ(credential->principal.name, "alice");
  EXPECT_EQ(credential->principal.role, Role::kPartnerAdmin);
  EXPECT_EQ(credential->principal.partner, "p2");
  EXPECT_FALSE(credential->token.last_used_micros.has_value());
  EXPECT_TRUE(catalog_->GetApiTokenCredential("000000000000").status().IsNotFound());

  ASSERT_OK(catalog_->RecordApiTokenUse("0123456789ab", 1'000'000'000));
  ASSERT_OK(catalog_->RecordApiTokenUse("0123456789ab", 1'000'000'001));  // within a minute
  ASSERT_OK(catalog_->RevokeApiToken("0123456789ab", 500));
  ASSERT_OK(catalog_->RevokeApiToken("0123456789ab", 600));
  EXPECT_TRUE(catalog_->RevokeApiToken("000000000000", 1).IsNotFound());
  auto tokens = catalog_->ListApiTokens();
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].id, "0123456789ab");
  EXPECT_EQ((*tokens)[0].principal, "alice");
  EXPECT_EQ((*tokens)[0].created_micros, 10);
  EXPECT_EQ((*tokens)[0].revoked_micros, 500);
  ASSERT_TRUE((*tokens)[0].last_used_micros.has_value());
  EXPECT_EQ(*(*tokens)[0].last_used_micros, 1'000'000'000);
}

TEST_F(CatalogTest, RestorePrincipalAddsOrUpdates) {
  AddSitesAndPartners();
  proto::PrincipalSetting s;
  s.set_name("carol@p1");
  s.set_role("depositor");
  s.set_partner("p1");
  s.set_created_unix_micros(3);
  ASSERT_OK(catalog_->RestorePrincipal(s));
  s.set_disabled_unix_micros(9);
  ASSERT_OK(catalog_->RestorePrincipal(s));
  auto carol = catalog_->GetPrincipal("carol@p1");
  ASSERT_OK(carol);
  EXPECT_EQ(carol->created_micros, 3);
  EXPECT_EQ(carol->disabled_micros, 9);
  s.set_role("wizard");
  EXPECT_EQ(catalog_->RestorePrincipal(s).code(), Code::kInvalidArgument);
  s.set_role("depositor");
  s.set_partner("gone");
  EXPECT_TRUE(catalog_->RestorePrincipal(s).IsNotFound());
}

// A catalog made by the previous binary (schema 6) gains both tables, keeps its rows.
TEST(MigrationPrincipalsTest, Version6CatalogGainsTheTables) {
  cairn::testing::TempDir dir;
  const std::string path = (dir.path() / "catalog.db").string();
  {
    auto db = sql::Db::Open(path, true, 1000);
    ASSERT_OK(db);
    for (const Migration& m : AllMigrations()) {
      if (m.version > 6) break;
      ASSERT_OK(db->Exec(m.sql)) << m.name;
    }
    ASSERT_OK(db->Exec("PRAGMA user_version = 6"));
    ASSERT_OK(db->Exec("INSERT INTO partners (id, name, created) VALUES ('yale', 'Yale', 1)"));
  }
  auto catalog = Catalog::Open(path);
  ASSERT_OK(catalog);
  EXPECT_EQ(*(*catalog)->SchemaVersion(), LatestSchemaVersion());
  auto partners = (*catalog)->ListPartners();
  ASSERT_OK(partners);
  ASSERT_EQ(partners->size(), 1u);
  ASSERT_OK((*catalog)->AddPrincipal({"ann@yale", Role::kDepositor, "yale", 0, 0}));
  ASSERT_OK((*catalog)->AddApiToken({"00000000000a", "ann@yale", 1, 0, 0, {}}, kHashA));
  sql::Db& db = CatalogTestAccess::Db(**catalog);
  EXPECT_FALSE(
      db.Exec("INSERT INTO principals (name, role, partner, created) VALUES ('x', 'auditor', "
              "'yale', 1)")
          .ok())
      << "an auditor takes no partner";
  EXPECT_FALSE(
      db.Exec("INSERT INTO principals (name, role, created) VALUES ('y', 'wizard', 1)").ok());
}

}  // namespace
}  // namespace cairn::repo
