// `cairn bag validate` end to end: the real binary on real bags, exit codes
// 0 (valid), 1 (invalid bag), 2 (could not run), text and --json output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/holey_bag.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

std::string Fixture(const std::string& rel) { return FixturePath(rel).string(); }

TEST(BagValidateCli, ValidBagExitsZero) {
  CommandResult r = RunCairn({"bag", "validate", Fixture("bags/crlf-tag-files")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("valid"), std::string::npos) << r.out;
}

TEST(BagValidateCli, WarningsArePrintedButTheBagIsValid) {
  CommandResult r = RunCairn(
      {"bag", "validate", Fixture("bagit-conformance-suite/v0.97/warning/made-with-md5sum-tools")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: manifest-md5.txt:1: manifest.md5sum-star"), std::string::npos)
      << r.err;
  CommandResult quiet =
      RunCairn({"bag", "validate", "--quiet",
                Fixture("bagit-conformance-suite/v0.97/warning/made-with-md5sum-tools")});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err.find("warning"), std::string::npos) << quiet.err;
}

TEST(BagValidateCli, InvalidBagExitsOneAndNamesFileAndRule) {
  CommandResult r = RunCairn({"bag", "validate", Fixture("bags/oxum-mismatch-and-corrupt-file")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("data/hello.txt: payload.digest-mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bag-info.txt: bag-info.oxum-mismatch"), std::string::npos) << r.err;
}

TEST(BagValidateCli, JsonListsEveryErrorAndWarning) {
  CommandResult r =
      RunCairn({"bag", "validate", "--json", Fixture("bags/oxum-mismatch-and-corrupt-file")});
  EXPECT_EQ(r.exit_code, 1);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["mode"], "full");
  ASSERT_EQ(j["errors"].size(), 2u);
  std::set<std::string> rules;
  for (const auto& e : j["errors"]) {
    EXPECT_TRUE(e.contains("file"));
    rules.insert(e["rule"].get<std::string>());
  }
  EXPECT_EQ(rules, (std::set<std::string>{"bag-info.oxum-mismatch", "payload.digest-mismatch"}));

  CommandResult w = RunCairn({"bag", "validate", "--json",
                              Fixture("bagit-conformance-suite/v0.97/warning/relative-path")});
  EXPECT_EQ(w.exit_code, 0);
  nlohmann::json wj = nlohmann::json::parse(w.out, nullptr, false);
  ASSERT_FALSE(wj.is_discarded()) << w.out;
  EXPECT_EQ(wj["valid"], true);
  ASSERT_EQ(wj["warnings"].size(), 1u);
  EXPECT_EQ(wj["warnings"][0]["rule"], "manifest.dot-slash");
  EXPECT_EQ(wj["warnings"][0]["line"], 1);
}

TEST(BagValidateCli, ModesSayWhatTheyChecked) {
  std::string bag = Fixture("bags/crlf-tag-files");
  CommandResult fast = RunCairn({"bag", "validate", "--fast", bag});
  EXPECT_EQ(fast.exit_code, 0);
  EXPECT_NE(fast.out.find("Payload-Oxum only"), std::string::npos) << fast.out;
  CommandResult completeness = RunCairn({"bag", "validate", "--completeness-only", "--json", bag});
  EXPECT_EQ(completeness.exit_code, 0);
  EXPECT_NE(completeness.out.find("\"completeness-only\""), std::string::npos);
}

TEST(BagValidateCli, ProfileIsChecked) {
  std::string bag = Fixture("bags/crlf-tag-files");
  CommandResult ok =
      RunCairn({"bag", "validate", "--profile", Fixture("profiles/test-profile.json"), bag});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  CommandResult holey =
      RunCairn({"bag", "validate", "--profile", Fixture("profiles/test-profile.json"),
                Fixture("bagit-conformance-suite/v0.97/valid/holey-bag")});
  EXPECT_EQ(holey.exit_code, 1);
  EXPECT_NE(holey.err.find("profile.fetch-not-allowed"), std::string::npos) << holey.err;
  CommandResult broken =
      RunCairn({"bag", "validate", "--profile", Fixture("profiles/broken.json"), bag});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("broken.json"), std::string::npos) << broken.err;
}

// RFC 8493 section 3: a valid bag is complete. A payload file named only in
// fetch.txt and absent makes the bag incomplete, so invalid; --allow-fetch is
// for a bag meant to be fetched later (still reported incomplete).
TEST(BagValidateCli, HoleyBagIsIncompleteSoInvalidUnlessFetchIsAllowed) {
  TempDir tmp;
  fs::path bag = tmp / "holey";
  MakeHoleyBag(bag);
  const std::string finding = std::string(kHoleyBagAbsentPath) + ": complete.fetch-not-retrieved";
  CommandResult r = RunCairn({"bag", "validate", bag.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("error: " + finding), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("incomplete"), std::string::npos) << r.out;

  CommandResult completeness = RunCairn({"bag", "validate", "--completeness-only", bag.string()});
  EXPECT_EQ(completeness.exit_code, 1) << completeness.out << completeness.err;
  EXPECT_NE(completeness.err.find("error: " + finding), std::string::npos) << completeness.err;

  CommandResult j = RunCairn({"bag", "validate", "--json", bag.string()});
  EXPECT_EQ(j.exit_code, 1);
  nlohmann::json report = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << j.out;
  EXPECT_EQ(report["valid"], false);
  EXPECT_EQ(report["complete"], false);
  ASSERT_EQ(report["errors"].size(), 1u) << j.out;
  EXPECT_EQ(report["errors"][0]["rule"], "complete.fetch-not-retrieved");
  EXPECT_EQ(report["errors"][0]["file"], kHoleyBagAbsentPath);

  // Serialized, the same verdict.
  fs::path tgz = tmp / "holey.tar.gz";
  ASSERT_EQ(RunProcess({"tar", "-czf", tgz.string(), "-C", tmp.path().string(), "holey"}).exit_code,
            0);
  CommandResult archived = RunCairn({"bag", "validate", tgz.string()});
  EXPECT_EQ(archived.exit_code, 1) << archived.out << archived.err;
  EXPECT_NE(archived.err.find(finding), std::string::npos) << archived.err;

  // A bag meant to be fetched later: valid, still said to be incomplete.
  CommandResult allowed = RunCairn({"bag", "validate", "--allow-fetch", bag.string()});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  EXPECT_NE(allowed.err.find("warning: " + finding), std::string::npos) << allowed.err;
  EXPECT_NE(allowed.out.find("incomplete"), std::string::npos) << allowed.out;
  CommandResult allowed_json =
      RunCairn({"bag", "validate", "--allow-fetch", "--json", bag.string()});
  nlohmann::json aj = nlohmann::json::parse(allowed_json.out, nullptr, false);
  ASSERT_FALSE(aj.is_discarded()) << allowed_json.out;
  EXPECT_EQ(aj["valid"], true);
  EXPECT_EQ(aj["complete"], false);

  // fetch.txt whose files are all present: complete, valid.
  CommandResult full =
      RunCairn({"bag", "validate", Fixture("bagit-conformance-suite/v0.97/valid/holey-bag")});
  EXPECT_EQ(full.exit_code, 0) << full.out << full.err;
}

TEST(BagValidateCli, CouldNotRunExitsTwo) {
  TempDir tmp;
  CommandResult missing = RunCairn({"bag", "validate", (tmp / "no-such-bag").string()});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("no-such-bag"), std::string::npos);
  CommandResult no_arg = RunCairn({"bag", "validate"});
  EXPECT_EQ(no_arg.exit_code, 2);
  CommandResult bad_flag = RunCairn({"bag", "validate", "--nope", Fixture("bags/crlf-tag-files")});
  EXPECT_EQ(bad_flag.exit_code, 2);
  WriteFile(tmp / "notes.txt", "not a bag");
  CommandResult not_bag = RunCairn({"bag", "validate", (tmp / "notes.txt").string()});
  EXPECT_EQ(not_bag.exit_code, 2);
  CommandResult help = RunCairn({"bag", "validate", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("could not run"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace cairn::testing
