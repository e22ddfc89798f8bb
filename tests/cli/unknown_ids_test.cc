// Issue 15: an unknown partner, object, version or site is an error (exit 2,
// could not run) naming what was not found, in every verb that looks one up,
// never an empty success. Verbs that already did (show, restore, list, policy
// show, gc/site --site, audit run --partner, schedule add) are held to it here
// too, so that none slides back.
#include <gmock/gmock.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class UnknownIdsTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("acme", MakeSourceFolder("maps").string(), "maps");
  }

  // `args` exits 2 and names `what` on stderr; with --json (when the verb
  // offers it) the error is a JSON object on stdout.
  void ExpectNotFound(const std::vector<std::string>& args, const std::string& what) {
    std::string shown;
    for (const std::string& a : args) shown += a + " ";
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(what)) << shown;
    EXPECT_THAT(r.err, HasSubstr("NotFound")) << shown << r.err;
  }
};

TEST_F(UnknownIdsTest, EventsOfAnUnknownPartnerObjectOrVersionExitTwo) {
  ExpectNotFound({"events", "acme/nope"}, "acme/nope");
  ExpectNotFound({"events", "acme/maps@v9"}, "acme/maps@v9");
  ExpectNotFound({"events", "zz"}, "partner zz");
  ExpectNotFound({"events", "zz/maps"}, "partner zz");
  CommandResult json = Cairn({"events", "acme/maps@v9", "--json"});
  EXPECT_EQ(json.exit_code, 2);
  auto err = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(err.is_discarded()) << json.out;
  EXPECT_EQ(err["error"]["code"], "NotFound");

  // Known ones still list their events; @vN only that version's.
  CommandResult v1 = Cairn({"events", "acme/maps@v1", "--json"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  auto events = nlohmann::json::parse(v1.out);
  ASSERT_FALSE(events.empty());
  Deposit("acme", MakeSourceFolder("maps2").string(), "maps");
  CommandResult only_v2 = Cairn({"events", "acme/maps@v2", "--json"});
  ASSERT_EQ(only_v2.exit_code, 0) << only_v2.err;
  for (const auto& e : nlohmann::json::parse(only_v2.out)) {
    EXPECT_EQ(e.dump().find("\"version\":1,"), std::string::npos) << e.dump();
  }
  EXPECT_EQ(Cairn({"events", "acme"}).exit_code, 0);
  EXPECT_EQ(Cairn({"events", "acme/maps"}).exit_code, 0);
}

// The tester's finding 9: `restore yale/Big3` of an object named big3 answered "no object
// yale/Big3" without a word of big3, though ids that differ only in case are refused, so the
// match is unique. The object is now named ("did you mean acme/maps?"), still exit 2.
TEST_F(UnknownIdsTest, AnIdDifferingOnlyInCaseNamesTheObject) {
  ExpectNotFound({"show", "acme/Maps"}, "no object acme/Maps (did you mean acme/maps?");
  ExpectNotFound({"show", "acme/MAPS@v1"}, "no object acme/MAPS (did you mean acme/maps?");
  ExpectNotFound({"restore", "acme/Maps", (tmp_ / "out").string()}, "did you mean acme/maps?");
  CommandResult other = Cairn({"show", "acme/charts"});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(other.err, ::testing::Not(HasSubstr("did you mean")));
}

// A typo of an object id ("acme/mapz") answered "no object acme/mapz" and nothing more: the
// depositor is now told where the partner's objects are listed.
TEST_F(UnknownIdsTest, AnUnknownObjectNamesTheListingOfItsPartner) {
  ExpectNotFound({"show", "acme/mapz"},
                 "no object acme/mapz (`cairn list acme` lists the objects of acme)");
  ExpectNotFound({"restore", "acme/mapz@v2", (tmp_ / "out").string()},
                 "no object acme/mapz@v2 (`cairn list acme` lists the objects of acme)");
}

TEST_F(UnknownIdsTest, AuditRunOfAnUnknownObjectExitsTwo) {
  ExpectNotFound({"audit", "run", "--object", "acme/nope"}, "acme/nope");
  ExpectNotFound({"audit", "run", "--partner", "zz"}, "partner zz");
  ExpectNotFound({"audit", "run", "--site", "zz"}, "site");
  CommandResult at = Cairn({"audit", "run", "--object", "acme/maps@v1"});
  EXPECT_EQ(at.exit_code, 2) << at.out << at.err;  // --object takes no version
  EXPECT_THAT(at.err, HasSubstr("--object"));
  EXPECT_EQ(Cairn({"audit", "run", "--object", "acme/maps"}).exit_code, 0);
}

TEST_F(UnknownIdsTest, ReplicateAndDepositWithUnknownIdsExitTwo) {
  ExpectNotFound({"replicate", "--partner", "zz"}, "partner zz");
  ExpectNotFound({"replicate", "--partner", "acme", "--object", "nope"}, "acme/nope");
  ExpectNotFound({"replicate", "--site", "zz"}, "site");
  CommandResult no_partner = Cairn({"replicate", "--object", "maps"});
  EXPECT_EQ(no_partner.exit_code, 2) << no_partner.err;  // which partner's maps?
  EXPECT_THAT(no_partner.err, HasSubstr("--partner"));
  EXPECT_EQ(Cairn({"replicate", "--partner", "acme", "--object", "maps"}).exit_code, 0);

  // A deposit for a partner that does not exist could not run: nothing to
  // refuse in the bag itself.
  CommandResult dep = Cairn({"deposit", "zz", MakeSourceFolder("x").string(), "--id", "x"});
  EXPECT_EQ(dep.exit_code, 2) << dep.out << dep.err;
  EXPECT_THAT(dep.err, HasSubstr("partner zz"));
  EXPECT_THAT(dep.err, HasSubstr("partner add"));
  // The same id in other letter case: ids are case-sensitive, and the one meant is named
  // instead of advice to add a second partner.
  CommandResult upper = Cairn({"deposit", "ACME", MakeSourceFolder("y").string(), "--id", "y"});
  EXPECT_EQ(upper.exit_code, 2) << upper.out << upper.err;
  EXPECT_THAT(upper.err, HasSubstr("no partner ACME"));
  EXPECT_THAT(upper.err, HasSubstr("did you mean acme?"));
  EXPECT_THAT(upper.err, ::testing::Not(HasSubstr("partner add"))) << upper.err;
}

TEST_F(UnknownIdsTest, TheVerbsThatAlreadyRefusedStillDo) {
  ExpectNotFound({"show", "acme/nope"}, "acme/nope");
  ExpectNotFound({"show", "acme/maps@v9"}, "acme/maps@v9");
  ExpectNotFound({"restore", "acme/maps@v9", (tmp_ / "out").string()}, "acme/maps@v9");
  // A version past the latest names the latest (it said "no object acme/maps@v9").
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", "acme/maps@v9"},
        std::vector<std::string>{"restore", "acme/maps@v9", (tmp_ / "out").string()}}) {
    const std::string& verb = args[0];
    CommandResult r = Cairn(args);
    EXPECT_THAT(r.err, HasSubstr("no version acme/maps@v9: the latest of acme/maps is v1")) << verb;
  }
  ExpectNotFound({"list", "zz"}, "partner zz");
  ExpectNotFound({"policy", "show", "--partner", "zz"}, "partner zz");
  ExpectNotFound({"policy", "show", "zz"}, "partner zz");
  CommandResult named = Cairn({"policy", "show", "acme"});
  EXPECT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(named.out, Cairn({"policy", "show", "--partner", "acme"}).out);
  EXPECT_EQ(Cairn({"policy", "show", "acme", "--partner", "zeta"}).exit_code, 2);
  CommandResult no_file = Cairn({"policy", "set", (tmp_ / "no-such.textpb").string()});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_THAT(no_file.err, HasSubstr("no-such.textpb: No such file or directory"));
  ExpectNotFound({"gc", "--site", "zz"}, "site");
  ExpectNotFound({"site", "check", "zz"}, "site");
  ExpectNotFound({"site", "resync", "zz"}, "site");
  ExpectNotFound({"audit", "schedule", "add", "s", "--every", "1d", "--object", "acme/nope"},
                 "acme/nope");
  ExpectNotFound({"audit", "schedule", "remove", "nope"}, "schedule nope");
  ExpectNotFound({"audit", "report", "--run", "999"}, "audit run 999");
  ExpectNotFound({"events", "trust", "remove", "deadbeefdeadbeef"}, "deadbeefdeadbeef");
}

// A depositor used to `cairn deposit acme SOURCE` typed `cairn restore acme maps OUT` and `cairn
// show acme maps` and got only CLI11's "The following argument was not expected: OUT": the
// usage error now says objects are named PARTNER/OBJECT and which name was meant.
TEST_F(UnknownIdsTest, PartnerAndObjectAsTwoWordsAreToldToJoinThem) {
  const std::string out = (tmp_ / "out").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"restore", "acme", "maps", out},
        std::vector<std::string>{"show", "acme", "maps"},
        std::vector<std::string>{"events", "acme", "maps"},
        std::vector<std::string>{"withdraw", "request", "acme", "maps", "--reason", "r"}}) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("objects are named PARTNER/OBJECT: acme/maps")) << args[0];
  }
  EXPECT_FALSE(fs::exists(out));
}

// `cairn policy set acme p.textpb` got CLI11's "The following argument was not expected:
// p.textpb", and `cairn audit run acme` "... not expected: acme". `policy set` now takes the
// partner first, as `policy show PARTNER` already did; the verbs that take a partner only as
// --partner say so.
TEST_F(UnknownIdsTest, APartnerAsAWordIsTakenOrToldToUseThePartnerOption) {
  fs::path file = tmp_ / "p.textpb";
  WriteFile(file, "copies: 1\n");
  CommandResult set = Cairn({"policy", "set", "acme", file.string()});
  EXPECT_EQ(set.exit_code, 0) << set.out << set.err;
  CommandResult show = Cairn({"policy", "show", "acme"});
  EXPECT_THAT(show.out, HasSubstr("copies: 1")) << show.out;
  EXPECT_THAT(Cairn({"policy", "show"}).out, HasSubstr("copies: 2"));
  CommandResult both = Cairn({"policy", "set", "acme", file.string(), "--partner", "yale"});
  EXPECT_EQ(both.exit_code, 2) << both.out << both.err;
  EXPECT_THAT(both.err, HasSubstr("policy set: partner acme and --partner yale disagree"));

  CommandResult audit = Cairn({"audit", "run", "acme"});
  EXPECT_EQ(audit.exit_code, 2) << audit.out << audit.err;
  EXPECT_THAT(audit.err,
              HasSubstr("a partner is given with --partner: cairn audit run --partner acme"))
      << audit.err;
  CommandResult replicate = Cairn({"replicate", "acme"});
  EXPECT_EQ(replicate.exit_code, 2) << replicate.out << replicate.err;
  EXPECT_THAT(replicate.err, HasSubstr("cairn replicate --partner acme")) << replicate.err;
  // A path is no partner: no such hint.
  CommandResult path = Cairn({"audit", "run", file.string()});
  EXPECT_EQ(path.exit_code, 2);
  EXPECT_THAT(path.err, ::testing::Not(HasSubstr("--partner"))) << path.err;
}

}  // namespace
}  // namespace cairn::testing
