// `cairn show --json` and `cairn list` with the real binary: file names that
// need JSON escaping come out exactly, and both verbs judge copies by the
// policy's sites, not by a bare count.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "bagit/digest.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class ShowListCliTest : public RepoFixture {};

std::string Sha256(const std::string& bytes) {
  bagit::MultiHasher h(bagit::Only(bagit::Algorithm::kSha256));
  h.Update(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  return h.Finish()[bagit::Algorithm::kSha256];
}

TEST_F(ShowListCliTest, ShowJsonEscapesNamesAndListsEveryFileWithItsCopies) {
  const std::map<std::string, std::string> files = {
      {"plain.txt", "plain\n"},
      {"quote\"d.txt", "a quote in the name\n"},
      {"per%cent 50%.txt", "a percent sign in the name\n"},
      {"\xc3\xa9t\xc3\xa9.txt", "UTF-8 in the name\n"},
      {"sub/deeper/x.bin", std::string(3000, '\x01')},
  };
  for (const auto& [name, bytes] : files) WriteFile(tmp_ / "src" / name, bytes);
  Deposit("acme", (tmp_ / "src").string(), "odd");

  CommandResult r = Cairn({"show", "acme/odd", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json show = nlohmann::json::parse(r.out);
  ASSERT_EQ(show["files"].size(), files.size());
  for (const auto& f : show["files"]) {
    std::string path = f["path"];
    ASSERT_TRUE(path.starts_with("data/")) << path;
    auto it = files.find(path.substr(5));
    ASSERT_NE(it, files.end()) << path;
    EXPECT_EQ(f["size"], it->second.size()) << path;
    EXPECT_EQ(f["sha256"], Sha256(it->second)) << path;
    ASSERT_EQ(f["copies"].size(), 2u) << path;
    EXPECT_EQ(f["copies"][0]["site"], "a");
    EXPECT_EQ(f["copies"][0]["state"], "ok");
    EXPECT_EQ(f["copies"][1]["site"], "b");
  }
  EXPECT_EQ(show["copies_wanted"], 2);
  EXPECT_EQ(show["copies_ok"], 2);
  EXPECT_EQ(show["policy"], "2 copies");
}

TEST_F(ShowListCliTest, CopiesOnSitesThePolicyDoesNotNameDoNotCount) {
  WriteFile(tmp_ / "src/a.txt", "alpha\n");
  Deposit("acme", (tmp_ / "src").string(), "obj");  // copies on a and b
  ASSERT_EQ(Cairn({"site", "add", "c", "file://" + (tmp_ / "site-c").string()}).exit_code, 0);
  WriteFile(tmp_ / "policy.txt", "copies: 2 sites: \"a\" sites: \"c\"\n");
  CommandResult set = Cairn({"policy", "set", (tmp_ / "policy.txt").string(), "--partner", "acme"});
  ASSERT_EQ(set.exit_code, 0) << set.err;

  // Two ok copies, but only the one on a counts: the policy wants a and c.
  CommandResult list = Cairn({"list", "--json"});
  ASSERT_EQ(list.exit_code, 1) << "an object lacks copies: " << list.err;
  nlohmann::json objects = nlohmann::json::parse(list.out);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0]["copies_ok"], 1);
  EXPECT_EQ(objects[0]["copies_wanted"], 2);
  EXPECT_EQ(objects[0]["has_wanted_copies"], false);
  EXPECT_EQ(objects[0]["policy"], "2 copies on sites a, c");
  CommandResult text = Cairn({"list"});
  EXPECT_NE(text.out.find("acme/obj has 1 of 2 copies on sites a, c"), std::string::npos)
      << text.out;
  EXPECT_EQ(text.exit_code, 1);
  CommandResult show = Cairn({"show", "acme/obj"});
  EXPECT_NE(show.out.find("LACKING COPIES"), std::string::npos) << show.out;
  EXPECT_EQ(show.exit_code, 1) << show.err;

  // The policy change queued the copies to c; once made, the object is whole.
  CommandResult replicate = Cairn({"replicate"});
  ASSERT_EQ(replicate.exit_code, 0) << replicate.err << replicate.out;
  list = Cairn({"list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  objects = nlohmann::json::parse(list.out);
  EXPECT_EQ(objects[0]["copies_ok"], 2);
  EXPECT_EQ(objects[0]["has_wanted_copies"], true);
  show = Cairn({"show", "acme/obj"});
  EXPECT_EQ(show.out.find("LACKING COPIES"), std::string::npos) << show.out;
  EXPECT_EQ(show.exit_code, 0) << show.err;
}

// A site the partner's policy does not use (it names sites a and b) was listed by `show` as
// "site c: 0 ok" (and in --json's copies_by_site), as if c owed copies it never should hold:
// show lists only the sites that hold the version's copies or that the policy wants them on.
TEST_F(ShowListCliTest, ShowListsOnlyTheSitesThatHoldOrShouldHoldTheCopies) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  WriteFile(tmp_ / "policy.txt", "copies: 2 sites: \"a\" sites: \"b\"\n");
  CommandResult set = Cairn({"policy", "set", (tmp_ / "policy.txt").string(), "--partner", "acme"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  WriteFile(tmp_ / "src/a.txt", "alpha\n");
  CommandResult deposited = Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "obj"});
  ASSERT_EQ(deposited.exit_code, 0) << deposited.out << deposited.err;
  CommandResult added = Cairn({"site", "add", "c", "file://" + (tmp_ / "site-c").string()});
  ASSERT_EQ(added.exit_code, 0) << added.out << added.err;

  CommandResult text = Cairn({"show", "acme/obj"});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("  site a: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  site b: "), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("site c"), std::string::npos) << text.out;
  CommandResult json = Cairn({"show", "acme/obj", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  std::vector<std::string> sites;
  const nlohmann::json doc = nlohmann::json::parse(json.out);
  for (const nlohmann::json& s : doc["copies_by_site"]) {
    sites.push_back(s["site"]);
  }
  EXPECT_EQ(sites, (std::vector<std::string>{"a", "b"})) << json.out;

  // A copy on a site the policy does not use is still shown: c holds copies then.
  WriteFile(tmp_ / "everywhere.txt", "copies: 3\n");
  set = Cairn({"policy", "set", (tmp_ / "everywhere.txt").string(), "--partner", "acme"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  ASSERT_EQ(Cairn({"replicate"}).exit_code, 0);
  set = Cairn({"policy", "set", (tmp_ / "policy.txt").string(), "--partner", "acme"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  text = Cairn({"show", "acme/obj"});
  EXPECT_NE(text.out.find("  site c: "), std::string::npos) << text.out;
}

// The tester's finding 6: a deposit whose copies to a site were left pending (a site down,
// --no-replicate) says "site b: 0 verified, N pending" in its receipt, but `show` never showed
// a pending copy: each file listed `a:ok` alone, and copies_by_site gave b `pending: 0`, as the
// catalog records no row for a copy not made yet. The copies the policy owes a site (the sites
// PlanCopySites gives, which the replication queue reconciles against) are now shown pending,
// per file, in the summary and in --json, until replicate makes them.
TEST_F(ShowListCliTest, CopiesOwedToASiteAreShownPending) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  WriteFile(tmp_ / "src/x.txt", "x\n");
  WriteFile(tmp_ / "src/y.txt", "y\n");
  CommandResult deposit =
      Cairn({"deposit", "acme", (tmp_ / "src").string(), "--id", "sm", "--no-replicate"});
  ASSERT_EQ(deposit.exit_code, 0) << deposit.out << deposit.err;  // stored, b left to replicate

  CommandResult json = Cairn({"show", "acme/sm", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  nlohmann::json show = nlohmann::json::parse(json.out);
  uint64_t files = 0;
  for (const char* list : {"tag_files", "files"}) {
    for (const auto& f : show[list]) {
      ++files;
      ASSERT_EQ(f["copies"].size(), 2u) << f.dump();
      EXPECT_EQ(f["copies"][0], nlohmann::json({{"site", "a"}, {"state", "ok"}})) << f.dump();
      EXPECT_EQ(f["copies"][1], nlohmann::json({{"site", "b"}, {"state", "pending"}})) << f.dump();
    }
  }
  ASSERT_EQ(show["copies_by_site"].size(), 2u) << show.dump();
  EXPECT_EQ(show["copies_by_site"][1]["site"], "b");
  EXPECT_EQ(show["copies_by_site"][1]["pending"], files);
  EXPECT_EQ(show["copies_by_site"][1]["ok"], 0);
  EXPECT_EQ(show["copies_ok"], 1);

  CommandResult text = Cairn({"show", "acme/sm"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("a:ok b:pending\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("site b: 0 ok, " + std::to_string(files) + " pending\n"),
            std::string::npos)
      << text.out;

  // Made: nothing is pending any more.
  ASSERT_EQ(Cairn({"replicate"}).exit_code, 0);
  text = Cairn({"show", "acme/sm"});
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_EQ(text.out.find("pending"), std::string::npos) << text.out;
}

// Issue 15: with --json every failure is a JSON object on stdout too.
TEST_F(ShowListCliTest, UnknownObjectWithJsonPrintsAJsonError) {
  CommandResult show = Cairn({"show", "acme/nothing-here", "--json"});
  EXPECT_EQ(show.exit_code, 2) << show.out;
  nlohmann::json error = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_TRUE(error.is_object()) << show.out;
  EXPECT_EQ(error["error"]["code"], "NotFound") << show.out;
  EXPECT_NE(error["error"]["message"].get<std::string>().find("acme/nothing-here"),
            std::string::npos)
      << show.out;
  EXPECT_EQ(error["error"]["exit_code"], 2);
  CommandResult bad_flag = Cairn({"list", "--json", "--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_TRUE(nlohmann::json::parse(bad_flag.out, nullptr, false).contains("error"))
      << bad_flag.out;
}

// A whole site gone (`rm -rf sites/b`) or its folder there but empty (an unmounted share):
// `list` printed "2/2 ok" and exited 0, `show` printed b:ok for every file, and `replicate`
// said "0 jobs done", exit 0. Each now names the site that cannot be read and that its copies
// were not checked, with the way forward for a site without its marker, and exits 1.
TEST_F(ShowListCliTest, ASiteGoneOrUnmountedIsNamedByListShowAndReplicate) {
  fs::path src = MakeSourceFolder("gone");
  Deposit("acme", src.string(), "obj");
  const fs::path b = tmp_ / "repo/sites/b";
  for (const bool emptied : {false, true}) {
    SCOPED_TRACE(emptied ? "folder there, empty" : "folder gone");
    fs::remove_all(b);
    if (emptied) fs::create_directories(b);
    for (const std::vector<std::string>& verb : {std::vector<std::string>{"list"},
                                                 {"list", "--json"},
                                                 {"show", "acme/obj"},
                                                 {"show", "acme/obj", "--json"},
                                                 {"replicate"}}) {
      CommandResult r = Cairn(verb);
      EXPECT_EQ(r.exit_code, 1) << verb[0] << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("site b could not be read"), std::string::npos)
          << verb[0] << ": " << r.err;
      EXPECT_NE(r.err.find("were not checked"), std::string::npos) << verb[0] << ": " << r.err;
      if (emptied) {
        EXPECT_NE(r.err.find("cairn site resync b --init"), std::string::npos)
            << verb[0] << ": " << r.err;
      }
    }
  }
  // Made again, every verb is content once more.
  ASSERT_EQ(Cairn({"site", "resync", "b", "--init"}).exit_code, 0);
  EXPECT_EQ(Cairn({"list"}).exit_code, 0);
  EXPECT_EQ(Cairn({"show", "acme/obj"}).exit_code, 0);
  EXPECT_EQ(Cairn({"replicate"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
