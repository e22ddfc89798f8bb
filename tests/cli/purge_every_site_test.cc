// A purge removes a version's bytes from every site of the repository, whatever copies the
// catalog knows of (a catalog rebuilt from one site knows only that site's copies until
// `replicate` runs), and never a blob that a version the catalog does not know still needs.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "repo/site_layout.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PurgeEverySiteTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("yale", MakeSourceFolder("yale").string(), "box");
    ann_token_ = AddPrincipalWithToken("ann@yale", "partner-admin", "yale");
  }
  // Asks for the purge of yale/box as ann@yale and approves it as the local operator: the
  // approval's result.
  CommandResult RequestAndApprovePurge() {
    CommandResult asked = RunCairn(
        {"withdraw", "request", "yale/box", "--reason", "erase", "--purge", "--as", "ann@yale"},
        {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + ann_token_});
    EXPECT_EQ(asked.exit_code, 0) << asked.out << asked.err;
    return Cairn({"withdraw", "approve", "1"});
  }
  std::string State() {
    CommandResult list = Cairn({"withdraw", "list", "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return nlohmann::json::parse(list.out)[0]["state"];
  }
  fs::path Site(const std::string& name) { return fs::path(Root()) / "sites" / name; }
  // The names left in yale/box v1's folder on `site`.
  std::vector<std::string> LeftInVersionFolder(const std::string& site) {
    std::vector<std::string> left;
    fs::path folder = Site(site) / repo::layout::VersionPrefix("yale", "box", 1);
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      if (fs::is_regular_file(e.path())) left.push_back(fs::relative(e.path(), folder).string());
    }
    return left;
  }
  bool HasBlob(const std::string& site, const std::string& content) {
    return fs::exists(Site(site) / repo::layout::BlobKey(Sha256Of(content)));
  }
  std::string ann_token_;
};

// The tester's case: `catalog rebuild --from a --force`, then a purge: it said "purged" and
// exit 0, but site b kept the version's tag files, version.pb and blobs (no copy rows of b).
TEST_F(PurgeEverySiteTest, APurgeRightAfterARebuildFromOneSiteEmptiesEverySite) {
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  CommandResult token = Cairn({"token", "create", "ann@yale"});  // no site keeps tokens
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ann_token_ = token.out.substr(0, token.out.find('\n'));
  CommandResult approved = RequestAndApprovePurge();
  EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
  EXPECT_THAT(approved.out, HasSubstr("purged"));
  EXPECT_EQ(State(), "purged");
  const std::string unique = "alpha of yale\n";
  for (const char* site : {"a", "b"}) {
    EXPECT_EQ(LeftInVersionFolder(site), std::vector<std::string>{"WITHDRAWN"}) << site;
    EXPECT_FALSE(HasBlob(site, unique)) << site;
  }
  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_EQ(LeftInVersionFolder("a"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("a", unique));
}

// A blob the catalog finds unshared may be needed by a version the catalog does not know (a
// catalog rebuilt from a site that does not hold that version): the purge keeps it where that
// version is. (A catalog put back from a backup older than the deposit no longer
// gets this far: its withdrawals are refused while the sites' event logs run past it.)
TEST_F(PurgeEverySiteTest, ABlobOfAVersionTheCatalogDoesNotKnowIsKept) {
  // mit/box holds "c d.txt" with the same bytes as yale/box's, on site b only (mit's policy),
  // so that a catalog rebuilt from a does not know it.
  ASSERT_EQ(Cairn({"partner", "add", "mit"}).exit_code, 0);
  WriteFile(tmp_ / "mit.textpb", "copies: 1\nsites: \"b\"\n");
  ASSERT_EQ(Cairn({"policy", "set", (tmp_ / "mit.textpb").string(), "--partner", "mit"}).exit_code,
            0);
  CommandResult mit = Cairn({"deposit", "mit", MakeSourceFolder("mit").string(), "--id", "box"});
  ASSERT_EQ(mit.exit_code, 0) << mit.out << mit.err;
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  ASSERT_LE(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  CommandResult token = Cairn({"token", "create", "ann@yale"});  // no site keeps tokens
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ann_token_ = token.out.substr(0, token.out.find('\n'));
  const std::string shared = "a name with a space\n";
  ASSERT_TRUE(HasBlob("b", shared));
  CommandResult approved = RequestAndApprovePurge();
  EXPECT_LE(approved.exit_code, 1) << approved.out << approved.err;
  EXPECT_TRUE(HasBlob("b", shared)) << "mit/box v1 on b needs it";
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(HasBlob(site, "alpha of yale\n")) << site;
    EXPECT_EQ(LeftInVersionFolder(site), std::vector<std::string>{"WITHDRAWN"}) << site;
  }
  CommandResult from_b = Cairn({"catalog", "rebuild", "--from", "b", "--force"});
  ASSERT_LE(from_b.exit_code, 1) << from_b.out << from_b.err;
  CommandResult restored = Cairn({"restore", "mit/box", (tmp_ / "mit-out").string()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
}

// Case B of the tester: site b put back from a copy taken before the purge. `site resync b`
// said complete, `site check` usable, and the purged version's bytes stayed; gc kept them and
// the audit advised `catalog rebuild --from b`, which brought the content back.
TEST_F(PurgeEverySiteTest, ResyncOfASitePutBackFromBeforeThePurgeRemovesWhatItHeldOfIt) {
  const fs::path backup = tmp_ / "site-b.backup";
  fs::copy(Site("b"), backup, fs::copy_options::recursive);
  ASSERT_EQ(RequestAndApprovePurge().exit_code, 0);
  fs::remove_all(Site("b"));
  fs::copy(backup, Site("b"), fs::copy_options::recursive);
  ASSERT_TRUE(HasBlob("b", "alpha of yale\n"));

  CommandResult resynced = Cairn({"site", "resync", "b"});
  EXPECT_EQ(resynced.exit_code, 0) << resynced.out << resynced.err;
  EXPECT_THAT(resynced.out, HasSubstr("leftover of a purge removed: site b: yale/box@v1"));
  EXPECT_EQ(LeftInVersionFolder("b"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("b", "alpha of yale\n"));
  EXPECT_FALSE(HasBlob("b", "a name with a space\n"));
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  CommandResult events = Cairn({"events", "--type", "deletion"});
  EXPECT_THAT(events.out, HasSubstr("still held of the purged version"));
}

// Without a resync, `withdraw run` removes them; before it, gc and the audit name them as what
// is left of a purge and never advise the rebuild that would bring them back.
TEST_F(PurgeEverySiteTest, WhatASitePutBackHoldsOfAPurgeIsNamedSoAndWithdrawRunRemovesIt) {
  const fs::path backup = tmp_ / "site-b.backup";
  fs::copy(Site("b"), backup, fs::copy_options::recursive);
  ASSERT_EQ(RequestAndApprovePurge().exit_code, 0);
  fs::remove_all(Site("b"));
  fs::copy(backup, Site("b"), fs::copy_options::recursive);

  CommandResult gc = Cairn({"gc", "--grace", "0"});
  EXPECT_THAT(gc.out + gc.err, HasSubstr("withdraw run"));
  EXPECT_THAT(gc.out + gc.err, Not(HasSubstr("not in the catalog: its blobs are kept")));
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("left of a purge"));
  EXPECT_THAT(audit.out, Not(HasSubstr("rebuild --from b")));
  // The summary counts them as what they are, not as versions the catalog lost, and advises
  // `withdraw run`, never a rebuild.
  EXPECT_THAT(audit.out, Not(HasSubstr("UNCATALOGED")));
  EXPECT_THAT(audit.out, Not(HasSubstr("catalog rebuild")));
  EXPECT_THAT(audit.out, Not(HasSubstr("of versions on sites that the catalog does not list")));
  EXPECT_THAT(audit.out, HasSubstr("left of a purge on site b"));
  EXPECT_THAT(audit.out, HasSubstr("`cairn withdraw run` removes them"));
  CommandResult json = Cairn({"audit", "run", "--all", "--orphans", "--json"});
  nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["uncataloged"], 0) << json.out;
  EXPECT_GT(report["left_of_purge"].get<int>(), 0) << json.out;

  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("leftover of a purge removed: site b: yale/box@v1"));
  EXPECT_EQ(LeftInVersionFolder("b"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("b", "alpha of yale\n"));
  CommandResult again = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

// The tester's end of case B: `catalog rebuild --from b --force` from the site put back read the
// version as merely withdrawn, and `replicate` copied the purged content back to site a.
TEST_F(PurgeEverySiteTest, ARebuildFromASitePutBackKeepsThePurgeAndCopiesNothingBack) {
  const fs::path backup = tmp_ / "site-b.backup";
  fs::copy(Site("b"), backup, fs::copy_options::recursive);
  ASSERT_EQ(RequestAndApprovePurge().exit_code, 0);
  fs::remove_all(Site("b"));
  fs::copy(backup, Site("b"), fs::copy_options::recursive);
  // The tombstone b lacks (written before, as `site resync` or `withdraw run` would).
  fs::copy_file(Site("a") / repo::layout::TombstoneKey("yale", "box", 1),
                Site("b") / repo::layout::TombstoneKey("yale", "box", 1));

  CommandResult from_a = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  EXPECT_EQ(from_a.exit_code, 0) << from_a.out << from_a.err;
  EXPECT_THAT(from_a.out + from_a.err, Not(HasSubstr("--from b")));
  CommandResult from_b = Cairn({"catalog", "rebuild", "--from", "b", "--force"});
  EXPECT_EQ(from_b.exit_code, 1) << from_b.out << from_b.err;
  EXPECT_THAT(from_b.out + from_b.err, HasSubstr("stays purged"));
  EXPECT_NE(State(), "withdrawn");
  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_EQ(LeftInVersionFolder("a"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("a", "alpha of yale\n"));
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(State(), "purged");
  EXPECT_EQ(LeftInVersionFolder("b"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("b", "alpha of yale\n"));
}

// The same before b got its tombstone back (no resync, no `withdraw run` yet): b alone says the
// version is whole, but site a's tombstone says it was purged.
TEST_F(PurgeEverySiteTest, ARebuildFromASitePutBackWithoutTheTombstoneKeepsThePurge) {
  const fs::path backup = tmp_ / "site-b.backup";
  fs::copy(Site("b"), backup, fs::copy_options::recursive);
  ASSERT_EQ(RequestAndApprovePurge().exit_code, 0);
  fs::remove_all(Site("b"));
  fs::copy(backup, Site("b"), fs::copy_options::recursive);

  CommandResult from_b = Cairn({"catalog", "rebuild", "--from", "b", "--force"});
  EXPECT_EQ(from_b.exit_code, 1) << from_b.out << from_b.err;
  EXPECT_THAT(from_b.out + from_b.err, HasSubstr("stays purged"));
  CommandResult restored = Cairn({"restore", "yale/box", (tmp_ / "out").string()});
  EXPECT_NE(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
  CommandResult replicated = Cairn({"replicate"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_EQ(LeftInVersionFolder("a"), std::vector<std::string>{"WITHDRAWN"});
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(State(), "purged");
  EXPECT_EQ(LeftInVersionFolder("b"), std::vector<std::string>{"WITHDRAWN"});
  EXPECT_FALSE(HasBlob("b", "alpha of yale\n"));
}

}  // namespace
}  // namespace cairn::testing
