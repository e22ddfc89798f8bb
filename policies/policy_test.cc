// The policy engine on real files: one-line policies, the shipped examples,
// and errors that name the line and the field.
#include "policies/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::policies {
namespace {

using cairn::testing::TempDir;
using cairn::testing::WriteFile;
using ::testing::HasSubstr;

Result<proto::Policy> Parse(std::string_view text) { return ParsePolicy(text, "p.textpb", "/"); }

TEST(PolicyParseTest, OneLinePolicies) {
  auto three = Parse("copies: 3");
  ASSERT_OK(three);
  EXPECT_EQ(three->copies(), 3u);
  EXPECT_TRUE(three->sites().empty());

  auto named = Parse("copies: 2 sites: \"a\" sites: \"s3\"");
  ASSERT_OK(named);
  EXPECT_EQ(named->copies(), 2u);
  ASSERT_EQ(named->sites_size(), 2);
  EXPECT_EQ(named->sites(0), "a");
  EXPECT_EQ(named->sites(1), "s3");
}

TEST(PolicyParseTest, TypoedFieldNamesLineAndField) {
  auto r = Parse("copies: 2\nfixity {\n  intervall_days: 30\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("p.textpb:3:"));
  EXPECT_THAT(r.status().message(), HasSubstr("intervall_days"));
}

TEST(PolicyParseTest, BadValueNamesLineAndField) {
  auto r = Parse("# comment\ncopies: three\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("p.textpb:2:9:"));
  EXPECT_THAT(r.status().message(), HasSubstr("\"copies\""));

  auto neg = Parse("copies: -1");
  ASSERT_FALSE(neg.ok());
  EXPECT_THAT(neg.status().message(), HasSubstr("p.textpb:1:"));
  EXPECT_THAT(neg.status().message(), HasSubstr("copies"));
}

TEST(PolicyParseTest, DuplicateScalarRefused) {
  auto r = Parse("copies: 2\ncopies: 3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("p.textpb:2:"));
  EXPECT_THAT(r.status().message(), HasSubstr("copies"));
}

TEST(PolicyCheckTest, SemanticErrorsNamed) {
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  } cases[] = {
      {"sites: \"a\"", "p.textpb", "copies: must be at least 1"},
      {"copies: 0", "p.textpb:1:1", "copies: must be at least 1"},
      {"copies: 3 sites: \"a\" sites: \"b\"", "p.textpb:1:1", "only 2 are listed"},
      {"copies: 1 sites: \"a\" sites: \"a\"", "p.textpb:1:22", "listed twice"},
      {"copies: 3\nregions: \"x\"\nregions: \"y\"", "p.textpb:1:1", "distinct regions"},
      {"copies: 1\nalgorithms: \"sha256\"\nalgorithms: \"sha999\"", "p.textpb:3:1",
       "algorithms: unknown algorithm \"sha999\""},
      {"copies: 1\nfixity {\n  interval_days: 0\n}", "p.textpb:3:3",
       "fixity.interval_days: must be at least 1"},
      {"copies: 1\nfixity { interval_days: 5 sample: \"200%\" }", "p.textpb:2:27",
       "fixity.sample: bad sample"},
      {"copies: 1\nfixity { interval_days: 5 sample: \"5/4\" }", "p.textpb:2:27", "fixity.sample"},
      {"copies: 1\nrequired_bag_info: \"Bad: label\"", "p.textpb:2:1", "required_bag_info"},
      {"copies: 1\nbagit_profile: \"/no/such/profile.json\"", "p.textpb:2:1",
       "no BagIt profile file at /no/such/profile.json"},
  };
  for (const Case& c : cases) {
    auto r = Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(std::string(c.where) + ":")) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.what)) << c.text;
  }
}

TEST(PolicyLoadTest, RelativeProfileResolvedAgainstPolicyFolder) {
  TempDir dir;
  WriteFile(dir / "profiles/p.json", "{}");
  WriteFile(dir / "pol/x.textpb", "copies: 1\nbagit_profile: \"../profiles/p.json\"\n");
  auto r = LoadPolicyFile((dir / "pol/x.textpb").string());
  ASSERT_OK(r);
  EXPECT_EQ(r->bagit_profile(), (dir.path() / "profiles/p.json").lexically_normal().string());

  WriteFile(dir / "pol/y.textpb", "copies: 1\nbagit_profile: \"missing.json\"\n");
  auto missing = LoadPolicyFile((dir / "pol/y.textpb").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("y.textpb:2:1: bagit_profile"));
}

TEST(PolicyLoadTest, MissingFileIsNotFound) {
  TempDir dir;
  auto r = LoadPolicyFile((dir / "nope.textpb").string());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_THAT(r.status().message(), HasSubstr("nope.textpb"));
}

TEST(PolicyLoadTest, ShippedExamplesAllLoad) {
  const auto examples = cairn::testing::fs::path(CAIRN_SOURCE_DIR) / "policies/examples";
  int count = 0;
  for (const auto& entry : cairn::testing::fs::directory_iterator(examples)) {
    auto r = LoadPolicyFile(entry.path().string());
    EXPECT_OK(r) << entry.path() << ": " << r.status().ToString();
    ++count;
  }
  EXPECT_GE(count, 5);
  auto s3 = LoadPolicyFile((examples / "s3-and-local.textpb").string());
  ASSERT_OK(s3);
  EXPECT_EQ(s3->copies(), 2u);
  EXPECT_EQ(s3->sites_size(), 2);
}

TEST(PolicySitesTest, SitesAndRegionsMustExist) {
  std::vector<SiteFacts> sites = {{"a", "eu"}, {"b", "eu"}, {"c", "us"}};
  auto named = Parse("copies: 2 sites: \"a\" sites: \"s3\"");
  ASSERT_OK(named);
  Status s = CheckPolicyAgainstSites(*named, sites, "p");
  EXPECT_THAT(s.message(), HasSubstr("no site named \"s3\""));

  auto four = Parse("copies: 4");
  ASSERT_OK(four);
  EXPECT_THAT(CheckPolicyAgainstSites(*four, sites, "p").message(), HasSubstr("only 3"));

  auto regions = Parse("copies: 2 regions: \"eu\" regions: \"us\"");
  ASSERT_OK(regions);
  EXPECT_OK(CheckPolicyAgainstSites(*regions, sites, "p"));
  auto three_regions = Parse("copies: 3 regions: \"eu\" regions: \"us\" regions: \"ap\"");
  ASSERT_OK(three_regions);
  EXPECT_THAT(CheckPolicyAgainstSites(*three_regions, sites, "p").message(), HasSubstr("only 2"));
}

// "2 copies need 2 sites, but only 1 are available": one site is one that "is".
TEST(PolicySitesTest, OneSiteIsCountedInTheSingular) {
  std::vector<SiteFacts> one = {{"a", "eu"}};
  auto two = Parse("copies: 2");
  ASSERT_OK(two);
  EXPECT_THAT(CheckPolicyAgainstSites(*two, one, "p").message(),
              HasSubstr("2 copies need 2 sites, but only 1 is available"));
  std::vector<SiteFacts> three = {{"a", "eu"}, {"b", "eu"}, {"c", "us"}};
  auto four = Parse("copies: 4");
  ASSERT_OK(four);
  EXPECT_THAT(CheckPolicyAgainstSites(*four, three, "p").message(),
              HasSubstr("but only 3 are available"));
  auto listed_one = Parse("copies: 2 sites: \"a\"");
  EXPECT_THAT(listed_one.status().message(), HasSubstr("but only 1 is listed in `sites`"));
}

TEST(PolicySampleTest, Forms) {
  EXPECT_EQ(ParseSample("")->kind, Sample::Kind::kAll);
  EXPECT_DOUBLE_EQ(ParseSample("2.5%")->percent, 2.5);
  auto bucket = ParseSample("3/7");
  ASSERT_OK(bucket);
  EXPECT_EQ(bucket->bucket, 3u);
  EXPECT_EQ(bucket->buckets, 7u);
  // The auditor's grammar, one for both: a size is a sample too.
  auto bytes = ParseSample("500M");
  ASSERT_OK(bytes);
  EXPECT_EQ(bytes->kind, Sample::Kind::kBytes);
  EXPECT_EQ(bytes->bytes, 500ull << 20);
  for (const char* bad : {"0%", "101%", "x%", "0/3", "4/3", "3/", "/3", "0", "12Q", "1/2/3"}) {
    EXPECT_FALSE(ParseSample(bad).ok()) << bad;
  }
}

TEST(PolicyResolveTest, PartnerOverridesDefaultWhole) {
  StoredPolicy def{"copies: 3\nalgorithms: \"sha512\"", "catalog:default", ""};
  StoredPolicy acme{"copies: 1", "catalog:acme", ""};
  auto builtin = EffectivePolicy(std::nullopt, std::nullopt);
  ASSERT_OK(builtin);
  EXPECT_EQ(builtin->copies(), kBuiltinDefaultCopies);
  auto d = EffectivePolicy(std::nullopt, def);
  ASSERT_OK(d);
  EXPECT_EQ(d->copies(), 3u);
  auto p = EffectivePolicy(acme, def);
  ASSERT_OK(p);
  EXPECT_EQ(p->copies(), 1u);
  EXPECT_TRUE(p->algorithms().empty());
  StoredPolicy broken{"copies: x", "catalog:acme", ""};
  EXPECT_THAT(EffectivePolicy(broken, def).status().message(), HasSubstr("catalog:acme:1:"));
}

TEST(PolicyFormatTest, RoundTrips) {
  auto p = Parse("copies: 2 sites: \"a\" sites: \"b\" fixity { interval_days: 7 }");
  ASSERT_OK(p);
  auto again = Parse(FormatPolicy(*p));
  ASSERT_OK(again) << FormatPolicy(*p);
  EXPECT_EQ(again->SerializeAsString(), p->SerializeAsString());
}

}  // namespace
}  // namespace cairn::policies
