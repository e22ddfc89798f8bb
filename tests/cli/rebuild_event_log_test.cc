// End to end (docs/RELIABILITY.md "event-log divergence after a rebuild"): a
// catalog rebuilt from a site that missed the last flushes (it was down) must
// adopt the longest verified event log among the sites, never number its own
// new events over events another site holds, so that `events verify` and the
// auditor find every site's log in agreement afterwards.
#include <gtest/gtest.h>

#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class CliRebuildEventLogTest : public RepoFixture {};

TEST_F(CliRebuildEventLogTest, RebuildFromALaggingSiteAdoptsTheLongerLogOfTheOther) {
  Deposit("acme", MakeSourceFolder("one").string(), "one");
  // Site a is down while a sweep checks site b: b's log gets events a lacks.
  const fs::path a = tmp_ / "repo/sites/a", away = tmp_ / "repo/sites/a.away";
  fs::rename(a, away);
  CommandResult sweep = Cairn({"audit", "run", "--site", "b", "--all"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out << sweep.err;
  fs::rename(away, a);
  // The catalog is lost; it is rebuilt from the lagging site a.
  for (const char* f : {"catalog.db", "catalog.db-wal", "catalog.db-shm"})
    fs::remove(tmp_ / "repo" / f);
  CommandResult rebuild = Cairn({"catalog", "rebuild", "--from", "file://" + a.string()});
  ASSERT_LE(rebuild.exit_code, 1) << rebuild.out << rebuild.err;
  EXPECT_NE(rebuild.out.find("event log taken from site b"), std::string::npos) << rebuild.out;
  // The sweep's fixity events (held by b alone) are in the rebuilt history.
  CommandResult fixity = Cairn({"events", "--type", "fixity check"});
  EXPECT_EQ(fixity.exit_code, 0) << fixity.err;
  EXPECT_NE(fixity.out.find("site=b"), std::string::npos) << fixity.out;
  // Every site's log agrees with the catalog's: nothing was renumbered.
  CommandResult verify = Cairn({"events", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("site a: event log copy agrees"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("site b: event log copy agrees"), std::string::npos) << verify.out;
  CommandResult audit = Cairn({"audit", "run", "--all", "--no-repair"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace cairn::testing
