// End to end: the audit history after the catalog is lost. The runs and findings of `audit
// report` were kept only in the catalog; every sweep's checks and repairs are PREMIS events on
// the sites, which `catalog rebuild --from SITE` loads back. An auditor then saw "0 runs" with
// no word of why, and the next sweep checked every copy again as never verified. The rebuild
// now takes each run back under the number its events name (marked rebuilt, and what is not
// known named), with the failures no later check or repair answered as open findings; and a copy
// whose last fixity check on its site succeeded with its size keeps that check's time as verified.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "repo/site/repository.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuditHistoryRebuildTest : public RepoFixture {
 protected:
  // Deposits acme/one, checks every copy on 2027-01-10, damages a.txt on site b, checks again
  // on 2027-01-20 without repairing (an open finding), then loses the catalog and rebuilds it
  // from site a on 2027-02-01.
  void AuditThenLoseTheCatalog() {
    Deposit("acme", MakeSourceFolder("one").string(), "one");
    CommandResult first = CairnAt("2027-01-10", {"audit", "run", "--all"});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    FlipByte(BlobFile("b", "alpha of one\n"));
    CommandResult second = CairnAt("2027-01-20", {"audit", "run", "--all", "--no-repair"});
    ASSERT_EQ(second.exit_code, 1) << second.out << second.err;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
    CommandResult rebuilt =
        CairnAt("2027-02-01",
                {"catalog", "rebuild", "--from", repo::FileUrl((tmp_ / "repo/sites/a").string())});
    ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
    rebuild_out_ = rebuilt.out;
  }
  std::string rebuild_out_;
};

TEST_F(AuditHistoryRebuildTest, ReportAfterARebuildShowsTheRunsOfTheEventLog) {
  AuditThenLoseTheCatalog();
  EXPECT_THAT(rebuild_out_, HasSubstr("audit history rebuilt from the event log: 2 runs"));

  CommandResult text = CairnAt("2027-02-01", {"audit", "report"});
  // The damaged copy on b: its failed check was never answered by a repair or a good check.
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  EXPECT_THAT(text.out, Not(HasSubstr(": 0 runs")));
  EXPECT_THAT(text.out, HasSubstr("run 1 2027-01-10T00:00:00Z (rebuilt) done"));
  EXPECT_THAT(text.out, HasSubstr("run 2 2027-01-20T00:00:00Z (rebuilt) done"));
  EXPECT_THAT(text.out, HasSubstr("rebuilt from the sites' event logs by the catalog rebuild of "));
  EXPECT_THAT(text.out, HasSubstr("(from site a): its fixity checks and repairs as the log "
                                  "records them, up to 2027-01-20T00:00:00Z"));
  EXPECT_THAT(text.out, HasSubstr("cairn events --type 'fixity check'"));
  EXPECT_THAT(text.out, HasSubstr("not known"));
  // Two sweeps of 2 x 8 copies (3 payload files, 5 tag files a site), one of them corrupt.
  EXPECT_THAT(text.out, HasSubstr("checked 32, ok 31, corrupt 1"));
  EXPECT_THAT(text.out, HasSubstr("run 2 corrupt: acme/one@v1 data/a.txt on site b"));

  CommandResult json = CairnAt("2027-02-01", {"audit", "report", "--format", "json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  nlohmann::json doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc["runs"].size(), 2u) << doc.dump(1);
  for (const nlohmann::json& run : doc["runs"]) {
    EXPECT_EQ(run["counts"]["checked"], 16) << run.dump(1);
    ASSERT_TRUE(run.contains("rebuilt")) << run.dump(1);
    EXPECT_EQ(run["rebuilt"]["from_site"], "a") << run.dump(1);
  }
  EXPECT_EQ(doc["runs"][0]["id"], 1);
  EXPECT_EQ(doc["runs"][0]["counts"]["corrupt"], 0);
  EXPECT_EQ(doc["runs"][1]["id"], 2);
  EXPECT_EQ(doc["runs"][1]["counts"]["corrupt"], 1);
  EXPECT_EQ(doc["runs"][1]["started"], "2027-01-20T00:00:00Z");
  EXPECT_EQ(doc["runs"][1]["sites"]["b"]["corrupt"], 1);
  ASSERT_EQ(doc["findings"].size(), 1u) << doc.dump(1);
  EXPECT_EQ(doc["findings"][0]["run"], 2);
  EXPECT_EQ(doc["findings"][0]["site"], "b");
  EXPECT_EQ(doc["findings"][0]["path"], "data/a.txt");
  EXPECT_EQ(doc["findings"][0]["repaired"], false);

  // The next sweep takes the next number, repairs the copy and answers the rebuilt finding: the
  // report exits 0 again.
  CommandResult repair = CairnAt("2027-02-02", {"audit", "run", "--site", "b"});
  EXPECT_EQ(repair.exit_code, 1) << repair.out << repair.err;  // found and repaired
  EXPECT_THAT(repair.out, HasSubstr("audit run 3:"));
  EXPECT_THAT(repair.out, HasSubstr("1 repaired"));
  CommandResult after = CairnAt("2027-02-02", {"audit", "report", "--format", "json"});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
}

TEST_F(AuditHistoryRebuildTest, CopiesLastCheckedGoodAreNotDueAgainAfterARebuild) {
  AuditThenLoseTheCatalog();
  // Checked on 2027-01-20 with the default 90 days between checks: only the copy whose last
  // check failed (a.txt on b) is due on 2027-02-01; the other 15 keep their check's time.
  CommandResult shown = CairnAt("2027-02-01", {"show", "acme/one", "--json"});
  nlohmann::json doc = nlohmann::json::parse(shown.out);
  for (const nlohmann::json& f : doc["files"]) {
    for (const nlohmann::json& c : f["copies"]) {
      const bool damaged = f["path"] == "data/a.txt" && c["site"] == "b";
      EXPECT_EQ(c["state"], damaged ? "unverified" : "ok") << f.dump();
    }
  }
  CommandResult due = CairnAt("2027-02-01", {"audit", "run", "--no-repair"});
  EXPECT_EQ(due.exit_code, 1) << due.out << due.err;
  EXPECT_THAT(due.out, HasSubstr("1 of 1 copies checked"));
  EXPECT_THAT(due.out, HasSubstr("1 corrupt"));
  // Past the 90 days, every copy is due again.
  CommandResult later = CairnAt("2027-04-21", {"audit", "run", "--no-repair"});
  EXPECT_THAT(later.out, HasSubstr("16 of 16 copies checked"));
}

// A copy the last check found bad whose site now lists it at another size (or not at all) was
// not recorded by the rebuild: `cairn replicate` copied it again as a plain copy and the
// rebuilt finding stayed open, `audit report` exiting 1 for ever. It is recorded bad now, so its
// copy by `replicate` is its repair and answers the finding.
TEST_F(AuditHistoryRebuildTest, ACopyFoundBadAndGoneFromTheListingIsRepairedByReplicate) {
  Deposit("acme", MakeSourceFolder("one").string(), "one");
  ASSERT_EQ(CairnAt("2027-01-10", {"audit", "run", "--all"}).exit_code, 0);
  const fs::path blob = BlobFile("b", "alpha of one\n");
  fs::permissions(blob, fs::owner_read | fs::owner_write);
  WriteFile(blob, "alpha of one, rewritten\n");
  ASSERT_EQ(CairnAt("2027-01-20", {"audit", "run", "--all", "--no-repair"}).exit_code, 1);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(Root() + "/catalog.db" + suffix);
  CommandResult rebuilt = CairnAt("2027-02-01", {"catalog", "rebuild", "--from",
                                                 repo::FileUrl((tmp_ / "repo/sites/a").string())});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_EQ(CairnAt("2027-02-01", {"audit", "report"}).exit_code, 1);
  CommandResult replicated = CairnAt("2027-02-01", {"replicate"});
  EXPECT_EQ(replicated.exit_code, 0) << replicated.out << replicated.err;
  EXPECT_EQ(ReadFile(blob), "alpha of one\n");
  CommandResult report = CairnAt("2027-02-01", {"audit", "report", "--format", "json"});
  EXPECT_EQ(report.exit_code, 0) << report.out << report.err;
  nlohmann::json doc = nlohmann::json::parse(report.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << doc.dump(1);
  EXPECT_EQ(doc["findings"][0]["repaired"], true) << doc.dump(1);
  CommandResult events = Cairn({"events", "acme/one", "--type", "recovery"});
  EXPECT_THAT(events.out, HasSubstr("site=b")) << events.out;
}

}  // namespace
}  // namespace cairn::testing
