// End to end: `cairn gc` removes a blob no version references only after its
// grace period, says what it would do with --dry-run, records a deletion
// event, and leaves every blob a version holds; the auditor's orphan report
// points at it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CliGcTest : public RepoFixture {};

TEST_F(CliGcTest, RemovesAnUnreferencedBlobAfterTheGracePeriodOnly) {
  fs::path src = MakeSourceFolder("held");
  Deposit("acme", src.string(), "held");
  std::string sha;
  fs::path leftover = PlantUnreferencedBlob("nobody holds these bytes\n", &sha);

  // The auditor's report of the orphan is its first sighting: the grace
  // period starts then (gc_candidates), as at a first gc run.
  CommandResult orphans = CairnAt("2030-01-01T00:00:00Z", {"audit", "run", "--orphans"});
  EXPECT_NE(orphans.out.find("cairn gc"), std::string::npos) << orphans.out << orphans.err;

  // First gc (default grace 24h): kept; the first sighting's time stays.
  CommandResult first = CairnAt("2030-01-01T00:00:00Z", {"gc"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("kept for now: blob " + sha), std::string::npos) << first.out;
  EXPECT_TRUE(fs::exists(leftover));
  // Twelve hours on: still within the grace period.
  CommandResult early = CairnAt("2030-01-01T12:00:00Z", {"gc", "--json"});
  ASSERT_EQ(early.exit_code, 0) << early.err;
  auto report = nlohmann::json::parse(early.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << early.out;
  EXPECT_TRUE(report["removed"].empty()) << early.out;
  EXPECT_TRUE(fs::exists(leftover));
  // A day on: a dry run names it and changes nothing; gc removes it.
  CommandResult dry = CairnAt("2030-01-02T00:00:01Z", {"gc", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove blob " + sha + " from site a"), std::string::npos)
      << dry.out;
  EXPECT_TRUE(fs::exists(leftover));
  CommandResult gc = CairnAt("2030-01-02T00:00:01Z", {"gc"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed blob " + sha + " from site a"), std::string::npos) << gc.out;
  EXPECT_FALSE(fs::exists(leftover));

  // The removal is a PREMIS deletion event naming the blob and the site.
  CommandResult events = Cairn({"events", "--type", "deletion", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  auto list = nlohmann::json::parse(events.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << events.out;
  ASSERT_EQ(list.size(), 1u) << events.out;
  EXPECT_EQ(list[0].value("site", ""), "a");
  EXPECT_NE(list[0].value("detail", "").find(sha), std::string::npos) << events.out;
  // Everything the deposit holds is intact: a full audit finds nothing wrong.
  CommandResult audit = Cairn({"audit", "run", "--all", "--orphans"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

TEST_F(CliGcTest, GraceZeroRemovesAtOnce) {
  std::string sha;
  fs::path leftover = PlantUnreferencedBlob("removed at once\n", &sha);
  CommandResult gc = Cairn({"gc", "--grace", "0"});
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_FALSE(fs::exists(leftover)) << gc.out;
  EXPECT_EQ(Cairn({"gc", "--grace", "soon"}).exit_code, 2);
}

}  // namespace
}  // namespace cairn::testing
