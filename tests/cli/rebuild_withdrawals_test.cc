// `catalog rebuild --from SITE` from a site that missed what became of a withdrawal request (it
// was away while the request was cancelled or approved): the rebuild reads the other reachable
// sites' withdrawal records and takes the cancellation or approval from the site that records
// it, under the request's number, with who did it and when. A site it cannot read is named: the
// rebuild cannot know what became of the requests it brings back as waiting.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "repo/catalog/catalog.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RebuildWithdrawalsTest : public RepoFixture {
 protected:
  void SetUp() override {
    RepoFixture::SetUp();
    Deposit("yale", MakeSourceFolder("yale").string(), "box");
    ann_token_ = AddPrincipalWithToken("ann@yale", "partner-admin", "yale");
    ASSERT_FALSE(ann_token_.empty());
  }
  CommandResult AsAnn(std::vector<std::string> args) {
    args.insert(args.end(), {"--as", "ann@yale"});
    return RunCairn(args, {"CAIRN_REPO=" + Root(), "CAIRN_TOKEN=" + ann_token_});
  }
  fs::path Site(const std::string& name) { return fs::path(Root()) / "sites" / name; }
  void Away(const std::string& site) { fs::rename(Site(site), tmp_ / (site + "-away")); }
  void Back(const std::string& site) { fs::rename(tmp_ / (site + "-away"), Site(site)); }
  // Withdrawal `id` as the catalog at `repo` holds it.
  repo::WithdrawalRecord WithdrawalIn(const std::string& repo, int64_t id) {
    auto catalog = repo::Catalog::Open(repo + "/catalog.db");
    EXPECT_TRUE(catalog.ok());
    if (!catalog.ok()) return {};
    auto w = (*catalog)->GetWithdrawal(id);
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? *w : repo::WithdrawalRecord{};
  }
  // The catalog lost, then rebuilt in place from `site` by its URL (no catalog to look it up).
  CommandResult LoseTheCatalogAndRebuildFrom(const std::string& site) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
    return Cairn({"catalog", "rebuild", "--from", repo::FileUrl(Site(site).string())});
  }
  // A catalog rebuilt from `site` alone (every other site away) into tmp/only-SITE: what that
  // site's own records say of withdrawal 1.
  repo::WithdrawalRecord WhatSiteAloneRecords(const std::string& site, const std::string& other) {
    Away(other);
    const fs::path into = tmp_ / ("only-" + site);
    CommandResult alone = Cairn({"catalog", "rebuild", "--from", site, "--into", into.string()});
    Back(other);
    EXPECT_LE(alone.exit_code, 1) << alone.out << alone.err;
    return WithdrawalIn(into.string(), 1);
  }
  std::string ann_token_;
};

// Site b was away while ann cancelled her request. With the catalog lost, a rebuild from b had
// the request waiting again (b's record), and every `withdraw` verb of the partner then refused,
// naming a's cancellation and a rebuild from a: staff with only b at hand could not finish. The
// rebuild now takes the cancellation from a (same number, who, when), says so, exits 0; the
// next `withdraw run` gives b the cancellation.
TEST_F(RebuildWithdrawalsTest, ACancellationTheSiteReadMissedIsTakenFromTheSiteThatRecordsIt) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  Away("b");
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "1"}).exit_code, 0);
  Back("b");
  const repo::WithdrawalRecord cancelled = WithdrawalIn(Root(), 1);
  ASSERT_EQ(cancelled.state, repo::WithdrawalState::kCancelled);

  CommandResult rebuilt = LoseTheCatalogAndRebuildFrom("b");
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("withdrawal 1 of yale/box@v1: site b records it requested, "
                                     "site a cancelled by ann@yale"));
  EXPECT_THAT(rebuilt.out, HasSubstr("taken from site a"));
  EXPECT_THAT(rebuilt.out, Not(HasSubstr("wait for their second person")));
  const repo::WithdrawalRecord merged = WithdrawalIn(Root(), 1);
  EXPECT_EQ(merged.state, repo::WithdrawalState::kCancelled);
  EXPECT_EQ(merged.cancelled_by, "ann@yale");
  EXPECT_EQ(merged.cancelled_micros, cancelled.cancelled_micros);
  EXPECT_EQ(merged.requested_by, "ann@yale");
  EXPECT_EQ(merged.requested_micros, cancelled.requested_micros);

  // The rebuilt catalog is not behind any site: its listing and a new request go through (ann's
  // token issued again: no site keeps one).
  ann_token_ = Cairn({"token", "create", "ann@yale"}).out;
  ann_token_ = ann_token_.substr(0, ann_token_.find('\n'));
  CommandResult list = Cairn({"withdraw", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_THAT(list.out, HasSubstr("cancelled"));
  CommandResult again = AsAnn({"withdraw", "request", "yale/box", "--reason", "after all"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("withdrawal 2 requested"));
  EXPECT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 1) << "cancelled: never approved";

  // Site b holds the cancellation now (the request above synced the settings; so does
  // `withdraw run`): b read alone says cancelled.
  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const repo::WithdrawalRecord on_b = WhatSiteAloneRecords("b", "a");
  EXPECT_EQ(on_b.state, repo::WithdrawalState::kCancelled);
  EXPECT_EQ(on_b.cancelled_micros, cancelled.cancelled_micros);
}

// The mirror case: site b away while the request was approved (the tombstone went to a only). A
// rebuild from b had the request waiting again, and said a's tombstone was "restored" though the
// catalog kept it requested: `show` and the catalog's listing lost the approval. The approval is
// taken from a now: withdrawn, with its approver and time; b's missing tombstone is a problem
// (exit 1) naming `withdraw run`, which writes it.
TEST_F(RebuildWithdrawalsTest, AnApprovalTheSiteReadMissedIsTakenFromTheSiteThatRecordsIt) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  Away("b");
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  Back("b");
  const repo::WithdrawalRecord approved = WithdrawalIn(Root(), 1);
  ASSERT_EQ(approved.state, repo::WithdrawalState::kWithdrawn);
  const fs::path b_tombstone = Site("b") / repo::layout::TombstoneKey("yale", "box", 1);
  ASSERT_FALSE(fs::exists(b_tombstone));

  CommandResult rebuilt = LoseTheCatalogAndRebuildFrom("b");
  EXPECT_EQ(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("withdrawal 1 of yale/box@v1: site b records it requested, "
                                     "site a approved by " +
                                     approved.approved_by));
  EXPECT_THAT(rebuilt.out, HasSubstr("taken from site a"));
  EXPECT_THAT(rebuilt.out, HasSubstr("`cairn withdraw run`"));
  const repo::WithdrawalRecord merged = WithdrawalIn(Root(), 1);
  EXPECT_EQ(merged.state, repo::WithdrawalState::kWithdrawn);
  EXPECT_EQ(merged.approved_by, approved.approved_by);
  EXPECT_EQ(merged.approved_micros, approved.approved_micros);
  CommandResult show = Cairn({"show", "yale/box"});
  EXPECT_EQ(show.exit_code, 1) << show.out << show.err;
  EXPECT_THAT(show.err, HasSubstr("withdrawn"));

  CommandResult run = Cairn({"withdraw", "run"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(fs::exists(b_tombstone));
  CommandResult list = Cairn({"withdraw", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_EQ(WhatSiteAloneRecords("b", "a").state, repo::WithdrawalState::kWithdrawn);
}

// As above, but site a's record of the approval lost too (its tombstone kept): the rebuild said
// it "restored" withdrawal 1 from a's tombstone, "so the version stays withdrawn", while the
// catalog kept b's request waiting. The tombstone's approval is taken now.
TEST_F(RebuildWithdrawalsTest, AnApprovalOnlyATombstoneRecordsIsTakenFromIt) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "takedown"}).exit_code, 0);
  Away("b");
  ASSERT_EQ(Cairn({"withdraw", "approve", "1"}).exit_code, 0);
  Back("b");
  const repo::WithdrawalRecord approved = WithdrawalIn(Root(), 1);
  const fs::path record = Site("a") / repo::layout::SettingsRecordKey("withdrawals", "1", 2);
  ASSERT_TRUE(fs::remove(record)) << record;  // a's latest record: the request, as b's

  CommandResult rebuilt = LoseTheCatalogAndRebuildFrom("b");
  EXPECT_EQ(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out,
              HasSubstr("site b records withdrawal 1 requested, without its tombstone, but site a: "
                        "bags/yale/box/v1/WITHDRAWN records it approved: taken from there"));
  EXPECT_THAT(rebuilt.out, HasSubstr("`cairn withdraw run`"));
  const repo::WithdrawalRecord merged = WithdrawalIn(Root(), 1);
  EXPECT_EQ(merged.state, repo::WithdrawalState::kWithdrawn);
  EXPECT_EQ(merged.approved_by, approved.approved_by);
  EXPECT_EQ(merged.approved_micros, approved.approved_micros);
  EXPECT_EQ(Cairn({"show", "yale/box"}).exit_code, 1);
  EXPECT_EQ(Cairn({"withdraw", "run"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(Site("b") / repo::layout::TombstoneKey("yale", "box", 1)));
}

// Site b away while the request was made: a rebuild from b knew nothing of it (the next request
// was refused, naming a's record and a rebuild from a). It is taken from a, waiting for its
// second person under its number; `withdraw run` writes it to b.
TEST_F(RebuildWithdrawalsTest, ARequestTheSiteReadMissedIsTakenFromTheSiteThatRecordsIt) {
  Away("b");
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  Back("b");
  CommandResult rebuilt = LoseTheCatalogAndRebuildFrom("b");
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("withdrawal 1 of yale/box@v1: site b does not record it, "
                                     "site a records it requested by ann@yale"));
  EXPECT_THAT(rebuilt.out, HasSubstr("1 withdrawal requests restored under their numbers wait"));
  const repo::WithdrawalRecord taken = WithdrawalIn(Root(), 1);
  EXPECT_EQ(taken.state, repo::WithdrawalState::kRequested);
  EXPECT_EQ(taken.requested_by, "ann@yale");
  CommandResult list = Cairn({"withdraw", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.out << list.err;
  EXPECT_EQ(Cairn({"withdraw", "run"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(Site("b") / repo::layout::SettingsRecordKey("withdrawals", "1", 1)));
  CommandResult approve = Cairn({"withdraw", "approve", "1"});
  EXPECT_EQ(approve.exit_code, 0) << approve.out << approve.err;
}

// Site a (which recorded the cancellation) away during the rebuild from b: the rebuild brought
// the request back as waiting and exited 0, saying nothing of a. It cannot know what a records:
// it names a and the request, and exits 1; run again once a is back, it takes the cancellation.
TEST_F(RebuildWithdrawalsTest, ARequestRebuiltWhileAnotherSiteIsAwayIsNamedWithThatSite) {
  ASSERT_EQ(AsAnn({"withdraw", "request", "yale/box", "--reason", "oops"}).exit_code, 0);
  Away("b");
  ASSERT_EQ(AsAnn({"withdraw", "cancel", "1"}).exit_code, 0);
  Back("b");
  Away("a");
  CommandResult rebuilt = LoseTheCatalogAndRebuildFrom("b");
  Back("a");
  EXPECT_EQ(rebuilt.exit_code, 1) << rebuilt.out << rebuilt.err;
  EXPECT_THAT(rebuilt.out, HasSubstr("site a could not be read"));
  EXPECT_THAT(rebuilt.out, HasSubstr("withdrawal 1 of yale/box@v1"));
  EXPECT_THAT(rebuilt.out, HasSubstr("cairn catalog rebuild --from b --force"));
  EXPECT_EQ(WithdrawalIn(Root(), 1).state, repo::WithdrawalState::kRequested);

  CommandResult again = Cairn({"catalog", "rebuild", "--from", "b", "--force"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("taken from site a"));
  EXPECT_EQ(WithdrawalIn(Root(), 1).state, repo::WithdrawalState::kCancelled);
}

}  // namespace
}  // namespace cairn::testing
