// Principals and API tokens on a real catalog file: the name grammar and partner rules, and a
// token that authenticates, expires (injected clock), is revoked, has a wrong secret, or
// belongs to a disabled principal; no message ever holds the secret.
#include "repo/access/tokens.h"

#include <gmock/gmock.h>

#include "repo/access/principals.h"
#include "repo/catalog/catalog.h"
#include "repo/clock.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo::access {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDay = 86'400LL * 1'000'000;

class TokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CatalogOptions options;
    options.clock = &clock_;
    auto opened = Catalog::Open((dir_.path() / "catalog.db").string(), options);
    ASSERT_OK(opened);
    catalog_ = std::move(opened).value();
    ASSERT_OK(catalog_->AddPartner("yale", "Yale"));
  }
  // The secret part of a token: everything after "cairn_<12 hex>_".
  static std::string SecretOf(const std::string& token) { return token.substr(19); }

  cairn::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(TokensTest, PrincipalNameGrammar) {
  EXPECT_OK(ValidatePrincipalName("alice@yale"));
  EXPECT_OK(ValidatePrincipalName("a.b-c_d"));
  EXPECT_OK(ValidatePrincipalName(std::string(64, 'x')));
  for (std::string bad :
       {std::string(), std::string(65, 'x'), std::string("local:root"), std::string("has space"),
        std::string("a/b"), std::string(".hidden"), std::string("colon:name")}) {
    Status s = ValidatePrincipalName(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << "'" << bad << "' " << s.ToString();
  }
  EXPECT_THAT(ValidatePrincipalName("local:me").message(), HasSubstr("local:"));
  EXPECT_EQ(AddPrincipal(*catalog_, "local:me", Role::kOperator, "").status().code(),
            Code::kInvalidArgument);
}

TEST_F(TokensTest, PartnerRulesPerRole) {
  ASSERT_OK(AddPrincipal(*catalog_, "dep@yale", Role::kDepositor, "yale"));
  ASSERT_OK(AddPrincipal(*catalog_, "admin@yale", Role::kPartnerAdmin, "yale"));
  ASSERT_OK(AddPrincipal(*catalog_, "auditor", Role::kAuditor, ""));
  ASSERT_OK(AddPrincipal(*catalog_, "ops", Role::kOperator, ""));
  EXPECT_TRUE(AddPrincipal(*catalog_, "x", Role::kDepositor, "harvard").status().IsNotFound());
  EXPECT_EQ(AddPrincipal(*catalog_, "x", Role::kPartnerAdmin, "").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(AddPrincipal(*catalog_, "x", Role::kAuditor, "yale").status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(AddPrincipal(*catalog_, "ops", Role::kOperator, "").status().IsAlreadyExists());
  auto all = ListPrincipals(*catalog_);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].name, "admin@yale");
}

TEST_F(TokensTest, TokenAuthenticatesAsItsPrincipal) {
  ASSERT_OK(AddPrincipal(*catalog_, "dep@yale", Role::kDepositor, "yale"));
  auto made = CreateToken(*catalog_, "dep@yale", std::nullopt, clock_.NowMicros());
  ASSERT_OK(made);
  EXPECT_THAT(made->token, ::testing::MatchesRegex("cairn_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"));
  EXPECT_EQ(made->token.substr(6, 12), made->record.id);
  EXPECT_EQ(made->record.expires_micros, 0);
  clock_.Advance(3650 * kDay);  // "never" is never
  auto who = AuthenticateToken(*catalog_, made->token, clock_.NowMicros());
  ASSERT_OK(who);
  EXPECT_EQ(who->name, "dep@yale");
  EXPECT_EQ(who->role, Role::kDepositor);
  EXPECT_EQ(who->partner, "yale");
  EXPECT_FALSE(who->local);
  auto listed = ListTokens(*catalog_);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE((*listed)[0].last_used_micros.has_value());
  EXPECT_EQ(*(*listed)[0].last_used_micros, clock_.NowMicros());
  // Two tokens of one principal are different tokens.
  auto second = CreateToken(*catalog_, "dep@yale", std::nullopt, clock_.NowMicros());
  ASSERT_OK(second);
  EXPECT_NE(second->record.id, made->record.id);
  EXPECT_NE(SecretOf(second->token), SecretOf(made->token));
}

TEST_F(TokensTest, TokenExpires) {
  ASSERT_OK(AddPrincipal(*catalog_, "auditor", Role::kAuditor, ""));
  auto made = CreateToken(*catalog_, "auditor", 90 * kDay, clock_.NowMicros());
  ASSERT_OK(made);
  EXPECT_EQ(made->record.expires_micros, clock_.NowMicros() + 90 * kDay);
  clock_.Advance(90 * kDay - 1);
  ASSERT_OK(AuthenticateToken(*catalog_, made->token, clock_.NowMicros()));
  clock_.Advance(1);
  auto late = AuthenticateToken(*catalog_, made->token, clock_.NowMicros());
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), Code::kUnauthenticated);
  EXPECT_THAT(late.status().message(), HasSubstr("expired"));
  EXPECT_THAT(late.status().message(), HasSubstr(made->record.id));
  EXPECT_THAT(late.status().message(), Not(HasSubstr(SecretOf(made->token))));
  EXPECT_EQ(CreateToken(*catalog_, "auditor", 0, clock_.NowMicros()).status().code(),
            Code::kInvalidArgument);
}

TEST_F(TokensTest, RevokedTokenFails) {
  ASSERT_OK(AddPrincipal(*catalog_, "ops", Role::kOperator, ""));
  auto made = CreateToken(*catalog_, "ops", std::nullopt, clock_.NowMicros());
  ASSERT_OK(made);
  ASSERT_OK(RevokeToken(*catalog_, made->record.id, clock_.NowMicros()));
  auto who = AuthenticateToken(*catalog_, made->token, clock_.NowMicros());
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().code(), Code::kUnauthenticated);
  EXPECT_THAT(who.status().message(), HasSubstr("revoked"));
  EXPECT_TRUE(RevokeToken(*catalog_, "000000000000", 1).IsNotFound());
  Status whole = RevokeToken(*catalog_, made->token, 1);
  EXPECT_EQ(whole.code(), Code::kInvalidArgument);
  EXPECT_THAT(whole.message(), Not(HasSubstr(SecretOf(made->token))));
}

TEST_F(TokensTest, WrongSecretWithRightIdFails) {
  ASSERT_OK(AddPrincipal(*catalog_, "ops", Role::kOperator, ""));
  auto made = CreateToken(*catalog_, "ops", std::nullopt, clock_.NowMicros());
  ASSERT_OK(made);
  std::string forged = made->token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto who = AuthenticateToken(*catalog_, forged, clock_.NowMicros());
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().code(), Code::kUnauthenticated);
  EXPECT_THAT(who.status().message(), Not(HasSubstr(SecretOf(forged))));
  EXPECT_THAT(who.status().message(), Not(HasSubstr(SecretOf(made->token))));
  // An unknown id gives the same answer as a wrong secret.
  std::string unknown = "cairn_000000000000_" + SecretOf(made->token);
  auto nobody = AuthenticateToken(*catalog_, unknown, clock_.NowMicros());
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.status().code(), Code::kUnauthenticated);
  EXPECT_THAT(nobody.status().message(), Not(HasSubstr(SecretOf(made->token))));
}

TEST_F(TokensTest, MalformedTokensFailWithoutEchoingThem) {
  ASSERT_OK(AddPrincipal(*catalog_, "ops", Role::kOperator, ""));
  auto made = CreateToken(*catalog_, "ops", std::nullopt, clock_.NowMicros());
  ASSERT_OK(made);
  const std::string secret = SecretOf(made->token);
  for (std::string bad :
       {std::string(), std::string("cairn_"), "token_" + made->record.id + "_" + secret,
        made->token + "x", made->token.substr(0, made->token.size() - 1),
        "cairn_" + made->record.id + "-" + secret, "cairn_XYZ" + made->token.substr(9),
        made->token.substr(0, 20) + "!" + made->token.substr(21)}) {
    auto who = AuthenticateToken(*catalog_, bad, clock_.NowMicros());
    ASSERT_FALSE(who.ok()) << bad;
    EXPECT_EQ(who.status().code(), Code::kUnauthenticated) << bad;
    EXPECT_THAT(who.status().message(), Not(HasSubstr(secret.substr(0, 10))));
  }
}

TEST_F(TokensTest, DisabledPrincipalFailsAndGetsNoNewTokens) {
  ASSERT_OK(AddPrincipal(*catalog_, "admin@yale", Role::kPartnerAdmin, "yale"));
  auto made = CreateToken(*catalog_, "admin@yale", std::nullopt, clock_.NowMicros());
  ASSERT_OK(made);
  ASSERT_OK(DisablePrincipal(*catalog_, "admin@yale", clock_.NowMicros()));
  auto who = AuthenticateToken(*catalog_, made->token, clock_.NowMicros());
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().code(), Code::kUnauthenticated);
  EXPECT_THAT(who.status().message(), HasSubstr("disabled"));
  EXPECT_EQ(CreateToken(*catalog_, "admin@yale", std::nullopt, clock_.NowMicros()).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(CreateToken(*catalog_, "nobody", std::nullopt, 1).status().IsNotFound());
  EXPECT_TRUE(DisablePrincipal(*catalog_, "nobody", 1).IsNotFound());
}

}  // namespace
}  // namespace cairn::repo::access
