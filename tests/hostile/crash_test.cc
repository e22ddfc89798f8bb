// Crash consistency (issue 7): deposit, replication, audit repair, site resync
// and catalog rebuild are each killed with SIGKILL at crash points
// (repo/crash_point.h: every object made visible on a site, every catalog
// commit) picked by a seeded random schedule, then run again. After the rerun:
// every object the catalog lists restores byte-identical, every copy the
// catalog counts is on its site and verifies, the event chain verifies, no
// temp file is left on any site, and no half-made version is listed.
//
// The seed is printed; CAIRN_CRASH_SEED=N replays a schedule.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <random>

#include "bagit/digest.h"
#include "repo/site_layout.h"
#include "tests/hostile/consistency.h"

namespace cairn::testing {
namespace {

constexpr int kKillsPerScenario = 11;  // 5 scenarios: 55 kill points

struct Scenario {
  std::string name;
  // Makes the state the command starts from, in repository `repo` (tmp holds the source).
  std::function<void(const fs::path& repo, const fs::path& src)> prepare;
  // The command, for a repository at `repo`.
  std::function<std::vector<std::string>(const fs::path& repo)> command;
  // A rerun that refuses with this message found the killed run's work done
  // (catalog rebuild refuses to replace the readable catalog it made).
  std::string done_message;
};

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> s;
  s.push_back({"deposit", [](const fs::path& repo, const fs::path&) { InitWithPartner(repo); },
               [](const fs::path& repo) {
                 return std::vector<std::string>{
                     "deposit", "acme", (repo.parent_path() / "src").string(), "--id", "one"};
               }});
  s.push_back({"replicate",
               [](const fs::path& repo, const fs::path& src) { InitWithDeposit(repo, src, false); },
               [](const fs::path&) {
                 return std::vector<std::string>{"replicate", "--wait"};
               }});
  s.push_back(
      {"audit-repair",
       [](const fs::path& repo, const fs::path& src) {
         InitWithDeposit(repo, src, true);
         // Damage three copies: a flipped byte, a lost blob, a lost tag file.
         std::string sha =
             bagit::HashBytes(SourceFiles()["big.bin"],
                              bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
         fs::path blob = repo / "sites/a" / cairn::repo::layout::BlobKey(sha);
         std::string bytes = ReadFile(blob);
         bytes[100] ^= 1;
         fs::permissions(blob, fs::owner_read | fs::owner_write);
         WriteFile(blob, bytes);
         sha = bagit::HashBytes(SourceFiles()["a.txt"],
                                bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
         fs::remove(repo / "sites/b" / cairn::repo::layout::BlobKey(sha));
         fs::remove(repo / "sites/b/bags/acme/one/v1/manifest-sha256.txt");
       },
       [](const fs::path&) {
         return std::vector<std::string>{"audit", "run", "--all"};
       }});
  s.push_back({"resync",
               [](const fs::path& repo, const fs::path& src) {
                 InitWithDeposit(repo, src, true);
                 fs::remove_all(repo / "sites/b");
               },
               [](const fs::path&) {
                 return std::vector<std::string>{"site", "resync", "b", "--init", "--threads", "2"};
               }});
  s.push_back(
      {"rebuild",
       [](const fs::path& repo, const fs::path& src) {
         InitWithDeposit(repo, src, true);
         MustSucceed(In(repo, {"deposit", "acme", src.string(), "--id", "two"}), "deposit two");
         for (const char* f : {"catalog.db", "catalog.db-wal", "catalog.db-shm"})
           fs::remove(repo / f);
       },
       [](const fs::path& repo) {
         return std::vector<std::string>{"catalog", "rebuild", "--from",
                                         "file://" + (repo / "sites/a").string()};
       },
       "exists and is readable: refusing to replace it"});
  return s;
}

// Copies `from` to `to` and points the catalog's site URLs at the copy.
void CopyRepo(const fs::path& from, const fs::path& to) {
  CommandResult cp = RunProcess({"cp", "-a", from.string(), to.string()});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  fs::path db_path = to / "catalog.db";
  if (!fs::exists(db_path)) return;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string sql = "UPDATE sites SET url = replace(url, 'file://" + from.string() +
                    "/', 'file://" + to.string() + "/')";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

uint64_t Seed() {
  if (const char* s = std::getenv("CAIRN_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST(CrashConsistency, KilledAtSeededCrashPointsThenRerunLeavesAConsistentRepository) {
  const uint64_t seed = Seed();
  std::cout << "CAIRN_CRASH_SEED=" << seed << " replays this schedule\n";
  ::testing::Test::RecordProperty("crash_seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir tmp;
  int kills = 0, trial = 0;
  for (const Scenario& scenario : Scenarios()) {
    fs::path base = tmp.path() / scenario.name;
    for (const auto& [path, bytes] : SourceFiles()) WriteFile(base / "src" / path, bytes);
    fs::path templ = base / "template";
    scenario.prepare(templ, base / "src");
    if (::testing::Test::HasFatalFailure()) return;

    // How many crash points the command passes, on an untouched copy.
    fs::path traced = base / "traced";
    CopyRepo(templ, traced);
    fs::path trace = base / "trace.txt";
    CommandResult full =
        In(traced, scenario.command(traced), {"CAIRN_CRASH_TRACE=" + trace.string()});
    ASSERT_NE(full.exit_code, -1) << scenario.name << ": " << full.err;
    ASSERT_NE(full.exit_code, 2) << scenario.name << ": " << full.out << full.err;
    CheckRepository(traced, SourceFiles(), scenario.name + " without a kill");
    std::string lines = ReadFile(trace);
    const int hits = static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
    ASSERT_GE(hits, kKillsPerScenario) << scenario.name << " passes too few crash points";

    std::vector<int> points(hits);
    for (int i = 0; i < hits; ++i) points[i] = i + 1;
    std::shuffle(points.begin(), points.end(), rng);
    points.resize(kKillsPerScenario);
    std::sort(points.begin(), points.end());
    for (int k : points) {
      fs::path repo = base / ("kill-" + std::to_string(k)) / "repo";
      fs::create_directories(repo.parent_path());
      for (const auto& [path, bytes] : SourceFiles())
        WriteFile(repo.parent_path() / "src" / path, bytes);
      CopyRepo(templ, repo);
      std::string label = scenario.name + " killed at crash point " + std::to_string(k) + " of " +
                          std::to_string(hits) + " (seed " + std::to_string(seed) + ")";
      CommandResult killed =
          In(repo, scenario.command(repo), {"CAIRN_CRASH_AT=*:" + std::to_string(k)});
      if (killed.exit_code == -1) ++kills;
      ExpireLeases(repo);
      CommandResult rerun = In(repo, scenario.command(repo));
      EXPECT_NE(rerun.exit_code, -1) << label;
      bool done_before = !scenario.done_message.empty() &&
                         rerun.err.find(scenario.done_message) != std::string::npos;
      EXPECT_TRUE(rerun.exit_code != 2 || done_before) << label << ": " << rerun.out << rerun.err;
      CheckRepository(repo, SourceFiles(), label);
      ++trial;
      fs::remove_all(repo.parent_path());
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  std::cout << "crash consistency: " << kills << " kills in " << trial << " trials\n";
  ::testing::Test::RecordProperty("kills", kills);
  EXPECT_GE(kills, 50) << "seed " << seed;
}

}  // namespace
}  // namespace cairn::testing
