// Issue 15: one id rule for partners, objects and sites, stated in the same
// words in every message (and in repo/FORMAT.md); a folder deposit with a file
// name that is not valid UTF-8 is refused naming that file (printed safely),
// not as an encoding error in a manifest Cairn wrote itself.
#include <gmock/gmock.h>
#include <sys/wait.h>

#include <algorithm>

#include "repo/site/repository.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRule =
    "an id is 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'";

class IdRuleTest : public RepoFixture {};

TEST_F(IdRuleTest, EveryBadIdIsRefusedWithTheSameRule) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("maps");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"partner", "add", "a b"},
           {"partner", "add", ".hidden"},
           {"site", "add", "c/d", repo::FileUrl((tmp_ / "c").string())},
           {"deposit", "acme", src.string(), "--id", "a b"},
           {"audit", "run", "--object", "acme/a b"},
       }) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(kRule)) << args[0] << " " << args[1];
  }
  // The rule as FORMAT.md states it is the one the messages give.
  EXPECT_THAT(ReadFile(fs::path(CAIRN_SOURCE_DIR) / "repo/FORMAT.md"), HasSubstr(kRule));
  // Ids that follow it (also longer than the 64 characters partners once had).
  EXPECT_EQ(Cairn({"partner", "add", std::string(100, 'p')}).exit_code, 0);
}

// `partner add YALE` beside yale was taken: on a site where names are compared without case
// (an SMB share, macOS) bags/YALE and bags/yale are one folder, as are the two principals'
// settings records. Refused, naming the other.
TEST_F(IdRuleTest, IdsThatDifferOnlyInCaseAreRefused) {
  ASSERT_EQ(Cairn({"partner", "add", "yale"}).exit_code, 0);
  CommandResult twin = Cairn({"partner", "add", "YALE"});
  EXPECT_EQ(twin.exit_code, 2) << twin.out << twin.err;
  EXPECT_NE(twin.err.find("partner YALE differs from partner yale only in case"), std::string::npos)
      << twin.err;
  ASSERT_EQ(
      Cairn({"principal", "add", "dep@yale", "--role", "depositor", "--partner", "yale"}).exit_code,
      0);
  CommandResult principal = Cairn({"principal", "add", "DEP@YALE", "--role", "operator"});
  EXPECT_EQ(principal.exit_code, 2) << principal.out << principal.err;
  EXPECT_NE(principal.err.find("differs from principal dep@yale only in case"), std::string::npos)
      << principal.err;
  CommandResult partners = Cairn({"partner", "list", "--json"});
  EXPECT_EQ(partners.out.find("YALE"), std::string::npos) << partners.out;
}

// A deposit as acme/maps beside acme/Maps was taken: on a site where names are compared
// without case the two objects' folders (bags/acme/Maps, bags/acme/maps) are one, so the
// second object's v1 would be the first's. Refused before anything is stored, naming the
// other; the first object takes new versions as before.
TEST_F(IdRuleTest, ObjectIdsThatDifferOnlyInCaseAreRefused) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("maps");
  CommandResult first = Cairn({"deposit", "acme", src.string(), "--id", "Maps"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  CommandResult twin = Cairn({"deposit", "acme", src.string(), "--id", "maps"});
  EXPECT_EQ(twin.exit_code, 2) << twin.out << twin.err;
  EXPECT_THAT(twin.err, HasSubstr("object acme/maps differs from object acme/Maps only in case"));
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/a/bags/acme/maps"));
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/b/bags/acme/maps"));
  CommandResult list = Cairn({"list", "acme"});
  EXPECT_THAT(list.out, Not(HasSubstr("acme/maps"))) << list.out;
  // Another partner's object of that name is in another folder: allowed.
  ASSERT_EQ(Cairn({"partner", "add", "bodleian"}).exit_code, 0);
  EXPECT_EQ(Cairn({"deposit", "bodleian", src.string(), "--id", "maps"}).exit_code, 0);
  WriteFile(src / "more.txt", "a second version\n");
  CommandResult second = Cairn({"deposit", "acme", src.string(), "--id", "Maps"});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(fs::exists(tmp_ / "repo/sites/a/bags/acme/Maps/v2"));
}

// Two deposits at once as acme/RaceN and acme/raceN were both stored: each held the lock of its
// own spelling (locks/acme/RaceN.lock, locks/acme/raceN.lock), so neither saw the other in the
// catalog. Both spellings take one lock now: the second refuses, whichever it is.
TEST_F(IdRuleTest, ObjectIdsThatDifferOnlyInCaseAreRefusedWhenDepositedAtOnce) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("race");
  for (int round = 0; round < 4; ++round) {
    const std::string n = std::to_string(round);
    std::vector<pid_t> pids;
    for (const std::string& id : {"Race" + n, "race" + n}) {
      pids.push_back(StartCairn({"deposit", "acme", src.string(), "--id", id}, tmp_ / (id + ".log"),
                                {"CAIRN_REPO=" + Root()}));
      ASSERT_GT(pids.back(), 0);
    }
    std::vector<int> codes;
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(codes, (std::vector<int>{0, 2}))
        << ReadFile(tmp_ / ("Race" + n + ".log")) << ReadFile(tmp_ / ("race" + n + ".log"));
    int stored = 0;
    for (const std::string& id : {"Race" + n, "race" + n}) {
      stored += fs::exists(tmp_ / "repo/sites/a/bags/acme" / id) ? 1 : 0;
    }
    EXPECT_EQ(stored, 1) << "round " << round;
  }
}

TEST_F(IdRuleTest, AFileNameThatIsNotUtf8IsRefusedNamingTheFile) {
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  fs::path src = MakeSourceFolder("names");
  WriteFile(src / "caf\xe9.txt", "latin-1 name\n");  // é in Latin-1: not UTF-8
  CommandResult r = Cairn({"deposit", "acme", src.string(), "--id", "names"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("caf\\xe9.txt")) << r.err;  // printed safely
  EXPECT_THAT(r.err, HasSubstr("not valid UTF-8")) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("manifest-sha256.txt"))) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("payload.not-in-manifest"))) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "repo/sites/a/bags/acme"));
}

}  // namespace
}  // namespace cairn::testing
