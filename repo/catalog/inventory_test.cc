// CopyRule: which ok copies count toward a policy.
#include "repo/catalog/inventory.h"

#include <gtest/gtest.h>

#include "policies/policy.h"
#include "tests/util/assert_ok.h"

namespace cairn::repo {
namespace {

std::vector<SiteRecord> Sites() {
  return {{1, "a", "file:///a", "eu", 0},
          {2, "b", "file:///b", "eu", 0},
          {3, "c", "file:///c", "us", 0}};
}

proto::Policy Parse(const std::string& text) {
  Result<proto::Policy> p = policies::ParsePolicy(text, "test.policy", "/");
  EXPECT_OK(p);
  return p.ok() ? *p : proto::Policy();
}

TEST(CopyRuleTest, PlainCountCountsOkCopiesOnEverySite) {
  proto::Policy policy = Parse("copies: 3");
  CopyRule rule = CopyRule::FromPolicy(policy, Sites());
  EXPECT_EQ(rule.wanted, 3u);
  EXPECT_EQ(rule.Count({{"a", "ok"}, {"b", "ok"}, {"c", "pending"}}), 2u);
  EXPECT_EQ(rule.Count({{"a", "ok"}, {"b", "corrupt"}, {"c", "ok"}}), 2u);
  EXPECT_EQ(rule.Describe(policy), "3 copies");
}

TEST(CopyRuleTest, NamedSitesOnlyCountThoseSites) {
  proto::Policy policy = Parse("copies: 2 sites: \"a\" sites: \"c\"");
  CopyRule rule = CopyRule::FromPolicy(policy, Sites());
  EXPECT_EQ(rule.Count({{"a", "ok"}, {"b", "ok"}}), 1u);
  EXPECT_EQ(rule.Count({{"a", "ok"}, {"c", "ok"}}), 2u);
  EXPECT_EQ(rule.site_ids, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(rule.Describe(policy), "2 copies on sites a, c");
}

TEST(CopyRuleTest, RegionsCountOnceEachAndOnlyAllowedOnes) {
  proto::Policy policy = Parse("copies: 2 regions: \"eu\" regions: \"us\"");
  CopyRule rule = CopyRule::FromPolicy(policy, Sites());
  EXPECT_EQ(rule.Count({{"a", "ok"}, {"b", "ok"}}), 1u);  // both in eu
  EXPECT_EQ(rule.Count({{"b", "ok"}, {"c", "ok"}}), 2u);
  proto::Policy eu_only = Parse("copies: 1 regions: \"eu\"");
  EXPECT_EQ(CopyRule::FromPolicy(eu_only, Sites()).Count({{"c", "ok"}}), 0u);
  EXPECT_EQ(rule.Describe(policy), "2 copies in distinct regions of eu, us");
}

}  // namespace
}  // namespace cairn::repo
