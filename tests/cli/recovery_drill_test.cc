// The disaster-recovery drill on the real binary (issue 15): three sites and a
// policy of three copies; the catalog and two of the three sites are lost;
// the catalog is rebuilt from the survivor and the steps the rebuild prints
// are followed. At the end every object is at its policy's copies again, on
// the sites it was on, its bags byte-identical, and the settings are back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "tests/util/assert_ok.h"
#include "tests/util/catalog_fixture.h"
#include "tests/util/library_deposits.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class RecoveryDrillTest : public RepoFixture {
 protected:
  fs::path SiteDir(const std::string& name) {
    return name == "c" ? tmp_ / "site-c" : tmp_ / "repo" / "sites" / name;
  }

  // Site c (region eu) beside a and b; policy copies: 3; two objects.
  void ThreeSitesThreeCopies() {
    CommandResult add =
        Cairn({"site", "add", "c", repo::FileUrl(SiteDir("c").string()), "--region", "eu"});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    WriteFile(tmp_ / "three.policy", "copies: 3\n");
    CommandResult set = Cairn({"policy", "set", (tmp_ / "three.policy").string()});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    sources_ = {{"acme/photos", MakeSourceFolder("photos")},
                {"zeta/letters", MakeSourceFolder("letters")}};
    Deposit("acme", sources_[0].second.string(), "photos");
    Deposit("zeta", sources_[1].second.string(), "letters");
    CommandResult replicate = Cairn({"replicate", "--wait"});
    ASSERT_EQ(replicate.exit_code, 0) << replicate.out << replicate.err;
    ExpectEveryObjectAtItsCopies(3);
    for (const auto& [ref, src] : sources_) before_[ref] = RestoreBag(ref, "c", "before");
  }

  // `cairn list --json`: every object has the copies its policy wants (`copies` of them).
  void ExpectEveryObjectAtItsCopies(int copies) {
    CommandResult list = Cairn({"list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.out << list.err;
    auto j = nlohmann::json::parse(list.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << list.out;
    if (j.is_object() && j.contains("objects")) j = j["objects"];
    ASSERT_EQ(j.size(), sources_.size()) << list.out;
    for (const auto& o : j) {
      EXPECT_TRUE(o["has_wanted_copies"].get<bool>()) << o.dump();
      EXPECT_EQ(o["copies_wanted"].get<int>(), copies) << o.dump();
      EXPECT_GE(o["copies_ok"].get<int>(), copies) << o.dump();
    }
  }

  // The whole bag of `ref` restored from `site` alone: relative path -> bytes.
  std::map<std::string, std::string> RestoreBag(const std::string& ref, const std::string& site,
                                                const std::string& tag) {
    fs::path dest = tmp_ / ("restored-" + tag + "-" + site + "-" + ref.substr(0, ref.find('/')));
    CommandResult r = Cairn({"restore", ref, dest.string(), "--site", site});
    EXPECT_EQ(r.exit_code, 0) << ref << " from " << site << ": " << r.out << r.err;
    return ReadTree(dest);
  }

  void LoseCatalog() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  }

  // The line of `out` that starts with "next:".
  static std::string NextLine(const std::string& out) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("next:")) return line;
    }
    return "";
  }

  // Every object restores from every site, byte-identical to what it was.
  void ExpectBagsIdenticalOnEverySite(const std::string& tag) {
    for (const auto& [ref, src] : sources_) {
      for (const char* site : {"a", "b", "c"}) {
        auto bag = RestoreBag(ref, site, tag);
        EXPECT_EQ(bag, before_[ref]) << ref << " restored from site " << site;
        EXPECT_EQ(ReadTree(fs::path(tmp_ / ("restored-" + tag + "-" + site + "-" +
                                            ref.substr(0, ref.find('/')))) /
                           "data"),
                  ReadTree(src))
            << ref << " payload from site " << site;
      }
    }
    EXPECT_EQ(testing::CheckBlobFiles(SiteDir("a")), testing::CheckBlobFiles(SiteDir("c")));
    EXPECT_EQ(testing::CheckBlobFiles(SiteDir("b")), testing::CheckBlobFiles(SiteDir("c")));
  }

  std::vector<std::pair<std::string, fs::path>> sources_;
  std::map<std::string, std::map<std::string, std::string>> before_;
};

// The full drill: the settings kept on site c name sites a and b, so the
// rebuild knows them; the printed step is to check them, resync the lost
// ones, and replicate.
TEST_F(RecoveryDrillTest, CatalogAndTwoOfThreeSitesLostFollowingThePrintedSteps) {
  ThreeSitesThreeCopies();
  LoseCatalog();
  fs::remove_all(SiteDir("a"));
  fs::remove_all(SiteDir("b"));

  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(SiteDir("c").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  const std::string next = NextLine(rebuilt.out);
  ASSERT_THAT(next, HasSubstr("cairn site check NAME: a b")) << rebuilt.out;
  ASSERT_THAT(next, HasSubstr("cairn site resync NAME --init"));
  ASSERT_THAT(next, HasSubstr("cairn replicate --wait"));
  for (const char* site : {"a", "b"}) {
    CommandResult check = Cairn({"site", "check", site});
    EXPECT_EQ(check.exit_code, 1) << site << " is gone: " << check.out;
    CommandResult resync = Cairn({"site", "resync", site, "--init"});
    ASSERT_EQ(resync.exit_code, 0) << site << ": " << resync.out << resync.err;
  }
  CommandResult replicate = Cairn({"replicate", "--wait"});
  ASSERT_EQ(replicate.exit_code, 0) << replicate.out << replicate.err;
  ExpectEveryObjectAtItsCopies(3);
  ExpectBagsIdenticalOnEverySite("after");
  // Nothing more to do: a second replicate queues nothing.
  CommandResult again = Cairn({"replicate", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  auto j = nlohmann::json::parse(again.out);
  EXPECT_EQ(j["copies_lacking_before"], 0);
  EXPECT_EQ(j["jobs_done"], 0);
}

// A survivor written before settings were kept (no settings/ on it): the
// rebuild knows no other site; the printed step is to add them again (new
// empty folders) and replicate. `site add` and `replicate` queue the copies
// themselves (they used to leave every object LACKING COPIES: only `policy
// set` queued them).
TEST_F(RecoveryDrillTest, SitesAddedBackEmptyGetTheirCopiesFromReplicateAlone) {
  ThreeSitesThreeCopies();
  LoseCatalog();
  fs::remove_all(SiteDir("a"));
  fs::remove_all(SiteDir("b"));
  fs::remove_all(SiteDir("c") / "settings");

  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(SiteDir("c").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  const std::string next = NextLine(rebuilt.out);
  ASSERT_THAT(next, HasSubstr("cairn site add NAME URL")) << rebuilt.out;
  ASSERT_THAT(next, HasSubstr("cairn replicate"));
  for (const char* site : {"a", "b"}) {
    fs::create_directories(SiteDir(site));  // a new, empty folder
    CommandResult add = Cairn({"site", "add", site, repo::FileUrl(SiteDir(site).string())});
    ASSERT_EQ(add.exit_code, 0) << site << ": " << add.out << add.err;
  }
  CommandResult replicate = Cairn({"replicate", "--wait"});
  ASSERT_EQ(replicate.exit_code, 0) << replicate.out << replicate.err;
  // The policy kept nowhere: the rebuild's default, copies: 2, on a and b.
  ExpectEveryObjectAtItsCopies(2);
  ExpectBagsIdenticalOnEverySite("after");
}

// The daemon reconciles every round: a site added back is filled by the
// next round with no other command.
TEST_F(RecoveryDrillTest, DaemonRoundQueuesAndMakesTheLackingCopies) {
  ThreeSitesThreeCopies();
  LoseCatalog();
  fs::remove_all(SiteDir("a"));
  fs::remove_all(SiteDir("b"));
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(SiteDir("c").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  for (const char* site : {"a", "b"}) {
    ASSERT_EQ(Cairn({"site", "resync", site, "--init"}).exit_code, 0) << site;
  }
  // Jobs queued by the rebuild are taken away: the daemon must find the lack itself.
  {
    auto catalog = repo::Catalog::Open(Root() + "/catalog.db");
    ASSERT_OK(catalog);
    ASSERT_OK(repo::CatalogTestAccess::Db(**catalog).Exec("DELETE FROM jobs"));
  }
  CommandResult round = Cairn({"daemon", "--once"});
  ASSERT_EQ(round.exit_code, 0) << round.out << round.err;
  ExpectEveryObjectAtItsCopies(3);
}

// Settings survive the loss of the catalog: a partner's name and its own
// policy (copies: 3, where the default says 2), the default policy's own
// text, an audit schedule, a site's region.
TEST_F(RecoveryDrillTest, SettingsComeBackWithARebuild) {
  CommandResult add =
      Cairn({"site", "add", "c", repo::FileUrl(SiteDir("c").string()), "--region", "eu"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_EQ(Cairn({"partner", "add", "acme", "--name", "Acme Museum of Art"}).exit_code, 0);
  WriteFile(tmp_ / "three.policy", "# acme pays for three\ncopies: 3\n");
  WriteFile(tmp_ / "default.policy", "# the consortium's default\ncopies: 2\n");
  ASSERT_EQ(
      Cairn({"policy", "set", (tmp_ / "three.policy").string(), "--partner", "acme"}).exit_code, 0);
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "default.policy").string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"audit", "schedule", "add", "nightly", "--every", "1d", "--site", "c",
                   "--sample", "5%", "--all"})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"audit", "schedule", "add", "gone", "--every", "7d"}).exit_code, 0);
  ASSERT_EQ(Cairn({"audit", "schedule", "remove", "gone"}).exit_code, 0);
  sources_ = {{"acme/photos", MakeSourceFolder("photos")}};
  CommandResult deposit = Cairn({"deposit", "acme", sources_[0].second.string(), "--id", "photos"});
  ASSERT_EQ(deposit.exit_code, 0) << deposit.out << deposit.err;

  auto partners_before = nlohmann::json::parse(Cairn({"partner", "list", "--json"}).out);
  auto sites_before = nlohmann::json::parse(Cairn({"site", "list", "--json"}).out);
  auto schedules_before = nlohmann::json::parse(Cairn({"audit", "schedule", "list", "--json"}).out);
  const std::string acme_policy = Cairn({"policy", "show", "--partner", "acme"}).out;
  const std::string default_policy = Cairn({"policy", "show"}).out;
  ASSERT_THAT(acme_policy, HasSubstr("copies: 3"));

  LoseCatalog();
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(SiteDir("a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  // The report names what it restored.
  EXPECT_THAT(rebuilt.out, HasSubstr("partner acme (Acme Museum of Art)"));
  EXPECT_THAT(rebuilt.out, HasSubstr("policy of partner acme"));
  EXPECT_THAT(rebuilt.out, HasSubstr("default policy"));
  EXPECT_THAT(rebuilt.out, HasSubstr("schedule nightly"));
  EXPECT_THAT(rebuilt.out, HasSubstr("site c (region eu)"));
  EXPECT_THAT(rebuilt.out, ::testing::Not(HasSubstr("schedule gone")));

  EXPECT_EQ(nlohmann::json::parse(Cairn({"partner", "list", "--json"}).out), partners_before);
  EXPECT_EQ(nlohmann::json::parse(Cairn({"site", "list", "--json"}).out), sites_before);
  auto schedules = nlohmann::json::parse(Cairn({"audit", "schedule", "list", "--json"}).out);
  ASSERT_EQ(schedules.size(), 1u) << schedules.dump();
  for (const char* field :
       {"name", "every", "site", "partner", "sample", "mode", "rate_bytes_per_sec"})
    EXPECT_EQ(schedules[0][field], schedules_before[0][field]) << field;
  // The policy texts (not the times they were set) are back.
  auto body = [](const std::string& shown) { return shown.substr(shown.find('\n') + 1); };
  EXPECT_EQ(body(Cairn({"policy", "show", "--partner", "acme"}).out), body(acme_policy));
  EXPECT_EQ(body(Cairn({"policy", "show"}).out), body(default_policy));
  // And acme's objects are held to its own policy: three copies.
  CommandResult list = Cairn({"list", "--json"});
  EXPECT_THAT(list.out, HasSubstr("\"copies_wanted\": 3")) << list.out;
}

}  // namespace
}  // namespace cairn::testing
