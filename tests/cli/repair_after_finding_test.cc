// A bad copy an audit or a restore found but could not repair at once, repaired later (by the
// daemon's replication or a later sweep): the repair is a `recovery` event naming what found
// it, and the audit history marks the findings it answers repaired, so `audit report` stops
// exiting 1 for them. And `audit run --site S` of a site that cannot be opened says so (exit 1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RepairAfterFindingTest : public RepoFixture {
 protected:
  fs::path SiteDir(const std::string& site) { return tmp_ / "repo/sites" / site; }
  // Site `site` unmounted: its folder (and marker) gone from where the catalog points.
  void Unmount(const std::string& site) { fs::rename(SiteDir(site), tmp_ / ("away-" + site)); }
  void Mount(const std::string& site) { fs::rename(tmp_ / ("away-" + site), SiteDir(site)); }

  // The events of `ref` as JSON.
  nlohmann::json Events(const std::string& ref) {
    CommandResult r = Cairn({"events", ref, "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_array()) << r.out;
    return j.is_array() ? j : nlohmann::json::array();
  }
  // Events of `type` about site `site` and file `path` (path "" : any).
  std::vector<nlohmann::json> EventsOf(const nlohmann::json& events, const std::string& type,
                                       const std::string& site, const std::string& path) {
    std::vector<nlohmann::json> out;
    for (const auto& e : events) {
      if (e.value("type", "") != type || e.value("site", "") != site) continue;
      if (!path.empty() && e.value("file", "") != path) continue;
      out.push_back(e);
    }
    return out;
  }
};

// Finding 1 (the tester's first repro): a restore met a corrupt copy on site a and queued its
// repair; the daemon's round then copied it from site b as a `replication`, and no recovery
// event ever said the copy the restore found bad was repaired.
TEST_F(RepairAfterFindingTest, ACopyARestoreFoundBadIsRecoveredByTheDaemon) {
  fs::path src = MakeSourceFolder("maps");
  Deposit("acme", src.string(), "maps");
  const std::string b_bin = ReadFile(src / "sub/b.bin");
  fs::resize_file(BlobFile("a", b_bin), 100);

  CommandResult restored = Cairn({"restore", "acme/maps", (tmp_ / "out").string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("1 repair jobs queued"));
  CommandResult once = Cairn({"daemon", "--once"});
  EXPECT_LE(once.exit_code, 1) << once.out << once.err;
  EXPECT_EQ(ReadFile(BlobFile("a", b_bin)), b_bin);  // repaired

  const nlohmann::json events = Events("acme/maps");
  std::vector<nlohmann::json> recovered = EventsOf(events, "recovery", "a", "data/sub/b.bin");
  ASSERT_EQ(recovered.size(), 1u) << events.dump(1);
  EXPECT_EQ(recovered[0].value("outcome", ""), "success");
  EXPECT_THAT(recovered[0].value("detail", ""), HasSubstr("found by restore")) << events.dump(1);
  EXPECT_THAT(recovered[0].value("detail", ""), HasSubstr("from site b")) << events.dump(1);
  // Not also told as a replication of the version to site a: nothing else was copied there.
  EXPECT_TRUE(EventsOf(events, "replication", "a", "").empty()) << events.dump(1);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  EXPECT_EQ(Cairn({"audit", "run", "--all"}).exit_code, 0);
}

// Finding 1 (the second repro): an audit found corrupt copies on site a while the only good
// copies' site was down ("not repaired now: no readable good copy"); once it was back the
// daemon fixed them as `replication`s, and `audit report` kept the run's findings
// `repaired: False` and exited 1 for ever.
TEST_F(RepairAfterFindingTest, CopiesAnAuditCouldNotRepairAreRecoveredAndTheReportSaysSo) {
  fs::path src = MakeSourceFolder("maps");
  Deposit("acme", src.string(), "maps");
  const std::string b_bin = ReadFile(src / "sub/b.bin");
  const std::string a_txt = ReadFile(src / "a.txt");
  FlipByte(BlobFile("a", b_bin));
  fs::resize_file(BlobFile("a", a_txt), 3);
  Unmount("b");
  CommandResult audit = Cairn({"audit", "run", "--all", "--site", "a"});
  EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("2 corrupt")) << audit.out;
  EXPECT_THAT(audit.out, HasSubstr("0 repaired")) << audit.out;
  EXPECT_EQ(Cairn({"audit", "report"}).exit_code, 1);
  Mount("b");

  CommandResult once = Cairn({"daemon", "--once"});
  EXPECT_LE(once.exit_code, 1) << once.out << once.err;
  EXPECT_EQ(ReadFile(BlobFile("a", b_bin)), b_bin);
  EXPECT_EQ(ReadFile(BlobFile("a", a_txt)), a_txt);

  const nlohmann::json events = Events("acme/maps");
  for (const std::string path : {"data/sub/b.bin", "data/a.txt"}) {
    std::vector<nlohmann::json> recovered = EventsOf(events, "recovery", "a", path);
    ASSERT_FALSE(recovered.empty()) << path << "\n" << events.dump(1);
    EXPECT_EQ(recovered.back().value("outcome", ""), "success") << path;
    EXPECT_THAT(recovered.back().value("detail", ""), HasSubstr("audit run 1")) << path << "\n"
                                                                                << events.dump(1);
  }
  CommandResult report = Cairn({"audit", "report", "--run", "1", "--json"});
  EXPECT_EQ(report.exit_code, 0) << report.out << report.err;
  auto j = nlohmann::json::parse(report.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << report.out;
  EXPECT_EQ(j["totals"]["repaired"], 2) << report.out;
  for (const auto& f : j["findings"]) {
    if (f["outcome"] != "corrupt") continue;
    EXPECT_EQ(f["repaired"], true) << f.dump();
    EXPECT_EQ(f["repaired_from"], "b") << f.dump();
  }
  EXPECT_EQ(Cairn({"audit", "report"}).exit_code, 0);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// The same copies repaired by a later sweep rather than by the daemon's replication: the sweep
// records its own finding, repaired, and the first run's findings are marked repaired too.
TEST_F(RepairAfterFindingTest, ALaterSweepsRepairAnswersTheEarlierRunsFinding) {
  fs::path src = MakeSourceFolder("maps");
  Deposit("acme", src.string(), "maps");
  const std::string b_bin = ReadFile(src / "sub/b.bin");
  FlipByte(BlobFile("a", b_bin));
  Unmount("b");
  EXPECT_EQ(Cairn({"audit", "run", "--all", "--site", "a"}).exit_code, 1);
  Mount("b");
  CommandResult second = Cairn({"audit", "run", "--site", "a"});
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;  // found (again) and repaired
  EXPECT_EQ(ReadFile(BlobFile("a", b_bin)), b_bin);
  CommandResult report = Cairn({"audit", "report", "--run", "1", "--json"});
  EXPECT_EQ(report.exit_code, 0) << report.out << report.err;
  EXPECT_EQ(Cairn({"audit", "report"}).exit_code, 0);
}

// Finding 2: `audit run --site b` with site b unmounted said "0 of 0 copies checked ... nothing
// was due" and exited 0; with --all it named the site. A site the run was asked to check that
// cannot be opened is named and exits 1, whatever is due.
TEST_F(RepairAfterFindingTest, AnAuditOfAnUnreachableSiteSaysSoEvenWithNothingDue) {
  fs::path src = MakeSourceFolder("maps");
  Deposit("acme", src.string(), "maps");
  Unmount("b");
  CommandResult due = Cairn({"audit", "run", "--site", "b"});
  EXPECT_EQ(due.exit_code, 1) << due.out << due.err;
  EXPECT_THAT(due.out, HasSubstr("SITE UNAVAILABLE b")) << due.out;
  EXPECT_THAT(due.out, Not(HasSubstr("nothing was due"))) << due.out;
  CommandResult json = Cairn({"audit", "run", "--site", "b", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  // A site that opens, with nothing due, is still a clean run.
  CommandResult a = Cairn({"audit", "run", "--site", "a"});
  EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
  EXPECT_THAT(a.out, HasSubstr("nothing was due")) << a.out;
  Mount("b");
  EXPECT_EQ(Cairn({"audit", "run", "--site", "b"}).exit_code, 0);
}

}  // namespace
}  // namespace cairn::testing
