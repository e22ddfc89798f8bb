// Issue 18, end to end with the real binary: governed withdrawal. One person requests, another
// approves (self-approval refused, whatever the role); a withdrawn version is refused to restore
// and show with its reason and date, its bytes kept; a purge waits for the policy's retention
// (refused with the eligible date, clock injected) and for legal holds (removed by two people);
// a purge keeps every blob another partner still references, moves the usage to it, removes
// exactly the bytes no one holds, leaves a tombstone on every site, and a catalog rebuilt from
// any site keeps the version withdrawn.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "bagit/digest.h"
#include "bagit/time_text.h"
#include "repo/catalog/catalog.h"
#include "repo/clock.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class WithdrawTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("yale", MakeSourceFolder("yale").string(), "box");
    ASSERT_EQ(
        Cairn({"principal", "add", "ann@yale", "--role", "partner-admin", "--partner", "yale"})
            .exit_code,
        0);
    CommandResult made = Cairn({"token", "create", "ann@yale"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ann_token_ = made.out.substr(0, made.out.find('\n'));
  }
  // cairn ARGS as ann@yale (--as with her token), the clock at `now` when given.
  CommandResult AsAnn(std::vector<std::string> args, const std::string& now = "") {
    args.push_back("--as");
    args.push_back("ann@yale");
    std::vector<std::string> env = {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + ann_token_};
    if (!now.empty()) env.push_back("CAIRN_FAKE_NOW=" + now);
    return RunCairn(args, env);
  }
  CommandResult At(const std::string& now, const std::vector<std::string>& args) {
    return now.empty() ? Cairn(args) : CairnAt(now, args);
  }
  int64_t Deposited(const std::string& partner, const std::string& object) {
    auto catalog = repo::Catalog::Open(Root() + "/catalog.db");
    EXPECT_TRUE(catalog.ok());
    auto v = (*catalog)->GetVersion(partner, object, std::nullopt, false);
    EXPECT_TRUE(v.ok());
    return v->created_micros;
  }
  // The clock `days` after the deposit of yale/`object`.
  std::string DaysAfterDeposit(int days, const std::string& object = "box") {
    return FormatUtc(Deposited("yale", object) + days * repo::kMicrosPerDay);
  }
  nlohmann::json Withdrawals() {
    CommandResult list = Cairn({"withdraw", "list", "--json"});
    // 1: listed, on a catalog behind the sites (the lines naming what they record, on stderr).
    EXPECT_LE(list.exit_code, 1) << list.err;
    return nlohmann::json::parse(list.out);
  }
  fs::path Site(const std::string& name) { return fs::path(Root()) / "sites" / name; }
  static uint64_t BytesUnder(const fs::path& dir) {
    uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (fs::is_regular_file(e.path())) total += fs::file_size(e.path());
    }
    return total;
  }
  void SetPolicy(const std::string& partner, const std::string& text) {
    fs::path file = tmp_ / (partner + "-policy.textpb");
    WriteFile(file, text);
    CommandResult set = Cairn({"policy", "set", file.string(), "--partner", partner});
    ASSERT_EQ(set.exit_code, 0) << set.err;
  }
  // The fair share (usage --json) of `partner`; 0 when it is not listed.
  double FairBytes(const std::string& partner) {
    CommandResult usage = Cairn({"usage", "--json"});
    EXPECT_EQ(usage.exit_code, 0) << usage.err;
    const nlohmann::json doc = nlohmann::json::parse(usage.out);
    for (const auto& p : doc["partners"]) {
      if (p["partner"] == partner) return p["fair_bytes"].get<double>();
    }
    return 0;
  }
  // The catalog `cairn catalog rebuild --from SITE` makes in tmp/rebuilt-SITE, and the
  // withdrawals it holds; null (a test failure recorded) when the rebuild does not succeed.
  std::unique_ptr<repo::Catalog> RebuiltFrom(const std::string& site,
                                             std::vector<repo::WithdrawalRecord>* withdrawals) {
    fs::path into = tmp_ / ("rebuilt-" + site);
    CommandResult rebuilt =
        Cairn({"catalog", "rebuild", "--from", site, "--into", into.string(), "--json"});
    EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
    auto catalog = repo::Catalog::Open((into / "catalog.db").string());
    EXPECT_TRUE(catalog.ok());
    if (rebuilt.exit_code != 0 || !catalog.ok()) return nullptr;
    auto all = (*catalog)->ListWithdrawals("");
    EXPECT_TRUE(all.ok());
    if (all.ok()) *withdrawals = *all;
    return std::move(*catalog);
  }
  std::string ann_token_;
};

TEST_F(WithdrawTest, SecondPersonApprovesAndTheVersionIsRefusedWithItsBytesKept) {
  CommandResult request =
      AsAnn({"withdraw", "request", "yale/box", "--reason", "donor withdrew consent"});
  ASSERT_EQ(request.exit_code, 0) << request.err;
  EXPECT_THAT(request.out, HasSubstr("withdrawal 1 requested: yale/box@v1 by ann@yale"));

  // The requester cannot approve, nor act as someone else with her token, nor without one.
  CommandResult self = AsAnn({"withdraw", "approve", "1"});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_THAT(self.err, HasSubstr("was requested by ann@yale: a second person approves"));
  CommandResult other = RunCairn({"withdraw", "approve", "1", "--as", "bob@yale"},
                                 {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + ann_token_});
  // Credentials that do not prove the name given: exit 2, as a wrong or expired token.
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(other.err, HasSubstr("the token given is not bob@yale's"));
  CommandResult tokenless = Cairn({"withdraw", "approve", "1", "--as", "ann@yale"});
  EXPECT_EQ(tokenless.exit_code, 2);
  EXPECT_THAT(tokenless.err, HasSubstr("needs that principal's token"));
  EXPECT_THAT(self.err + other.err + tokenless.err, Not(HasSubstr(ann_token_.substr(19))));
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
  // Still readable until approved.
  EXPECT_EQ(Cairn({"show", "yale/box"}).exit_code, 0);

  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_THAT(approve.out, HasSubstr("yale/box@v1 is withdrawn"));
  nlohmann::json w = Withdrawals()[0];
  EXPECT_EQ(w["state"], "withdrawn");
  EXPECT_EQ(w["requested_by"], "ann@yale");
  EXPECT_EQ(w["requested_role"], "partner-admin");
  EXPECT_EQ(w["approved_role"], "operator");

  CommandResult restore = Cairn({"restore", "yale/box", (tmp_ / "out").string()});
  EXPECT_EQ(restore.exit_code, 1);  // refused by a rule, as show
  EXPECT_THAT(restore.err, HasSubstr("yale/box@v1 is withdrawn since"));
  EXPECT_THAT(restore.err, HasSubstr("donor withdrew consent"));
  EXPECT_FALSE(fs::exists(tmp_ / "out"));
  CommandResult show = Cairn({"show", "yale/box@v1"});
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_THAT(show.err, HasSubstr("is withdrawn since"));

  // Bytes kept; a tombstone on every site naming both people.
  EXPECT_TRUE(fs::exists(BlobFile("a", "alpha of yale\n")));
  EXPECT_TRUE(fs::exists(BlobFile("b", "alpha of yale\n")));
  for (const char* site : {"a", "b"}) {
    fs::path tombstone = Site(site) / repo::layout::TombstoneKey("yale", "box", 1);
    ASSERT_TRUE(fs::exists(tombstone)) << tombstone;
    std::string text = ReadFile(tombstone);
    EXPECT_THAT(text, HasSubstr("Requested-By: ann@yale\n"));
    EXPECT_THAT(text, HasSubstr("Approved-Role: operator\n"));
    EXPECT_THAT(text, HasSubstr("Reason: donor withdrew consent\n"));
  }
  // A deaccession event names both, and the chain still verifies.
  CommandResult events = Cairn({"events", "--type", "deaccession", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("requested by ann@yale (partner-admin)"));
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  // PREMIS: both people as agents of the deaccession.
  CommandResult premis = Cairn({"events", "yale/box", "--format", "premis"});
  ASSERT_EQ(premis.exit_code, 0) << premis.err;
  EXPECT_THAT(premis.out, HasSubstr(">deaccession</premis:eventType>"));
  EXPECT_THAT(premis.out, HasSubstr("<premis:linkingAgentRole>approver: operator<"));
  EXPECT_THAT(premis.out, HasSubstr("<premis:linkingAgentIdentifierValue>ann@yale<"));
  EXPECT_THAT(premis.out, HasSubstr("<premis:linkingAgentRole>requester: partner-admin<"));
  // The listing says it is withdrawn, with the reason.
  CommandResult list = Cairn({"list", "--json"});
  ASSERT_LE(list.exit_code, 1) << list.err;
  nlohmann::json objects = nlohmann::json::parse(list.out);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_THAT(objects[0].value("withdrawn", ""), HasSubstr("donor withdrew consent"));
  // An approved withdrawal is not cancelled; a second request of the version is refused.
  EXPECT_EQ(Cairn({"withdraw", "cancel", "1"}).exit_code, 1);
  EXPECT_EQ(AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "again"}).exit_code, 1);
}

// A wrong id is a bad argument (exit 2, as show gives), not a refusal by a rule (exit 1).
TEST_F(WithdrawTest, WrongIdsExitTwoNamingWhatIsMissing) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"withdraw", "approve", "99"}, "no withdrawal 99"},
      {{"withdraw", "cancel", "99"}, "no withdrawal 99"},
      {{"withdraw", "request", "yale/nope", "--reason", "takedown"}, "no object yale/nope"},
      {{"withdraw", "request", "yale/box@v7", "--reason", "takedown"}, "yale/box@v7"},
      {{"hold", "remove", "yale/nope"}, "no legal hold is on yale/nope"},
      // It said "hold 1 on yale/nope", exit 0: a typo left the real object unheld.
      {{"hold", "add", "yale/nope", "--reason", "litigation"}, "no object yale/nope to hold"},
  };
  for (const auto& [args, named] : cases) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(named));
  }
  EXPECT_EQ(Withdrawals().size(), 0u);
  CommandResult holds = Cairn({"hold", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(holds.out).size(), 0u) << holds.out;
}

// Another partner's admin learns nothing from a withdrawal's id: it gets what an id no one
// used gets (before, a refusal naming the partner told that a withdrawal existed).
TEST_F(WithdrawTest, AnotherPartnersWithdrawalIsNoWithdrawalToAnAdmin) {
  ASSERT_EQ(Cairn({"partner", "add", "mit"}).exit_code, 0);
  ASSERT_EQ(Cairn({"principal", "add", "carl@mit", "--role", "partner-admin", "--partner", "mit"})
                .exit_code,
            0);
  CommandResult made = Cairn({"token", "create", "carl@mit"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string carl = made.out.substr(0, made.out.find('\n'));
  auto as_carl = [&](std::vector<std::string> args) {
    args.push_back("--as");
    args.push_back("carl@mit");
    return RunCairn(args, {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + carl});
  };
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  for (const char* verb : {"approve", "cancel"}) {
    CommandResult theirs = as_carl({"withdraw", verb, "1"});
    CommandResult unused = as_carl({"withdraw", verb, "2"});
    EXPECT_EQ(theirs.exit_code, unused.exit_code) << verb << ": " << theirs.err;
    EXPECT_THAT(unused.err, HasSubstr("no withdrawal 2")) << verb;
    std::string same = unused.err;
    same.replace(same.find("no withdrawal 2"), 15, "no withdrawal 1");
    EXPECT_EQ(theirs.err, same) << verb;
  }
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
  // A depositor of the same partner may not cancel it, and is told so in those words (it was
  // told it "may not approve a withdrawal").
  const std::string dan_token = AddPrincipalWithToken("dan@yale", "depositor", "yale");
  ASSERT_FALSE(dan_token.empty());
  CommandResult dan = RunCairn({"withdraw", "cancel", "1", "--as", "dan@yale"},
                               {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + dan_token});
  EXPECT_EQ(dan.exit_code, 1) << dan.err;
  EXPECT_THAT(dan.err, HasSubstr("dan@yale may not cancel withdrawal 1")) << dan.err;
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
}

// A role that may not (a depositor requesting a withdrawal, an admin of another partner) was
// refused with exit 1, a refusal by a rule, where every other verb exits 2 for a refused role.
// Exit 2 now; the two-person rule keeps exit 1.
TEST_F(WithdrawTest, ARefusedRoleExitsTwoARefusedRuleOne) {
  const std::string token = AddPrincipalWithToken("dan@yale", "depositor", "yale");
  ASSERT_FALSE(token.empty());
  CommandResult dan =
      RunCairn({"withdraw", "request", "yale/box", "--reason", "mine", "--as", "dan@yale"},
               {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + token});
  EXPECT_EQ(dan.exit_code, 2) << dan.err;
  EXPECT_THAT(dan.err, HasSubstr("principal dan@yale (depositor) may not")) << dan.err;
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  CommandResult self = AsAnn({"withdraw", "approve", "1"});
  EXPECT_EQ(self.exit_code, 1) << self.err;
  EXPECT_THAT(self.err, HasSubstr("a second person approves")) << self.err;
}

TEST_F(WithdrawTest, SelfApprovalRefusedForTheOperatorToo) {
  ASSERT_EQ(Cairn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  CommandResult self = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_THAT(self.err, HasSubstr("a second person approves"));
  // The partner's admin is the second person here.
  CommandResult approved = AsAnn({"withdraw", "approve", "1"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_THAT(approved.out, HasSubstr("approved by ann@yale (partner-admin)"));
}

TEST_F(WithdrawTest, CancelledRequestChangesNothing) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "1"}).exit_code, 0);
  EXPECT_EQ(Withdrawals()[0]["state"], "cancelled");
  EXPECT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 1);
  EXPECT_EQ(Cairn({"restore", "yale/box", (tmp_ / "out").string()}).exit_code, 0);
}

TEST_F(WithdrawTest, RetentionRefusesAPurgeUntilTheEligibleDate) {
  SetPolicy("yale", "copies: 2\nretention { min_days: 30 }\n");
  const std::string eligible = FormatUtc(Deposited("yale", "box") + 30 * repo::kMicrosPerDay);
  CommandResult early =
      AsAnn({"withdraw", "request", "yale/box", "--reason", "rights expired", "--purge"},
            DaysAfterDeposit(10));
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_THAT(early.err, HasSubstr("policy retention.min_days 30 keeps yale/box@v1"));
  EXPECT_THAT(early.err, HasSubstr("until " + eligible));
  EXPECT_THAT(early.err, HasSubstr("withdraw it without --purge now"));
  EXPECT_TRUE(Withdrawals().empty());
  // Withdrawn (without purge) at once is allowed.
  ASSERT_EQ(
      AsAnn({"withdraw", "request", "yale/box", "--reason", "rights expired"}, DaysAfterDeposit(10))
          .exit_code,
      0);
  ASSERT_EQ(Cairn({"withdraw", "cancel", "1"}).exit_code, 0);
  CommandResult late =
      AsAnn({"withdraw", "request", "yale/box", "--reason", "rights expired", "--purge"},
            DaysAfterDeposit(31));
  ASSERT_EQ(late.exit_code, 0) << late.err;
  CommandResult approve = CairnAt(DaysAfterDeposit(31), {"withdraw", "approve", "2"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(Withdrawals()[1]["state"], "purged");

  SetPolicy("yale", "copies: 2\nretention { forever: true }\n");
  Deposit("yale", MakeSourceFolder("kept").string(), "kept");
  CommandResult never = AsAnn({"withdraw", "request", "yale/kept", "--reason", "x", "--purge"},
                              DaysAfterDeposit(999, "kept"));
  EXPECT_EQ(never.exit_code, 1);
  EXPECT_THAT(never.err, HasSubstr("retention `forever`"));
}

// Withdrawn at once without a purge (in its retention period, or before a purge was decided),
// then purged by a second governed request once allowed. A --purge request of a withdrawn
// version was refused ("already has withdrawal 1 (withdrawn)"), so the bytes stayed for good,
// though the retention refusal advised exactly that path. The purge needs two people again, its
// own tombstone (WITHDRAWN-PURGE; WITHDRAWN says "Purge: no" and is written once), and a catalog
// rebuilt from either site knows both withdrawals.
TEST_F(WithdrawTest, AWithdrawnVersionIsPurgedLaterByASecondGovernedRequest) {
  SetPolicy("yale", "copies: 2\nretention { min_days: 30 }\n");
  const std::string day10 = DaysAfterDeposit(10), day20 = DaysAfterDeposit(20),
                    day31 = DaysAfterDeposit(31), day32 = DaysAfterDeposit(32);
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "embargo"}, day10).exit_code, 0);
  ASSERT_EQ(CairnAt(day10, {"withdraw", "approve", "1"}).exit_code, 0);
  const uint64_t before = BytesUnder(Site("a") / "blobs");
  ASSERT_GT(before, 0u);
  // Not before the retention has passed, and saying when.
  CommandResult early =
      AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "erase", "--purge"}, day20);
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_THAT(early.err, HasSubstr("policy retention.min_days 30 keeps yale/box@v1"));
  // A second withdrawal without a purge adds nothing.
  EXPECT_EQ(AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "again"}).exit_code, 1);
  CommandResult asked =
      AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "erase", "--purge"}, day31);
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  EXPECT_THAT(asked.out, HasSubstr("withdrawal 2 requested"));
  EXPECT_EQ(
      AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "x", "--purge"}, day31).exit_code, 1)
      << "one purge request at a time";
  EXPECT_EQ(AsAnn({"withdraw", "approve", "2"}, day31).exit_code, 1)
      << "the requester does not approve";
  EXPECT_EQ(BytesUnder(Site("a") / "blobs"), before);
  CommandResult approve = CairnAt(day31, {"withdraw", "approve", "2"});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  nlohmann::json listed = Withdrawals();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["state"], "withdrawn");
  EXPECT_EQ(listed[1]["state"], "purged");
  for (const char* site : {"a", "b"}) {
    EXPECT_EQ(BytesUnder(Site(site) / "blobs"), 0u) << site;
    fs::path folder = Site(site) / repo::layout::VersionPrefix("yale", "box", 1);
    EXPECT_THAT(ReadFile(folder / "WITHDRAWN"), HasSubstr("Purge: no"));
    EXPECT_THAT(ReadFile(folder / "WITHDRAWN-PURGE"), HasSubstr("Purge: yes"));
    EXPECT_FALSE(fs::exists(folder / "version.pb")) << site;
  }
  CommandResult gone = Cairn({"restore", "yale/box@v1", (tmp_ / "gone").string()});
  EXPECT_NE(gone.exit_code, 0);
  // Withdrawn since the first approval (it said the purge's date), both withdrawals named.
  EXPECT_THAT(gone.err, HasSubstr("is withdrawn since " + day10.substr(0, 10)));
  EXPECT_THAT(gone.err,
              HasSubstr("(withdrawal 1, withdrawn: embargo; withdrawal 2, purged: erase)"));
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  // Purged already: nothing more to ask.
  EXPECT_EQ(
      AsAnn({"withdraw", "request", "yale/box@v1", "--reason", "y", "--purge"}, day32).exit_code,
      1);
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> all;
    std::unique_ptr<repo::Catalog> catalog = RebuiltFrom(site, &all);
    ASSERT_TRUE(catalog) << site;
    ASSERT_EQ(all.size(), 2u) << site;
    EXPECT_EQ(all[0].state, repo::WithdrawalState::kWithdrawn);
    EXPECT_FALSE(all[0].purge);
    EXPECT_EQ(all[1].state, repo::WithdrawalState::kPurged);
    EXPECT_TRUE(all[1].purge);
    EXPECT_TRUE(catalog->GetVersion("yale", "box", 1, false).status().IsNotFound());
  }
}

TEST_F(WithdrawTest, HoldBlocksApprovalAndTakesTwoPeopleToRemove) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "consent", "--purge"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "litigation 2026-17"}).exit_code, 0);
  CommandResult blocked = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(blocked.exit_code, 1);
  EXPECT_THAT(blocked.err, HasSubstr("legal hold 1 on yale/box"));
  EXPECT_THAT(blocked.err, HasSubstr("litigation 2026-17"));
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");

  CommandResult ask = Cairn({"hold", "remove", "yale/box"});
  ASSERT_EQ(ask.exit_code, 0) << ask.err;
  EXPECT_THAT(ask.out, HasSubstr("another person removes it"));
  CommandResult same = Cairn({"hold", "remove", "yale/box"});
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_THAT(same.err, HasSubstr("a second person removes it"));
  EXPECT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 1) << "the hold is still on";
  CommandResult removed = AsAnn({"hold", "remove", "yale/box"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_THAT(removed.out, HasSubstr("removed by ann@yale"));
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(Withdrawals()[0]["state"], "purged");
}

// Bad arguments are exit 2, and --json's "exit_code" is the process's: `withdraw request
// yale/box@v0 --json` printed "exit_code": 2 and exited 1; an empty --reason exited 1; `hold
// remove yale/box@v1` ignored the @v1 (a hold is on a whole object, as `hold add` says). A
// refusal by a rule stays exit 1, and its JSON says 1.
TEST_F(WithdrawTest, BadArgumentsExitTwoAndTheJsonSaysTheExitCode) {
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "litigation"}).exit_code, 0);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"withdraw", "request", "yale/box@v0", "--reason", "x"}, "yale/box@v0"},
      {{"withdraw", "request", "yale/box", "--reason", ""}, "--reason"},
      {{"withdraw", "request", "yale/box", "--reason", "two\nlines"}, "--reason"},
      {{"hold", "add", "yale/box", "--reason", ""}, "--reason"},
      {{"hold", "add", "yale/box@v1", "--reason", "x"}, "a hold is on a whole object"},
      {{"hold", "remove", "yale/box@v1"}, "a hold is on a whole object"},
  };
  for (const auto& [args, named] : cases) {
    SCOPED_TRACE(args[0] + " " + args[1] + " " + args[2]);
    for (bool json : {false, true}) {
      std::vector<std::string> run = args;
      if (json) run.push_back("--json");
      CommandResult r = Cairn(run);
      EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
      EXPECT_THAT(r.err, HasSubstr(named));
      if (json) {
        nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
        EXPECT_EQ(doc["error"]["exit_code"], 2) << r.out;
      }
    }
  }
  EXPECT_EQ(Withdrawals().size(), 0u);
  CommandResult holds = Cairn({"hold", "list", "--json"});
  ASSERT_EQ(holds.exit_code, 0) << holds.err;
  EXPECT_EQ(nlohmann::json::parse(holds.out)[0].value("removal_requested_by", ""), "") << holds.out;
  // A refusal by a rule: exit 1, and the JSON says 1.
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  CommandResult self = AsAnn({"withdraw", "approve", "1", "--json"});
  EXPECT_EQ(self.exit_code, 1) << self.err;
  EXPECT_EQ(nlohmann::json::parse(self.out, nullptr, false)["error"]["exit_code"], 1) << self.out;
}

TEST_F(WithdrawTest, PurgeKeepsSharedBlobsMovesUsageAndSurvivesRebuildFromEachSite) {
  // "c d.txt" is the same in both folders: one blob, held by yale and mit.
  Deposit("mit", MakeSourceFolder("mit").string(), "box");
  const std::string shared = "a name with a space\n";
  const fs::path shared_a = BlobFile("a", shared);
  const uint64_t before_a = BytesUnder(Site("a") / "blobs");
  const uint64_t before_b = BytesUnder(Site("b") / "blobs");
  uint64_t yale_unique = 0;
  for (const auto& [path, bytes] : ReadTree(MakeSourceFolder("yale"))) {
    if (bytes != shared) yale_unique += bytes.size();
  }

  const double mit_fair_before = FairBytes("mit");
  ASSERT_EQ(
      AsAnn({"withdraw", "request", "yale/box", "--reason", "deaccession", "--purge"}).exit_code,
      0);
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  EXPECT_EQ(Withdrawals()[0]["state"], "purged");

  // The shared blob stays; the bytes only yale held are gone, exactly.
  EXPECT_TRUE(fs::exists(shared_a));
  EXPECT_EQ(before_a - BytesUnder(Site("a") / "blobs"), yale_unique);
  EXPECT_EQ(before_b - BytesUnder(Site("b") / "blobs"), yale_unique);
  for (const char* site : {"a", "b"}) {
    fs::path folder = Site(site) / repo::layout::VersionPrefix("yale", "box", 1);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(folder))
      left.push_back(e.path().filename().string());
    EXPECT_EQ(left, std::vector<std::string>{"WITHDRAWN"}) << site;
  }
  // Usage: mit now carries the whole shared blob (it had half); yale nothing.
  EXPECT_DOUBLE_EQ(FairBytes("mit") - mit_fair_before, shared.size() / 2.0);
  EXPECT_DOUBLE_EQ(FairBytes("yale"), 0);
  // mit's object is whole; the log verifies; the auditor finds nothing missing.
  CommandResult gone = Cairn({"restore", "yale/box", (tmp_ / "gone").string()});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_THAT(gone.err, HasSubstr("yale/box@v1 is withdrawn since"));
  EXPECT_THAT(gone.err, HasSubstr("purged"));
  CommandResult mit = Cairn({"restore", "mit/box", (tmp_ / "mit-out").string()});
  EXPECT_EQ(mit.exit_code, 0) << mit.err;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  CommandResult deletion = Cairn({"events", "--type", "deletion", "--json"});
  EXPECT_THAT(deletion.out, HasSubstr("approved by local:"));

  // A catalog rebuilt from either site knows the purge and gives nothing of it back.
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> all;
    std::unique_ptr<repo::Catalog> catalog = RebuiltFrom(site, &all);
    ASSERT_TRUE(catalog) << site;
    ASSERT_EQ(all.size(), 1u) << site;
    EXPECT_EQ(all[0].state, repo::WithdrawalState::kPurged);
    EXPECT_EQ(all[0].requested_by, "ann@yale");
    EXPECT_TRUE(catalog->GetVersion("yale", "box", 1, false).status().IsNotFound());
    EXPECT_TRUE(catalog->GetVersion("mit", "box", 1, false).ok());
    EXPECT_EQ(*catalog->NextVersion("yale", "box"), 2u);
  }
}

// A bag may carry a tag file meta/WITHDRAWN (only the name WITHDRAWN itself is reserved). The
// rebuild read it as the version's tombstone, and skipped the version as withdrawn by a bad one:
// a deposit that every site holds, gone from the rebuilt catalog.
TEST_F(WithdrawTest, ATagFileNamedLikeATombstoneIsNoTombstone) {
  const fs::path bag = tmp_ / "meta-bag";
  ASSERT_EQ(Cairn({"bag", "create", MakeSourceFolder("meta").string(), bag.string(), "--algorithm",
                   "sha256"})
                .exit_code,
            0);
  WriteFile(bag / "meta" / "WITHDRAWN", "not a tombstone\n");
  std::string tags = ReadFile(bag / "tagmanifest-sha256.txt");
  tags += bagit::HashBytes("not a tombstone\n",
                           bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256] +
          "  meta/WITHDRAWN\n";
  WriteFile(bag / "tagmanifest-sha256.txt", tags);
  Deposit("yale", bag.string(), "meta");
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> all;
    std::unique_ptr<repo::Catalog> catalog = RebuiltFrom(site, &all);
    ASSERT_TRUE(catalog) << site;
    EXPECT_TRUE(catalog->GetVersion("yale", "meta", 1, false).ok()) << site;
    EXPECT_TRUE(all.empty()) << site;
  }
}

// A site lost and made again (`site resync b --init`) got no tombstone of a purged version:
// `withdraw run` wrote only those of versions not yet purged. A catalog rebuilt from that site
// then knew nothing of the version, and the next deposit took its number again, into a folder
// that on the other site still held the old tombstone, "Purge: yes" beside a version.pb: a
// rebuild from there, then `withdraw run`, would have purged the new, acknowledged deposit.
// Now the resync writes it (and `withdraw run` to a site that lacks it), and a deposit never
// takes a number a site's tombstone holds.
TEST_F(WithdrawTest, APurgedNumberIsNeverTakenAgainAfterASiteIsRemade) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "erase", "--purge"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 0);
  const fs::path tomb_b = Site("b") / repo::layout::TombstoneKey("yale", "box", 1);
  ASSERT_TRUE(fs::exists(tomb_b));
  fs::remove_all(Site("b"));
  CommandResult resynced = Cairn({"site", "resync", "b", "--init"});
  ASSERT_EQ(resynced.exit_code, 0) << resynced.out << resynced.err;
  EXPECT_TRUE(fs::exists(tomb_b)) << "the remade site has the purged version's tombstone";
  fs::remove(tomb_b);  // a site that was down when the resync ran: `withdraw run` writes it
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(fs::exists(tomb_b));

  // A site that still lacks it (as b did): a catalog rebuilt from there forgets the withdrawal.
  fs::remove(tomb_b);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("b").string())});
  ASSERT_LE(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  Deposit("yale", MakeSourceFolder("again").string(), "box");
  CommandResult show = Cairn({"show", "yale/box", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["versions"][0]["version"], 2) << show.out;
  EXPECT_FALSE(fs::exists(Site("a") / repo::layout::VersionRecordKey("yale", "box", 1)));
  EXPECT_TRUE(fs::exists(Site("a") / repo::layout::TombstoneKey("yale", "box", 1)));
  // A catalog rebuilt from a, which has the tombstone, knows both: v1 purged, v2 whole.
  std::vector<repo::WithdrawalRecord> all;
  std::unique_ptr<repo::Catalog> from_a = RebuiltFrom("a", &all);
  ASSERT_TRUE(from_a);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, repo::WithdrawalState::kPurged);
  EXPECT_TRUE(from_a->GetVersion("yale", "box", 2, false).ok());
}

TEST_F(WithdrawTest, RebuildKeepsAWithdrawnVersionWithdrawn) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "embargo"}).exit_code, 0);
  ASSERT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 0);
  fs::path into = tmp_ / "rebuilt";
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "b", "--into", into.string()}).exit_code, 0);
  CommandResult restore =
      RunCairn({"restore", "yale/box", (tmp_ / "out").string()}, {"CAIRN_REPO=" + into.string()});
  EXPECT_NE(restore.exit_code, 0);
  EXPECT_THAT(restore.err, HasSubstr("is withdrawn since"));
}

// Legal holds are kept on every site: a catalog rebuilt from any one site still has the hold
// that is on (so a purge there is refused) and the history of the one removed by two people.
TEST_F(WithdrawTest, HoldsSurviveARebuildFromEachSite) {
  Deposit("yale", MakeSourceFolder("yale-two").string(), "crate");
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "litigation 2026-17"}).exit_code, 0);
  ASSERT_EQ(Cairn({"hold", "add", "yale/crate", "--reason", "audit 4"}).exit_code, 0);
  ASSERT_EQ(Cairn({"hold", "remove", "yale/crate"}).exit_code, 0);
  ASSERT_EQ(AsAnn({"hold", "remove", "yale/crate"}).exit_code, 0);
  for (const std::string site : {"a", "b"}) {
    fs::path into = tmp_ / ("rebuilt-" + site);
    CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", site, "--into", into.string()});
    ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
    const std::vector<std::string> env = {"CAIRN_REPO=" + into.string()};
    CommandResult list = RunCairn({"hold", "list", "--json"}, env);
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const nlohmann::json holds = nlohmann::json::parse(list.out);
    ASSERT_EQ(holds.size(), 2u) << site << ": " << list.out;
    EXPECT_EQ(holds[0]["object"], "box");
    EXPECT_EQ(holds[0]["reason"], "litigation 2026-17");
    EXPECT_THAT(holds[1].dump(), HasSubstr("ann@yale")) << "who removed it, kept";
    // The hold on box still blocks its purge in the rebuilt catalog.
    CommandResult request =
        RunCairn({"withdraw", "request", "yale/box", "--reason", "takedown", "--purge"}, env);
    EXPECT_EQ(request.exit_code, 1) << site << ": " << request.out;
    EXPECT_THAT(request.err, HasSubstr("legal hold 1 on yale/box")) << site;
  }
}

// Disaster recovery's mistake: the catalog put back from a backup made before the withdrawal.
// It still lists the version as live, but the sites' tombstones outrank it: restore refuses,
// naming the tombstone and the rebuild that makes a catalog that knows; nothing is written.
TEST_F(WithdrawTest, CatalogFromBeforeTheWithdrawalStillRestoresNothing) {
  const fs::path backup = tmp_ / "catalog-backup";
  BackUpCatalog(backup);
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "consent withdrawn"}).exit_code,
            0);
  ASSERT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 0);
  PutCatalogBack(backup);
  ASSERT_EQ(Withdrawals().size(), 0u) << "the old catalog knows no withdrawal";
  const fs::path out = tmp_ / "out";
  CommandResult restore = Cairn({"restore", "yale/box", out.string()});
  EXPECT_EQ(restore.exit_code, 1) << restore.out;
  EXPECT_THAT(restore.err,
              HasSubstr("bags/yale/box/v1/WITHDRAWN is the tombstone of this version"));
  EXPECT_THAT(restore.err, HasSubstr("consent withdrawn"));
  EXPECT_THAT(restore.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_FALSE(fs::exists(out));
  // show called every copy of the withdrawn version "ok" (exit 0): it refuses as restore does.
  CommandResult shown = Cairn({"show", "yale/box"});
  EXPECT_EQ(shown.exit_code, 1) << shown.out;
  EXPECT_THAT(shown.err, HasSubstr("bags/yale/box/v1/WITHDRAWN is the tombstone of this version"));
  EXPECT_THAT(shown.err, HasSubstr("show refused"));
  EXPECT_THAT(shown.out, Not(HasSubstr("a:ok")));
  // The command it names works (it lacked --force, and was refused: the catalog exists).
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  ASSERT_EQ(Withdrawals().size(), 1u);
  EXPECT_THAT(Cairn({"restore", "yale/box", out.string()}).err, HasSubstr("is withdrawn since"));
}

// A catalog put back from a backup older than a legal hold or a stricter retention knows
// neither; the sites' settings do. A purge it approved removed for good what every site
// records as kept (exit 0). Now the sites' holds and policies refuse it too, naming the rebuild.
TEST_F(WithdrawTest, ACatalogFromBeforeAHoldOrARetentionPurgesNothingTheSitesKeep) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "consent", "--purge"}).exit_code,
            0);
  BackUpCatalog(tmp_ / "before-hold");
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "litigation 2026-17"}).exit_code, 0);
  PutCatalogBack(tmp_ / "before-hold");
  CommandResult held = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(held.exit_code, 1) << held.out;
  EXPECT_THAT(held.err, HasSubstr("records legal hold 1 on yale/box"));
  EXPECT_THAT(held.err, HasSubstr("litigation 2026-17"));
  EXPECT_THAT(held.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
  EXPECT_TRUE(fs::exists(BlobFile("a", "alpha of yale\n")));
  EXPECT_TRUE(fs::exists(BlobFile("b", "alpha of yale\n")));

  Deposit("yale", MakeSourceFolder("kept").string(), "kept");
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/kept", "--reason", "consent", "--purge"}).exit_code,
            0);
  BackUpCatalog(tmp_ / "before-policy");
  SetPolicy("yale", "copies: 2\nretention { forever: true }\n");
  PutCatalogBack(tmp_ / "before-policy");
  CommandResult kept = Cairn({"withdraw", "approve", "2"});
  EXPECT_EQ(kept.exit_code, 1) << kept.out;
  EXPECT_THAT(kept.err, HasSubstr("records a policy of partner yale with retention `forever`"));
  EXPECT_THAT(kept.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_EQ(Withdrawals()[1]["state"], "requested");
  EXPECT_EQ(Cairn({"withdraw", "run"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(BlobFile("a", "alpha of kept\n")));

  // The rebuild it names knows both, and still refuses.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  EXPECT_THAT(Cairn({"withdraw", "request", "yale/box", "--reason", "x", "--purge"}).err,
              HasSubstr("legal hold 1 on yale/box"));
}

// A catalog put back from a backup wrote, at its next change of any setting, its older values
// over the sites' newer records: the stricter retention and the principal's disabling made
// since the backup were gone from every site, so that neither the sites' check of a purge nor a
// rebuild could know them any more. Now a record past what the catalog knew is left alone and
// named, with the rebuild.
TEST_F(WithdrawTest, ACatalogFromABackupNeverWritesItsOlderSettingsOverTheSites) {
  SetPolicy("yale", "copies: 2\n");  // a version of the policy this catalog knows
  BackUpCatalog(tmp_ / "old");
  SetPolicy("yale", "copies: 2\nretention { forever: true }\n");
  ASSERT_EQ(Cairn({"principal", "disable", "ann@yale"}).exit_code, 0);
  PutCatalogBack(tmp_ / "old");
  CommandResult changed = Cairn({"partner", "add", "harvard"});
  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_THAT(changed.err, HasSubstr("site a: policy of partner yale: version 2 there, this "
                                     "catalog knew version 1"));
  EXPECT_THAT(changed.err, HasSubstr("site b: principal ann@yale"));
  EXPECT_THAT(changed.err, HasSubstr("cairn catalog rebuild --from a --force"));
  // The sites still say what was set after the backup; the new partner reached them too.
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> ignored;
    std::unique_ptr<repo::Catalog> rebuilt = RebuiltFrom(site, &ignored);
    ASSERT_NE(rebuilt, nullptr) << site;
    auto policy = rebuilt->EffectivePolicy("yale");
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    EXPECT_TRUE(policy->retention().forever()) << site;
    auto ann = rebuilt->GetPrincipal("ann@yale");
    ASSERT_TRUE(ann.ok()) << site;
    EXPECT_NE(ann->disabled_micros, 0) << site;
    EXPECT_TRUE(rebuilt->GetPartner("harvard").ok()) << site;
    fs::remove_all(tmp_ / ("rebuilt-" + std::string(site)));
  }
  // And a purge the old catalog would allow is refused by what the sites keep.
  CommandResult purge = Cairn({"withdraw", "request", "yale/box", "--reason", "x", "--purge"});
  EXPECT_EQ(purge.exit_code, 1) << purge.err;
  EXPECT_THAT(purge.err, HasSubstr("retention `forever`"));
}

// A catalog put back from a backup older than a setting knew nothing of it, and wrote its own
// record of the same name over the sites' newer one: a principal added and disabled after the
// backup, added again from the old catalog as an operator, became an enabled operator on every
// site; a hold added after the backup had its number taken by the next hold, whose record
// replaced it on every site, so that the held object could be purged. A record the catalog
// never saw on a site it has synced is now left alone and named, and a hold's number is one no
// reachable site holds yet.
TEST_F(WithdrawTest, ACatalogFromABackupNeverWritesOverSettingsItNeverSaw) {
  Deposit("yale", MakeSourceFolder("two").string(), "two");
  BackUpCatalog(tmp_ / "old");
  ASSERT_EQ(
      Cairn({"principal", "add", "bob@yale", "--role", "depositor", "--partner", "yale"}).exit_code,
      0);
  ASSERT_EQ(Cairn({"principal", "disable", "bob@yale"}).exit_code, 0);
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "court order"}).exit_code, 0);
  PutCatalogBack(tmp_ / "old");

  CommandResult bob = Cairn({"principal", "add", "bob@yale", "--role", "operator"});
  EXPECT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_THAT(bob.err, HasSubstr("site a: principal bob@yale: version 2 there, this catalog "
                                 "never saw it"));
  EXPECT_THAT(bob.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult held = Cairn({"hold", "add", "yale/two", "--reason", "review"});
  EXPECT_EQ(held.exit_code, 0) << held.err;
  EXPECT_THAT(held.out, HasSubstr("hold 2 on yale/two"));

  // Every site still has bob disabled as a depositor, and both holds.
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> ignored;
    std::unique_ptr<repo::Catalog> rebuilt = RebuiltFrom(site, &ignored);
    ASSERT_NE(rebuilt, nullptr) << site;
    auto principal = rebuilt->GetPrincipal("bob@yale");
    ASSERT_TRUE(principal.ok()) << site;
    EXPECT_NE(principal->disabled_micros, 0) << site;
    EXPECT_EQ(principal->role, repo::Role::kDepositor) << site;
    auto holds = rebuilt->ListHolds("yale");
    ASSERT_TRUE(holds.ok()) << site;
    ASSERT_EQ(holds->size(), 2u) << site;
    EXPECT_EQ((*holds)[0].object, "box") << site;
    EXPECT_EQ((*holds)[0].reason, "court order") << site;
    EXPECT_EQ((*holds)[1].object, "two") << site;
    fs::remove_all(tmp_ / ("rebuilt-" + std::string(site)));
  }
  // The court order still refuses the purge of what it holds.
  CommandResult purge = Cairn({"withdraw", "request", "yale/box", "--reason", "x", "--purge"});
  EXPECT_EQ(purge.exit_code, 1) << purge.err;
  EXPECT_THAT(purge.err, HasSubstr("legal hold 1 on yale/box"));
}

// A catalog put back from a backup older than a legal hold: `hold list` showed no hold (exit 0)
// and `hold remove` said "no legal hold is on yale/box" (exit 2), though every site records the
// court order, as a purge request from the same catalog already says. Both now name the site's
// hold and the rebuild (exit 1), and nothing is changed. So for a hold whose removal the sites
// record past the catalog's backup: `hold remove` asked for the removal again (exit 0).
TEST_F(WithdrawTest, HoldVerbsOnACatalogFromBeforeAHoldNameTheSitesHold) {
  BackUpCatalog(tmp_ / "before-hold");
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "court order"}).exit_code, 0);
  PutCatalogBack(tmp_ / "before-hold");

  CommandResult list = Cairn({"hold", "list"});
  EXPECT_EQ(list.exit_code, 1) << list.out << list.err;
  EXPECT_THAT(list.err, HasSubstr("site a records legal hold 1 on yale/box"));
  EXPECT_THAT(list.err, HasSubstr("court order"));
  EXPECT_THAT(list.err, HasSubstr("which this catalog does not know"));
  EXPECT_THAT(list.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult json = Cairn({"hold", "list", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).size(), 0u) << json.out;
  EXPECT_THAT(json.err, HasSubstr("site a records legal hold 1 on yale/box"));

  CommandResult removed = Cairn({"hold", "remove", "yale/box"});
  EXPECT_EQ(removed.exit_code, 1) << removed.out << removed.err;
  EXPECT_THAT(removed.err, Not(HasSubstr("no legal hold is on")));
  EXPECT_THAT(removed.err, HasSubstr("site a records legal hold 1 on yale/box"));
  EXPECT_THAT(removed.err, HasSubstr("court order"));
  EXPECT_THAT(removed.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_THAT(removed.err, HasSubstr("nothing changed"));
  // Another object with no hold anywhere is still a wrong id (exit 2).
  CommandResult none = Cairn({"hold", "remove", "yale/nope"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_THAT(none.err, HasSubstr("no legal hold is on yale/nope"));

  // Caught up: the hold is there, on, its removal not asked.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult caught_up = Cairn({"hold", "list", "--json"});
  EXPECT_EQ(caught_up.exit_code, 0) << caught_up.err;
  nlohmann::json holds = nlohmann::json::parse(caught_up.out);
  ASSERT_EQ(holds.size(), 1u) << caught_up.out;
  EXPECT_EQ(holds[0]["removal_requested_by"], "") << caught_up.out;
  CommandResult token = Cairn({"token", "create", "ann@yale"});  // no site keeps tokens
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ann_token_ = token.out.substr(0, token.out.find('\n'));

  // Its removal asked after the next backup: the old catalog's `hold remove` asked again.
  BackUpCatalog(tmp_ / "before-removal");
  ASSERT_EQ(Cairn({"hold", "remove", "yale/box"}).exit_code, 0);
  PutCatalogBack(tmp_ / "before-removal");
  CommandResult again = AsAnn({"hold", "remove", "yale/box"});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_THAT(again.err, HasSubstr("site a: hold 1: version 2 there, this catalog knew version 1"));
  EXPECT_THAT(again.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_THAT(again.err, HasSubstr("nothing changed"));
  EXPECT_THAT(again.out, Not(HasSubstr("removal of hold 1")));
  CommandResult stale = Cairn({"hold", "list"});
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_THAT(stale.err, HasSubstr("site a: hold 1: version 2 there"));
}

// A catalog put back from a backup older than the sites' event logs: a purge approved from it
// was carried out (exit 0) but its deaccession and deletion events took numbers the sites hold
// for others, and the catch-up rebuild dropped them: the only trace of who asked and approved
// was the tombstone. Request and approval are refused in that state, as a deposit is, naming
// the rebuild; nothing is removed.
TEST_F(WithdrawTest, AWithdrawalFromACatalogBehindTheSitesLogsIsRefused) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "consent", "--purge"}).exit_code,
            0);
  BackUpCatalog(tmp_ / "old");
  Deposit("yale", MakeSourceFolder("later").string(), "later");  // events the backup lacks
  PutCatalogBack(tmp_ / "old");

  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;  // refused, as by a rule
  EXPECT_THAT(approve.err, HasSubstr("the approval of withdrawal 1 of yale/box@v1 refused, "
                                     "nothing done: site a holds events up to seq"));
  EXPECT_THAT(approve.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult request = AsAnn({"withdraw", "request", "yale/box", "--reason", "x"});
  EXPECT_EQ(request.exit_code, 1) << request.out << request.err;
  EXPECT_THAT(request.err, HasSubstr("the withdrawal of yale/box refused, nothing done"));
  EXPECT_EQ(Withdrawals().size(), 1u);
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
  EXPECT_TRUE(fs::exists(BlobFile("a", "alpha of yale\n")));
  EXPECT_TRUE(fs::exists(BlobFile("b", "alpha of yale\n")));

  // Caught up, a request is taken again.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  CommandResult again = Cairn({"withdraw", "request", "yale/later", "--reason", "consent"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// Through --as, a catalog put back from a backup let in a principal as the backup knew it: a
// token revoked since, a principal disabled since, asked for and approved purges and lifted
// holds, which the sites then recorded for ever. Refused as `cairn serve` refuses them.
TEST_F(WithdrawTest, AsIsRefusedForAPrincipalTheSitesRecordAChangeOf) {
  const std::string bob = AddPrincipalWithToken("bob@yale", "partner-admin", "yale");
  BackUpCatalog(tmp_ / "old");
  const std::string id = ann_token_.substr(6, ann_token_.find('_', 6) - 6);
  ASSERT_EQ(Cairn({"token", "revoke", id}).exit_code, 0);
  ASSERT_EQ(Cairn({"principal", "disable", "bob@yale"}).exit_code, 0);
  PutCatalogBack(tmp_ / "old");
  CommandResult ann = AsAnn({"withdraw", "request", "yale/box", "--reason", "x", "--purge"});
  EXPECT_EQ(ann.exit_code, 2) << ann.out << ann.err;
  EXPECT_THAT(ann.err, HasSubstr("principal ann@yale is refused until the catalog is brought up "
                                 "to date: site a: principal ann@yale"));
  EXPECT_THAT(ann.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult held = RunCairn({"hold", "add", "yale/box", "--reason", "x", "--as", "bob@yale"},
                                {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + bob});
  EXPECT_EQ(held.exit_code, 2) << held.out << held.err;
  EXPECT_THAT(held.err, HasSubstr("principal bob@yale is refused"));
  EXPECT_EQ(Withdrawals().size(), 0u);
}

// Site b away while a purge was approved and a hold then put on the object: when b came back,
// `withdraw run` and the daemon wrote neither the tombstone (the purge, held, was passed over
// before its tombstones) nor the hold's record, said nothing and exited 0, so that a catalog
// rebuilt from b alone handed the withdrawn version back. Both reach b at the next run, which
// says the purge waits for the hold.
TEST_F(WithdrawTest, WithdrawRunBringsASiteThatWasAwayTheTombstoneAndTheHold) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "consent", "--purge"}).exit_code,
            0);
  fs::rename(Site("b"), tmp_ / "b-away");
  CommandResult approved = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approved.exit_code, 1) << approved.out << approved.err;
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "court order"}).exit_code, 0);
  fs::rename(tmp_ / "b-away", Site("b"));
  ASSERT_FALSE(fs::exists(Site("b") / "bags/yale/box/v1/WITHDRAWN"));

  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("withdrawal 1 of yale/box@v1 waits: "));
  EXPECT_THAT(run.out, HasSubstr("legal hold"));
  EXPECT_TRUE(fs::exists(Site("b") / "bags/yale/box/v1/WITHDRAWN"));
  std::vector<repo::WithdrawalRecord> withdrawals;
  std::unique_ptr<repo::Catalog> rebuilt = RebuiltFrom("b", &withdrawals);
  ASSERT_NE(rebuilt, nullptr);
  auto holds = rebuilt->ListHolds("yale");
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ(holds->size(), 1u) << "the hold reached b";
  EXPECT_EQ((*holds)[0].reason, "court order");
  EXPECT_EQ(withdrawals.size(), 1u) << "b's tombstone says yale/box v1 is withdrawn";
}

// Each site numbers its own settings records (a site made again starts at 1): a catalog rebuilt
// from one site knows that site's numbers only, and a later change reaches the others as before,
// never taken for a change it did not see.
TEST_F(WithdrawTest, ASettingChangedAfterARebuildReachesEverySite) {
  SetPolicy("yale", "copies: 2\n");
  SetPolicy("yale", "copies: 2\nretention { min_days: 1 }\n");  // version 2 on a and b
  fs::remove_all(Site("b"));
  ASSERT_EQ(Cairn({"site", "resync", "b", "--init"}).exit_code, 0);  // version 1 on b
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "b", "--force"}).exit_code, 0);
  fs::path file = tmp_ / "yale-policy.textpb";
  WriteFile(file, "copies: 2\nretention { min_days: 2 }\n");
  CommandResult set = Cairn({"policy", "set", file.string(), "--partner", "yale"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_THAT(set.err, Not(HasSubstr("never saw"))) << set.err;
  std::vector<repo::WithdrawalRecord> ignored;
  std::unique_ptr<repo::Catalog> from_a = RebuiltFrom("a", &ignored);
  ASSERT_NE(from_a, nullptr);
  auto policy = from_a->EffectivePolicy("yale");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->retention().min_days(), 2u);
}

// A withdrawal request lived only in the catalog: a catalog lost and rebuilt from a site came
// back without the requests not yet approved (and without the cancelled ones), and gave their
// numbers to the next requests, so that an approver told "approve withdrawal 1" approved
// another version than the one asked for. Requests, cancellations and approvals are kept on
// every site now (settings/withdrawals/), and a new request's number is past every one a site
// records.
TEST_F(WithdrawTest, APendingRequestSurvivesACatalogRebuildAndItsNumberIsNotGivenAgain) {
  Deposit("yale", MakeSourceFolder("two").string(), "two");
  Deposit("yale", MakeSourceFolder("three").string(), "three");
  ASSERT_EQ(
      AsAnn({"withdraw", "request", "yale/box", "--reason", "donor withdrew consent"}).exit_code,
      0);
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/two", "--reason", "duplicate"}).exit_code, 0);
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "2"}).exit_code, 0);
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/three", "--reason", "embargo"}).exit_code, 0);
  ASSERT_EQ(Cairn({"withdraw", "approve", "3"}).exit_code, 0);

  // A catalog rebuilt from either site knows all three, each as it was left.
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> all;
    std::unique_ptr<repo::Catalog> catalog = RebuiltFrom(site, &all);
    ASSERT_TRUE(catalog) << site;
    ASSERT_EQ(all.size(), 3u) << site;
    EXPECT_EQ(all[0].id, 1) << site;
    EXPECT_EQ(all[0].VersionName(), "yale/box@v1") << site;
    EXPECT_EQ(all[0].state, repo::WithdrawalState::kRequested) << site;
    EXPECT_EQ(all[0].requested_by, "ann@yale") << site;
    EXPECT_EQ(all[0].reason, "donor withdrew consent") << site;
    EXPECT_EQ(all[1].VersionName(), "yale/two@v1") << site;
    EXPECT_EQ(all[1].state, repo::WithdrawalState::kCancelled) << site;
    EXPECT_EQ(all[1].cancelled_by, "ann@yale") << site;
    EXPECT_EQ(all[2].VersionName(), "yale/three@v1") << site;
    EXPECT_EQ(all[2].state, repo::WithdrawalState::kWithdrawn) << site;
  }

  // The catalog lost and rebuilt from a: the request still waits for its second person.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt =
      Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site("a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("withdrawal 1 of yale/box@v1 (requested by ann@yale)"));
  nlohmann::json listed = Withdrawals();
  ASSERT_EQ(listed.size(), 3u) << listed.dump();
  EXPECT_EQ(listed[0]["state"], "requested");
  EXPECT_EQ(listed[0]["object"], "box");
  EXPECT_EQ(listed[1]["state"], "cancelled");
  // A new request takes a number no site records; "approve 1" approves what was asked as 1
  // (ann's token is issued again after a rebuild: the operator asks, ann approves then).
  CommandResult next =
      Cairn({"withdraw", "request", "yale/two", "--reason", "duplicate after all"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_THAT(next.out, HasSubstr("withdrawal 4 requested: yale/two@v1"));
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_THAT(approve.out, HasSubstr("yale/box@v1 is withdrawn"));
  for (const char* site : {"a", "b"}) {
    EXPECT_TRUE(fs::exists(Site(site) / repo::layout::TombstoneKey("yale", "box", 1))) << site;
    EXPECT_FALSE(fs::exists(Site(site) / repo::layout::TombstoneKey("yale", "two", 1))) << site;
  }
}

// A catalog put back from a backup older than a request knew nothing of it: `withdraw list`
// said nothing, `approve 1` answered "no withdrawal 1", and the next request took number 1
// again, so that the approver told "approve withdrawal 1" approved another version. The old
// catalog now names the site's request in the listing and refuses requests and approvals of
// the partner, naming the site and the rebuild; the rebuild brings the request back.
TEST_F(WithdrawTest, ACatalogFromBeforeARequestRefusesToNumberOrApproveInItsPlace) {
  Deposit("yale", MakeSourceFolder("two").string(), "two");
  BackUpCatalog(tmp_ / "old");
  ASSERT_EQ(
      AsAnn({"withdraw", "request", "yale/box", "--reason", "donor withdrew consent"}).exit_code,
      0);
  PutCatalogBack(tmp_ / "old");

  CommandResult list = Cairn({"withdraw", "list"});
  EXPECT_EQ(list.exit_code, 1) << list.err;  // as `list` and `hold list` on such a catalog
  EXPECT_THAT(list.err, HasSubstr("site a records withdrawal 1 of yale/box@v1 (requested by "
                                  "ann@yale"));
  EXPECT_THAT(list.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.err, HasSubstr("site a records withdrawal 1 of yale/box@v1"));
  EXPECT_THAT(approve.err, HasSubstr("cairn catalog rebuild --from a --force"));
  CommandResult request = Cairn({"withdraw", "request", "yale/two", "--reason", "duplicate"});
  EXPECT_EQ(request.exit_code, 1) << request.out << request.err;
  EXPECT_THAT(request.err, HasSubstr("the withdrawal of yale/two refused, nothing done: site a "
                                     "records withdrawal 1 of yale/box@v1"));
  EXPECT_THAT(request.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_EQ(nlohmann::json::parse(Cairn({"withdraw", "list", "--json"}).out).size(), 0u);
  EXPECT_EQ(Cairn({"show", "yale/box"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(Site("a") / repo::layout::TombstoneKey("yale", "box", 1)));

  // The rebuild it names brings the request back; numbers go on past it.
  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  ASSERT_EQ(Withdrawals().size(), 1u);
  EXPECT_EQ(Withdrawals()[0]["requested_by"], "ann@yale");
  CommandResult again = Cairn({"withdraw", "request", "yale/two", "--reason", "duplicate"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("withdrawal 2 requested: yale/two@v1"));
  CommandResult approved = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_THAT(approved.out, HasSubstr("yale/box@v1 is withdrawn"));
}

// A catalog put back from a backup older than the cancellation of a request still had it
// requested, and approved it (exit 0): the version the requester had called back was withdrawn.
// Refused now, naming the site's cancellation and the rebuild; a change of a setting made from
// the old catalog leaves the sites' cancellation as it is.
TEST_F(WithdrawTest, ARequestCancelledSinceTheCatalogsBackupIsNotApproved) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  BackUpCatalog(tmp_ / "old");
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "1"}).exit_code, 0);
  PutCatalogBack(tmp_ / "old");

  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.err, HasSubstr("site a records withdrawal 1 of yale/box@v1 cancelled by "
                                     "ann@yale"));
  EXPECT_THAT(approve.err, HasSubstr("cairn catalog rebuild --from a --force"));
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
  EXPECT_EQ(Cairn({"show", "yale/box"}).exit_code, 0);
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(Site(site) / repo::layout::TombstoneKey("yale", "box", 1))) << site;
  }
  ASSERT_EQ(Cairn({"partner", "add", "mit"}).exit_code, 0);  // a change of a setting: a sync
  for (const char* site : {"a", "b"}) {
    std::vector<repo::WithdrawalRecord> all;
    std::unique_ptr<repo::Catalog> catalog = RebuiltFrom(site, &all);
    ASSERT_TRUE(catalog) << site;
    ASSERT_EQ(all.size(), 1u) << site;
    EXPECT_EQ(all[0].state, repo::WithdrawalState::kCancelled) << site;
  }
}

// Site b away while a request was cancelled: a catalog rebuilt from b had the request still
// open and, at its next change of a setting, wrote it open again over a's cancellation, then
// approved it. The site that missed the cancellation never undoes it now: the rebuild from b
// takes the cancellation from a (tests/cli/rebuild_withdrawals_test.cc), and the approval is
// refused as of a cancelled request.
TEST_F(WithdrawTest, ACancellationASiteMissedIsNeitherUndoneNorApproved) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  fs::rename(Site("b"), tmp_ / "b-away");
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "1"}).exit_code, 0);
  fs::rename(tmp_ / "b-away", Site("b"));
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "b", "--force"});
  ASSERT_LE(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;

  ASSERT_EQ(Cairn({"partner", "add", "mit"}).exit_code, 0);  // a change of a setting: a sync
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.err, HasSubstr("withdrawal 1 of yale/box@v1 is cancelled"));
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(Site(site) / repo::layout::TombstoneKey("yale", "box", 1))) << site;
  }
  std::vector<repo::WithdrawalRecord> all;
  std::unique_ptr<repo::Catalog> from_a = RebuiltFrom("a", &all);
  ASSERT_TRUE(from_a);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, repo::WithdrawalState::kCancelled);
}

// The defect's end: a catalog that gave a request's number again (put back from a backup, an
// older cairn) holds another request under it, and "approve withdrawal 1" approved that one,
// not the one the sites record as 1. Refused now, naming the site's request and the rebuild.
TEST_F(WithdrawTest, ANumberTheSitesRecordForAnotherRequestIsNotApproved) {
  Deposit("yale", MakeSourceFolder("two").string(), "two");
  BackUpCatalog(tmp_ / "old");
  ASSERT_EQ(
      AsAnn({"withdraw", "request", "yale/box", "--reason", "donor withdrew consent"}).exit_code,
      0);
  PutCatalogBack(tmp_ / "old");
  // As a catalog that numbered by its own rows alone wrote it.
  CommandResult given = RunProcess(
      {"sqlite3", Root() + "/catalog.db",
       "INSERT INTO withdrawals (id, partner, object, version, reason, state, requested_by, "
       "requested_role, requested) VALUES (1, 'yale', 'two', 1, 'duplicate', 'requested', "
       "'carl@yale', 'partner-admin', 1)"});
  ASSERT_EQ(given.exit_code, 0) << given.err;

  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 1) << approve.out << approve.err;
  EXPECT_THAT(approve.err, HasSubstr("site a records withdrawal 1 of yale/box@v1 (requested by "
                                     "ann@yale"));
  EXPECT_THAT(approve.err, HasSubstr("this catalog has another request under that number"));
  EXPECT_THAT(approve.err, HasSubstr("cairn catalog rebuild --from a --force"));
  for (const char* site : {"a", "b"}) {
    EXPECT_FALSE(fs::exists(Site(site) / repo::layout::TombstoneKey("yale", "two", 1))) << site;
  }
  EXPECT_EQ(Withdrawals()[0]["state"], "requested");
}

// With site b down, every change of a setting, every `withdraw run` and every daemon round warned
// "site b: settings not written" (a problem of the daemon's round, exit 1), even when b lacked
// nothing. The catalog now notes what each site holds of each setting (migration 22): a site that
// is down is named only for the records it lacks, each named, with what writes them there once
// it is back; `withdraw run` then does.
TEST_F(WithdrawTest, ASiteDownIsNamedOnlyForTheSettingsItLacks) {
  fs::rename(Site("b"), tmp_ / "b-away");
  CommandResult idle = Cairn({"withdraw", "run"});
  EXPECT_EQ(idle.exit_code, 0) << idle.out << idle.err;
  EXPECT_THAT(idle.err, Not(HasSubstr("settings not written"))) << "b lacks nothing";
  CommandResult round = Cairn({"daemon", "--once"});
  EXPECT_THAT(round.out + round.err, Not(HasSubstr("settings not written")));

  CommandResult held = Cairn({"hold", "add", "yale/box", "--reason", "court order"});
  EXPECT_EQ(held.exit_code, 0) << held.out << held.err;
  EXPECT_THAT(held.err, HasSubstr("site b: settings not written"));
  EXPECT_THAT(held.err, HasSubstr("it lacks hold 1"));
  EXPECT_THAT(held.err, HasSubstr("`cairn withdraw run`"));
  EXPECT_THAT(held.err, Not(HasSubstr("site a:")));
  CommandResult still = Cairn({"withdraw", "run"});
  EXPECT_THAT(still.err, HasSubstr("site b: settings not written")) << "b still lacks it";
  EXPECT_THAT(still.err, HasSubstr("it lacks hold 1"));

  fs::rename(tmp_ / "b-away", Site("b"));
  ASSERT_FALSE(fs::exists(Site("b") / repo::layout::SettingsRecordKey("holds", "1", 1)));
  CommandResult back = Cairn({"withdraw", "run"});
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_THAT(back.err, Not(HasSubstr("settings not written")));
  EXPECT_TRUE(fs::exists(Site("b") / repo::layout::SettingsRecordKey("holds", "1", 1)));

  fs::rename(Site("b"), tmp_ / "b-away");
  CommandResult again = Cairn({"withdraw", "run"});
  EXPECT_THAT(again.err, Not(HasSubstr("settings not written"))) << "b holds the hold now";
  fs::rename(tmp_ / "b-away", Site("b"));
}

// Every file under settings/ on every site: its inode and size, by key.
std::map<std::string, std::pair<ino_t, uintmax_t>> SettingsFiles(const fs::path& root) {
  std::map<std::string, std::pair<ino_t, uintmax_t>> out;
  for (const char* site : {"a", "b"}) {
    const fs::path dir = root / "sites" / site / "settings";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!fs::is_regular_file(e.path())) continue;
      struct stat st {};
      EXPECT_EQ(stat(e.path().c_str(), &st), 0);
      out[fs::relative(e.path(), root).string()] = {st.st_ino, static_cast<uintmax_t>(st.st_size)};
    }
  }
  return out;
}

// The settings files added since `before` (a SettingsFiles), each other one checked unchanged
// (the same inode and size: not written again).
std::vector<std::string> SettingsAddedSince(
    const std::map<std::string, std::pair<ino_t, uintmax_t>>& before, const fs::path& root) {
  std::vector<std::string> added;
  for (const auto& [key, file] : SettingsFiles(root)) {
    auto it = before.find(key);
    if (it == before.end()) {
      added.push_back(key);
    } else {
      EXPECT_EQ(it->second, file) << key << " written again";
    }
  }
  return added;
}

// A catalog that knows nothing of what the sites hold (upgraded from before its settings_seen
// rows, or their values) meets sites that already hold every withdrawal record, identical: the
// next change of a setting writes its own record, one per site, and no withdrawal record again
// (none rewritten, no new version of any).
TEST_F(WithdrawTest, AChangeOfASettingWritesOnlyItsRecordWhereTheSitesHoldTheRest) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(
        AsAnn({"withdraw", "request", "yale/box", "--reason", "r" + std::to_string(i)}).exit_code,
        0);
    if (i < 3) ASSERT_EQ(AsAnn({"withdraw", "cancel", std::to_string(i)}).exit_code, 0);
  }
  ASSERT_EQ(RunProcess({"sqlite3", Root() + "/catalog.db", "DELETE FROM settings_seen"}).exit_code,
            0);
  const auto before = SettingsFiles(Root());
  ASSERT_EQ(before.count("sites/b/" + repo::layout::SettingsRecordKey("withdrawals", "3", 1)), 1u);

  CommandResult held = Cairn({"hold", "add", "yale/box", "--reason", "court order"});
  ASSERT_EQ(held.exit_code, 0) << held.out << held.err;
  EXPECT_EQ(
      SettingsAddedSince(before, Root()),
      (std::vector<std::string>{"sites/a/" + repo::layout::SettingsRecordKey("holds", "1", 1),
                                "sites/b/" + repo::layout::SettingsRecordKey("holds", "1", 1)}));
}

// After `catalog rebuild --force`, the next change of a setting (`hold add`) wrote a new version
// of sites/a on both sites (and of the trusted witness key), though nothing of them had changed
// but their created (added) time: the rebuild recorded the site it read, and every witness key,
// as made at the time of the rebuild, not the time the sites' records keep. It now keeps their
// times, so the change writes its own record alone.
TEST_F(WithdrawTest, AChangeAfterARebuildWritesOnlyItsRecord) {
  const fs::path key = tmp_ / "witness.pem", pub = tmp_ / "witness.pub.pem";
  ASSERT_EQ(Cairn({"events", "keygen", key.string(), pub.string()}).exit_code, 0);
  CommandResult trusted = Cairn({"events", "trust", "add", pub.string()});
  ASSERT_EQ(trusted.exit_code, 0) << trusted.out << trusted.err;
  CommandResult rebuilt = Cairn({"catalog", "rebuild", "--from", "a", "--force"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  const auto before = SettingsFiles(Root());

  CommandResult held = Cairn({"hold", "add", "yale/box", "--reason", "court order"});
  ASSERT_EQ(held.exit_code, 0) << held.out << held.err;
  EXPECT_EQ(
      SettingsAddedSince(before, Root()),
      (std::vector<std::string>{"sites/a/" + repo::layout::SettingsRecordKey("holds", "1", 1),
                                "sites/b/" + repo::layout::SettingsRecordKey("holds", "1", 1)}));
}

// On a catalog put back from a backup older than the sites, the listings disagreed: `list` and
// `hold list` named what the sites record past the catalog and exited 1, `withdraw list` named
// it as a "warning:" before the listing and exited 0. Every listing verb now follows `cairn
// list`: the listing, then the lines naming the site and the rebuild, exit 1; caught up, exit 0
// and nothing said. Each documents it in its --help.
TEST_F(WithdrawTest, EveryListingOnACatalogBehindTheSitesSaysSoAndExitsOne) {
  BackUpCatalog(tmp_ / "old");
  ASSERT_EQ(Cairn({"hold", "add", "yale/box", "--reason", "court order"}).exit_code, 0);
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  Deposit("yale", MakeSourceFolder("later").string(), "later");
  PutCatalogBack(tmp_ / "old");

  const std::vector<std::vector<std::string>> listings = {
      {"list"}, {"hold", "list"}, {"withdraw", "list"}};
  for (bool json : {false, true}) {
    for (std::vector<std::string> args : listings) {
      if (json) args.push_back("--json");
      SCOPED_TRACE(args[0] + " " + args[1 % args.size()] + (json ? " --json" : ""));
      CommandResult r = Cairn(args);
      EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
      EXPECT_THAT(r.err, HasSubstr("cairn catalog rebuild --from a --force")) << r.err;
      EXPECT_TRUE(r.err.starts_with("cairn: ")) << r.err;
      EXPECT_THAT(r.err, Not(HasSubstr("warning: "))) << r.err;
      if (json) EXPECT_TRUE(nlohmann::json::parse(r.out).is_array()) << r.out;
    }
  }
  for (const std::vector<std::string>& args : listings) {
    std::vector<std::string> help = args;
    help.push_back("--help");
    CommandResult h = Cairn(help);
    EXPECT_EQ(h.exit_code, 0) << h.err;
    EXPECT_THAT(h.out, HasSubstr("is behind")) << args.back() << ": " << h.out;
    EXPECT_THAT(h.out, HasSubstr("1 listed")) << args.back() << ": " << h.out;
  }

  ASSERT_EQ(Cairn({"catalog", "rebuild", "--from", "a", "--force"}).exit_code, 0);
  ASSERT_EQ(Cairn({"replicate", "--wait"}).exit_code, 0);
  for (std::vector<std::string> args : listings) {
    SCOPED_TRACE(args[0]);
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err, "");
  }
}

}  // namespace
}  // namespace cairn::testing
