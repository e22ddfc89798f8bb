// `cairn site remove NAME [--dry-run] [--force]`: a site added by mistake, whose folder is then
// gone, made `list`, `replicate` and the daemon exit 1 for ever (there was no way to take a site
// out but to make its folder again). Driven through the real binary on real folders: the
// journey, the refusals that keep a last good copy and a policy's sites, the dry run, and a site
// added again under the same name.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SiteRemoveTest : public RepoFixture {
 protected:
  // Adds posix site `name` at tmp/places/`name` (its parent made first, as a mounted share's).
  fs::path AddSite(const std::string& name) {
    fs::path place = tmp_ / "places" / name;
    fs::create_directories(place.parent_path());
    CommandResult added = Cairn({"site", "add", name, "file://" + place.string()});
    EXPECT_EQ(added.exit_code, 0) << added.out << added.err;
    return place;
  }

  std::string SiteList() { return Cairn({"site", "list"}).out; }

  // A policy file with `text`, for `cairn policy set`.
  std::string PolicyFile(const std::string& name, const std::string& text) {
    fs::path file = tmp_ / (name + ".textpb");
    WriteFile(file, text);
    return file.string();
  }

  // Site c (at tmp/places/c) holding a third copy of acme/maps@v1, the default policy then set
  // back to two copies, so that no policy needs c.
  fs::path SiteCWithAThirdCopy() {
    fs::path place = AddSite("c");
    Deposit("acme", MakeSourceFolder("maps").string(), "maps");
    EXPECT_EQ(Cairn({"policy", "set", PolicyFile("three", "copies: 3\n")}).exit_code, 0);
    EXPECT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
    EXPECT_EQ(Cairn({"policy", "set", PolicyFile("two", "copies: 2\n")}).exit_code, 0);
    return place;
  }

  // Withdrawal 1: the purge of acme/maps@v1, requested by the principal of `token`.
  void RequestPurgeOfMaps(const std::string& token) {
    CommandResult asked = RunCairn(
        {"withdraw", "request", "acme/maps@v1", "--reason", "donor", "--purge", "--as", "ann"},
        {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + token});
    ASSERT_EQ(asked.exit_code, 0) << asked.out << asked.err;
  }
};

// The tester's journey: a site added by mistake, its folder then gone. Before `site remove`
// existed, `list` exited 1 for ever (the first part below shows it); now the site goes, and
// `list`, `replicate` and `daemon --once` exit 0 again.
TEST_F(SiteRemoveTest, ASiteAddedByMistakeWhoseFolderIsGoneIsRemovedAndVerbsExitZero) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  fs::path wrong = AddSite("typo");
  fs::remove_all(wrong);
  Deposit("acme", MakeSourceFolder("letters").string(), "letters");
  CommandResult before = Cairn({"list"});
  EXPECT_EQ(before.exit_code, 1) << before.out << before.err;
  // ... and said to make the folder again, or now, to take the site out.
  EXPECT_THAT(before.err, HasSubstr("`cairn site remove typo` takes it out"));

  CommandResult removed = Cairn({"site", "remove", "typo"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_THAT(removed.out, HasSubstr("removed site typo"));
  EXPECT_THAT(removed.out, HasSubstr("the files on typo were left as they are"));
  EXPECT_THAT(SiteList(), Not(HasSubstr("typo")));

  for (const std::vector<std::string>& verb : {std::vector<std::string>{"list"},
                                               {"replicate"},
                                               {"daemon", "--once"},
                                               {"events", "verify"}}) {
    CommandResult r = Cairn(verb);
    EXPECT_EQ(r.exit_code, 0) << verb[0] << ": " << r.out << r.err;
    EXPECT_THAT(r.out + r.err, Not(HasSubstr("typo"))) << verb[0];
  }
  CommandResult show = Cairn({"show", "acme/maps"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
  EXPECT_THAT(show.out, Not(HasSubstr("typo")));
  // The removal is an event naming the site and who removed it, in the remaining sites' logs.
  CommandResult events = Cairn({"events", "--type", "deletion", "--format", "json"});
  EXPECT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("site typo"));
  EXPECT_THAT(events.out, HasSubstr("local:"));
  CommandResult checked = Cairn({"site", "check", "b"});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
}

// A site holding the only verified copy of a version's files is not removed, --force or not:
// exit 2, the count and an example named, the way forward said, nothing changed; once the copies
// are made elsewhere the same command removes it, its files left on its folder.
TEST_F(SiteRemoveTest, RefusesToRemoveTheLastGoodCopyEvenWithForce) {
  AddSite("c");
  Cairn({"partner", "add", "acme"});
  CommandResult deposit = Cairn(
      {"deposit", "acme", MakeSourceFolder("maps").string(), "--id", "maps", "--no-replicate"});
  ASSERT_NE(deposit.exit_code, 2) << deposit.out << deposit.err;
  const std::string catalog_before = ReadFile(tmp_ / "repo/catalog.db");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"site", "remove", "a"},
                                               {"site", "remove", "a", "--force"},
                                               {"site", "remove", "a", "--dry-run"}}) {
    CommandResult refused = Cairn(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("site a holds the last good copy of"));
    EXPECT_THAT(refused.err, HasSubstr("acme/maps@v1 "));
    EXPECT_THAT(refused.err, HasSubstr("cairn replicate"));
    EXPECT_THAT(refused.err, HasSubstr("site a was not removed"));
  }
  EXPECT_THAT(SiteList(), HasSubstr("a "));
  CommandResult show = Cairn({"show", "acme/maps"});
  EXPECT_THAT(show.out, HasSubstr(" a:ok"));

  ASSERT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
  CommandResult removed = Cairn({"site", "remove", "a"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/a/CAIRN-SITE"));
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/a/blobs"));
  // Site c now owes the second copy: queued by the removal, made by the replication.
  EXPECT_THAT(removed.out, HasSubstr("next: cairn replicate --wait"));
  ASSERT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  CommandResult restored = Cairn({"restore", "acme/maps", (tmp_ / "out").string()});
  EXPECT_EQ(restored.exit_code, 0) << restored.out << restored.err;
}

// A policy that names the site, or needs more sites than would remain, keeps it: exit 2 naming
// the policy and `cairn policy set`.
TEST_F(SiteRemoveTest, RefusesWhileAPolicyNamesTheSiteOrNeedsIt) {
  AddSite("c");
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  ASSERT_EQ(Cairn({"policy", "set", PolicyFile("ac", "copies: 2 sites: \"a\" sites: \"c\"\n"),
                   "--partner", "acme"})
                .exit_code,
            0);
  CommandResult named = Cairn({"site", "remove", "c"});
  EXPECT_EQ(named.exit_code, 2) << named.out << named.err;
  EXPECT_THAT(named.err, HasSubstr("the policy of partner acme names site c"));
  EXPECT_THAT(named.err, HasSubstr("cairn policy set FILE --partner acme"));
  EXPECT_THAT(SiteList(), HasSubstr("c "));

  ASSERT_EQ(Cairn({"policy", "set", PolicyFile("three", "copies: 3\n")}).exit_code, 0);
  CommandResult needed = Cairn({"site", "remove", "b"});
  EXPECT_EQ(needed.exit_code, 2) << needed.out << needed.err;
  EXPECT_THAT(needed.err, HasSubstr("without site b, the default policy: copies: 3"));
  EXPECT_THAT(needed.err, HasSubstr("cairn policy set FILE`"));
  EXPECT_THAT(SiteList(), HasSubstr("b "));
}

// An audit schedule of the site alone would fail at every daemon round once the site is out
// ("schedule wk: no site named c", exit 1): refused, naming the schedule and its removal.
TEST_F(SiteRemoveTest, RefusesWhileAnAuditScheduleChecksTheSite) {
  AddSite("c");
  ASSERT_EQ(Cairn({"audit", "schedule", "add", "wk", "--every", "1w", "--site", "c"}).exit_code, 0);
  CommandResult refused = Cairn({"site", "remove", "c"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("audit schedule wk checks site c"));
  EXPECT_THAT(refused.err, HasSubstr("`cairn audit schedule remove wk` first"));
  EXPECT_THAT(SiteList(), HasSubstr("c "));
  ASSERT_EQ(Cairn({"audit", "schedule", "remove", "wk"}).exit_code, 0);
  ASSERT_EQ(Cairn({"site", "remove", "c"}).exit_code, 0);
  CommandResult daemon = Cairn({"daemon", "--once"});
  EXPECT_EQ(daemon.exit_code, 0) << daemon.out << daemon.err;
}

// A purge approved while site c was down waits for c; taking c out would let it finish on the
// other sites alone, the withdrawn bytes left on c's files. Refused (exit 2, naming the withdrawal
// and `cairn withdraw run`) unless --force, which says what stays.
TEST_F(SiteRemoveTest, AnUnfinishedPurgeKeepsTheSiteUnlessForced) {
  const fs::path place = SiteCWithAThirdCopy();
  const std::string ann = AddPrincipalWithToken("ann", "operator", "");
  const std::string bob = AddPrincipalWithToken("bob", "operator", "");
  fs::rename(place, tmp_ / "c-away");  // its disk pulled
  RequestPurgeOfMaps(ann);
  CommandResult approved = RunCairn({"withdraw", "approve", "1", "--as", "bob"},
                                    {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + bob});
  ASSERT_NE(approved.exit_code, 2) << approved.out << approved.err;

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"site", "remove", "c"}, {"site", "remove", "c", "--dry-run"}}) {
    CommandResult refused = Cairn(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_THAT(refused.err,
                HasSubstr("purge that has not finished (withdrawal 1 of acme/maps@v1"));
    EXPECT_THAT(refused.err, HasSubstr("`cairn withdraw run` first once it is back"));
    EXPECT_THAT(refused.err, HasSubstr("--force"));
  }
  EXPECT_THAT(SiteList(), HasSubstr("c "));
  CommandResult forced = Cairn({"site", "remove", "c", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_THAT(forced.out, HasSubstr("withdrawal 1 of acme/maps@v1 (withdrawn) has not finished"));
  EXPECT_THAT(SiteList(), Not(HasSubstr("c ")));
}

// A purge requested but not approved yet: approved once site c is out, `withdraw run` would
// purge the version from a and b only, its bytes left on c's files with nothing saying so (the
// removal let it through, exit 0). Refused as an approved one is (exit 2, naming the request,
// what to do and --force); --force lets c go and names the request and c's folder.
TEST_F(SiteRemoveTest, APurgeRequestNotApprovedYetKeepsTheSiteUnlessForced) {
  const fs::path place = SiteCWithAThirdCopy();
  const std::string ann = AddPrincipalWithToken("ann", "operator", "");
  const std::string bob = AddPrincipalWithToken("bob", "operator", "");
  RequestPurgeOfMaps(ann);

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"site", "remove", "c"}, {"site", "remove", "c", "--dry-run"}}) {
    CommandResult refused = Cairn(args);
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("withdrawal 1 of acme/maps@v1 (requested)"));
    EXPECT_THAT(refused.err, HasSubstr("`cairn withdraw approve 1`"));
    EXPECT_THAT(refused.err, HasSubstr("`cairn withdraw cancel 1`"));
    EXPECT_THAT(refused.err, HasSubstr("--force"));
    EXPECT_THAT(refused.err, HasSubstr("site c was not removed"));
  }
  EXPECT_THAT(SiteList(), HasSubstr("c "));

  CommandResult forced = Cairn({"site", "remove", "c", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_THAT(forced.out, HasSubstr("withdrawal 1 of acme/maps@v1 (requested) has not finished"));
  EXPECT_THAT(forced.out, HasSubstr(place.string()));
  // Approved and run afterwards: a and b purged; c's files keep the bytes, as the removal said.
  CommandResult approved = RunCairn({"withdraw", "approve", "1", "--as", "bob"},
                                    {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + bob});
  ASSERT_NE(approved.exit_code, 2) << approved.out << approved.err;
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_NE(run.exit_code, 2) << run.out << run.err;
  EXPECT_THAT(run.out + run.err, Not(HasSubstr("site c")));
  EXPECT_TRUE(fs::exists(place / "bags/acme/maps/v1"));
}

// An audit found c's copy corrupt while the good copies' sites were away, so it stayed
// unrepaired: `audit report` exited 1 for it. Once c was out, that finding stayed open for a site
// that no longer exists, and the report exited 1 for ever. The removal closes the site's open
// findings in its transaction; the report names them closed ("site removed") and exits 0.
TEST_F(SiteRemoveTest, TheRemovedSitesOpenAuditFindingsAreClosed) {
  const fs::path place = SiteCWithAThirdCopy();
  fs::path rotten;
  for (const auto& e : fs::recursive_directory_iterator(place / "blobs")) {
    if (fs::is_regular_file(e.path())) rotten = e.path();
  }
  ASSERT_FALSE(rotten.empty());
  fs::permissions(rotten, fs::perms::add_perms | fs::perms::owner_write);
  WriteFile(rotten, "rot");
  const fs::path sites = tmp_ / "repo/sites";
  fs::rename(sites / "a", tmp_ / "a-away");
  fs::rename(sites / "b", tmp_ / "b-away");
  CommandResult audited = Cairn({"audit", "run", "--site", "c", "--all"});
  EXPECT_EQ(audited.exit_code, 1) << audited.out << audited.err;
  fs::rename(tmp_ / "a-away", sites / "a");
  fs::rename(tmp_ / "b-away", sites / "b");
  CommandResult before = Cairn({"audit", "report"});
  EXPECT_EQ(before.exit_code, 1) << before.out << before.err;
  EXPECT_THAT(before.out, HasSubstr("corrupt: acme/maps@v1"));

  CommandResult removed = Cairn({"site", "remove", "c"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_THAT(removed.out, HasSubstr("1 open audit finding(s) of it closed (site removed)"));
  CommandResult after = Cairn({"audit", "report"});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_THAT(after.out, HasSubstr("on site c (sha256 "));
  EXPECT_THAT(after.out, HasSubstr(": CLOSED (site removed): "));
  EXPECT_THAT(after.out, HasSubstr("site c: "));
  CommandResult json = Cairn({"audit", "report", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.out << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"closed\": \"site removed\""));
  CommandResult daemon = Cairn({"daemon", "--once"});
  EXPECT_EQ(daemon.exit_code, 0) << daemon.out << daemon.err;
}

// Killed (cairn-testing's CAIRN_CRASH_AT) right after the removal's catalog commit, or after the
// remaining sites' settings were written but before its event reached their logs: the catalog
// no longer has the site, and the next command finishes what the killed one left (the rerun of
// the same command, which says the site is not there, or a daemon round), so that a catalog
// rebuilt from site b does not bring it back and holds its deletion event.
TEST_F(SiteRemoveTest, AKillInsideTheRemovalIsFinishedByTheNextCommand) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  const std::vector<std::pair<std::string, std::vector<std::string>>> kills = {
      {"site.remove.committed", {"site", "remove", "c"}},
      {"site.remove.settings-written", {"daemon", "--once"}}};
  size_t removals = 0;
  for (const auto& [point, next] : kills) {
    SCOPED_TRACE(point);
    ++removals;
    AddSite("c");
    CommandResult killed = RunCairn({"site", "remove", "c"},
                                    {"CAIRN_REPO=" + Root(), "CAIRN_CRASH_AT=" + point + ":1"});
    ASSERT_EQ(killed.exit_code, -1) << killed.out << killed.err;
    EXPECT_THAT(SiteList(), Not(HasSubstr("c ")));
    CommandResult finished = Cairn(next);
    if (next[0] == "site") {
      EXPECT_EQ(finished.exit_code, 2) << finished.out << finished.err;
      EXPECT_THAT(finished.err, HasSubstr("no site named c"));
    } else {
      EXPECT_EQ(finished.exit_code, 0) << finished.out << finished.err;
    }
    const fs::path into = tmp_ / ("rebuilt-" + point);
    const std::string sites = SitesRebuiltFrom("b", into);
    EXPECT_THAT(sites, HasSubstr("a "));
    EXPECT_THAT(sites, Not(HasSubstr("c ")));
    CommandResult events =
        RunCairn({"events", "--type", "deletion", "--format", "json", "--repo", into.string()});
    size_t found = 0;
    for (size_t at = events.out.find("site c ("); at != std::string::npos;
         at = events.out.find("site c (", at + 1)) {
      ++found;
    }
    EXPECT_EQ(found, removals) << events.out << events.err;
  }
}

// --dry-run says what would happen and changes nothing.
TEST_F(SiteRemoveTest, DryRunChangesNothing) {
  Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  fs::path wrong = AddSite("typo");
  fs::remove_all(wrong);
  CommandResult dry = Cairn({"site", "remove", "typo", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would remove site typo"));
  EXPECT_THAT(dry.out, HasSubstr("cannot be opened"));
  EXPECT_THAT(dry.out, HasSubstr("dry run: nothing changed"));
  EXPECT_THAT(SiteList(), HasSubstr("typo"));
  EXPECT_EQ(Cairn({"list"}).exit_code, 1);
  CommandResult unknown = Cairn({"site", "remove", "nosuch", "--dry-run"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no site named nosuch"));
}

// A site removed, then added again under its name (its old folder, still marked, taken back): a
// new site whose copies the replication makes (and verifies) again. A catalog rebuilt from a
// remaining site does not bring the removed site back.
TEST_F(SiteRemoveTest, ASiteAddedAgainIsANewSiteAndARebuildDoesNotBringItBack) {
  const fs::path place = SiteCWithAThirdCopy();
  CommandResult removed = Cairn({"site", "remove", "c"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_THAT(Cairn({"show", "acme/maps"}).out, Not(HasSubstr(" c:")));

  // Rebuilt from site a: sites a and b only.
  const std::string sites = SitesRebuiltFrom("a", tmp_ / "rebuilt");
  EXPECT_THAT(sites, HasSubstr("b "));
  EXPECT_THAT(sites, Not(HasSubstr("c ")));

  // Added again, at its old place: taken back, its copies made again by the replication.
  CommandResult again = Cairn({"site", "add", "c", "file://" + place.string()});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  ASSERT_EQ(Cairn({"policy", "set", PolicyFile("three", "copies: 3\n")}).exit_code, 0);
  CommandResult replicated = Cairn({"replicate", "--wait"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  CommandResult list = Cairn({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_THAT(Cairn({"show", "acme/maps"}).out, HasSubstr(" c:ok"));
}

}  // namespace
}  // namespace cairn::testing
