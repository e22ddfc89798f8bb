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
