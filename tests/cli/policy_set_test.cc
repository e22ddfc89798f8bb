// `cairn policy set` on the repository's host refuses, before anything is stored, a policy whose
// bagit_profile is not a BagIt profile or whose sites do not exist, naming the field and the
// rule: a policy it accepted and every deposit of the partner then refused was a partner shut
// out by a typo the operator was told had succeeded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PolicySetTest : public RepoFixture {
 protected:
  // `cairn policy set` of a policy file holding `text`, for partner acme.
  CommandResult SetPolicy(const std::string& text) {
    WriteFile(tmp_ / "policy.textpb", text);
    return Cairn({"policy", "set", (tmp_ / "policy.textpb").string(), "--partner", "acme"});
  }

  // acme's stored policy text ("" when it has none of its own).
  std::string StoredText() {
    auto doc =
        nlohmann::json::parse(Cairn({"policy", "show", "acme", "--json"}).out, nullptr, false);
    return doc.is_object() ? doc.value("text", "") : "";
  }
};

// The tester's finding 2c, locally: a file that is not JSON (a host's /etc/hostname), a JSON file
// that is not a profile (an upload's state.json) and a BagIt profile that is valid JSON but
// breaks a profile rule were all taken; now each is refused, exit 1 as every refused policy, and
// the partner's policy stays what it was, so its deposits go on.
TEST_F(PolicySetTest, AProfileThatIsNotABagItProfileIsRefused) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  ASSERT_EQ(SetPolicy("copies: 2\n").exit_code, 0);
  WriteFile(tmp_ / "hostname", "vm-cairn-7\n");
  WriteFile(tmp_ / "state.json", R"({"id": "e3f1", "parts": [], "phase": "open"})");
  WriteFile(tmp_ / "broken.json",
            R"({"BagIt-Profile-Info": {"BagIt-Profile-Identifier": "x"},
                "Manifests-Required": "sha256"})");
  struct Case {
    std::string profile;
    std::string rule;
  } cases[] = {
      {(tmp_ / "hostname").string(), "is not a BagIt profile: invalid JSON"},
      {(tmp_ / "state.json").string(),
       "is not a BagIt profile: it has no BagIt-Profile-Info with a BagIt-Profile-Identifier"},
      {(tmp_ / "broken.json").string(),
       "is not a BagIt profile: 'Manifests-Required' must be a list of strings"},
  };
  for (const Case& c : cases) {
    CommandResult set = SetPolicy("copies: 2\nbagit_profile: \"" + c.profile + "\"\n");
    EXPECT_EQ(set.exit_code, 1) << c.profile << ": " << set.out << set.err;
    EXPECT_THAT(set.err, HasSubstr("policy refused: "));
    EXPECT_THAT(set.err,
                HasSubstr("policy.textpb:2:1: bagit_profile: " + c.profile + " " + c.rule));
    EXPECT_THAT(set.out, Not(HasSubstr("policy set for")));
    EXPECT_EQ(StoredText(), "copies: 2\n") << c.profile;
  }
  // A real profile is taken, beside the policy file or anywhere on the host.
  const std::string shipped = std::string(CAIRN_SOURCE_DIR) + "/policies/profiles/cairn-basic.json";
  CommandResult good = SetPolicy("copies: 2\nbagit_profile: \"" + shipped + "\"\n");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  fs::copy_file(shipped, tmp_ / "basic.json");
  CommandResult beside = SetPolicy("copies: 2\nbagit_profile: \"basic.json\"\n");
  EXPECT_EQ(beside.exit_code, 0) << beside.err;
}

// `sites: "zz"` with `copies: 2` was refused for listing too few sites ("2 copies need at least 2
// sites, but only 1 are listed"), the misspelt site never named; the site that does not exist is
// now named first.
TEST_F(PolicySetTest, ASiteThatDoesNotExistIsNamed) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  CommandResult set = SetPolicy("copies: 2\nsites: \"zz\"\n");
  EXPECT_EQ(set.exit_code, 1) << set.out << set.err;
  EXPECT_THAT(set.err, HasSubstr("policy.textpb:2:1: sites: no site named \"zz\" (see `cairn site "
                                 "list`)"));
  CommandResult two = SetPolicy("copies: 2\nsites: \"a\"\nsites: \"zz\"\n");
  EXPECT_EQ(two.exit_code, 1) << two.out << two.err;
  EXPECT_THAT(two.err, HasSubstr("policy.textpb:3:1: sites: no site named \"zz\""));
  EXPECT_EQ(SetPolicy("copies: 2\nsites: \"a\"\nsites: \"b\"\n").exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
