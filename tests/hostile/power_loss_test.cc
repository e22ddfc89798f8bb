// Power loss, not only kill -9 (issue 14): deposit, replication, audit repair
// and site resync run in a forked child whose posix sites write through the
// power-loss model (tests/hostile/power_loss_fs.h). At a crash point
// (repo/crash_point.h) picked by a seeded schedule the child cuts the power:
// every site byte and name not made durable by an fsync is dropped, and the
// child dies. The SQLite catalog keeps what it committed (synchronous=FULL,
// see docs/RELIABILITY.md). After the "reboot":
//   1. before anything runs again, `audit run --all --no-repair` must find
//      every copy the catalog counts on its site with the right bytes (blobs,
//      tag files, version records): nothing acknowledged lost, nothing
//      half-written counted;
//   2. the real `cairn` reruns the same verb, which must complete the work;
//   3. the repository passes the crash suite's checks (consistency.h).
// The seed is printed; CAIRN_POWERLOSS_SEED=N replays a schedule and
// CAIRN_POWERLOSS_ALL=1 cuts at every crash point (slow: minutes).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>

#include "audit/audit.h"
#include "bagit/digest.h"
#include "repo/crash_point.h"
#include "repo/deposit/deposit.h"
#include "repo/events/segments.h"
#include "repo/recovery/resync.h"
#include "repo/replicate/replicate.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/hostile/consistency.h"
#include "tests/hostile/power_loss_fs.h"

namespace cairn::testing {
namespace {

namespace pl = power_loss;

constexpr int kCutsPerVerb = 3;  // and one once done: 4 verbs, 16 power cuts, under a minute

struct PowerScenario {
  std::string name;
  // Makes the state the verb starts from (real binary; `src` holds the files).
  std::function<void(const fs::path& repo, const fs::path& src)> prepare;
  // The verb through the library, in the child.
  std::function<Status(repo::Repository& r, const fs::path& src)> verb;
  // The same verb through the real binary, for the rerun.
  std::vector<std::string> (*rerun)(const fs::path& src);
  // The damage `prepare` made behind the catalog's back ("PATH on site S"), which
  // an audit may find until the verb has repaired it; and whether the site
  // `prepare` removed may be unavailable until then.
  std::vector<std::string> planted = {};
  bool planted_site_loss = false;
  // The highest exit code of a successful rerun (audit: 1 when it repaired).
  int rerun_max_exit = 0;
};

std::string SourceSha(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

std::vector<PowerScenario> PowerScenarios() {
  std::vector<PowerScenario> s;
  s.push_back({"deposit", [](const fs::path& repo, const fs::path&) { InitWithPartner(repo); },
               [](repo::Repository& r, const fs::path& src) -> Status {
                 repo::DepositRequest request;
                 request.partner = "acme";
                 request.source = src.string();
                 request.object_id = "one";
                 request.threads = 1;
                 return repo::Deposit(r, request).status();
               },
               [](const fs::path& src) {
                 return std::vector<std::string>{"deposit", "acme", src.string(), "--id", "one"};
               }});
  s.push_back({"replicate",
               [](const fs::path& repo, const fs::path& src) { InitWithDeposit(repo, src, false); },
               [](repo::Repository& r, const fs::path&) -> Status {
                 CAIRN_ASSIGN_OR_RETURN(auto lock, r.LockForWriting());
                 repo::ReplicationOptions options;
                 options.threads_per_site = 1;
                 return repo::DrainReplication(r, {}, options).status();
               },
               [](const fs::path&) {
                 return std::vector<std::string>{"replicate", "--wait"};
               }});
  s.push_back({"audit-repair",
               [](const fs::path& repo, const fs::path& src) {
                 InitWithDeposit(repo, src, true);
                 // A flipped byte, a lost blob, a lost tag file: three repairs.
                 fs::path blob =
                     repo / "sites/a" / repo::layout::BlobKey(SourceSha(SourceFiles()["big.bin"]));
                 std::string bytes = ReadFile(blob);
                 bytes[100] ^= 1;
                 fs::permissions(blob, fs::owner_read | fs::owner_write);
                 WriteFile(blob, bytes);
                 fs::remove(repo / "sites/b" /
                            repo::layout::BlobKey(SourceSha(SourceFiles()["a.txt"])));
                 fs::remove(repo / "sites/b/bags/acme/one/v1/manifest-sha256.txt");
               },
               [](repo::Repository& r, const fs::path&) -> Status {
                 CAIRN_ASSIGN_OR_RETURN(auto lock, r.LockForWriting());
                 audit::AuditOptions options;
                 options.mode = audit::AuditMode::kAll;
                 return audit::RunAudit(r, options).status();
               },
               [](const fs::path&) {
                 return std::vector<std::string>{"audit", "run", "--all"};
               },
               {"data/big.bin on site a", "data/a.txt on site b", "manifest-sha256.txt on site b"},
               false,
               1});
  s.push_back({"resync",
               [](const fs::path& repo, const fs::path& src) {
                 InitWithDeposit(repo, src, true);
                 fs::remove_all(repo / "sites/b");
               },
               [](repo::Repository& r, const fs::path&) -> Status {
                 CAIRN_ASSIGN_OR_RETURN(auto lock, r.LockForWriting());
                 repo::ResyncOptions options;
                 options.threads = 1;
                 options.init_site = true;
                 return repo::ResyncSite(r, "b", options).status();
               },
               [](const fs::path&) {
                 return std::vector<std::string>{"site", "resync", "b", "--init"};
               },
               {" on site b "},
               true});
  return s;
}

// Copies repository `from` to `to` and points the catalog's site URLs at the copy.
void CopyRepoForPowerCut(const fs::path& from, const fs::path& to) {
  CommandResult cp = RunProcess({"cp", "-a", from.string(), to.string()});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((to / "catalog.db").c_str(), &db), SQLITE_OK);
  std::string sql = "UPDATE sites SET url = replace(url, 'file://" + from.string() +
                    "/', 'file://" + to.string() + "/')";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

struct ChildRun {
  int exit_code = -1;  // pl::kCutExitCode: the power was cut
  long hits = 0;       // crash points passed (a run to the end)
  std::string report;  // the child's words
};

// Runs the scenario's verb on `repo` in a forked child with the power-loss
// model under its sites; cuts the power at crash point hit `cut_at` (0: never;
// -1: once the verb has returned).
ChildRun RunWithPowerModel(const PowerScenario& scenario, const fs::path& repo, const fs::path& src,
                           long cut_at) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  std::cout.flush();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    pl::report_fd = fds[1];
    pl::Install((repo.parent_path() / "stash").string(), {(repo / "sites").string()});
    pl::S().cut_at = cut_at;
    repo::SetCrashPointHookForTesting(pl::Hook);
    std::string line;
    int code = 0;
    {
      auto opened = repo::Repository::Open(repo.string());
      Status status = opened.status();
      if (status.ok()) status = scenario.verb(**opened, src);
      if (status.ok()) status = repo::FlushEventSegments(**opened).status();
      if (!status.ok()) {
        line = "error: " + status.ToString() + "\n";
        code = 3;
      }
    }
    if (cut_at < 0 && code == 0) {
      // Everything the verb acknowledged must survive a cut right after it.
      repo::SetCrashPointHookForTesting(nullptr);
      pl::DropCounts counts = pl::CutPower();
      line = "cut after the verb: " + std::to_string(counts.names_undone) + " names undone, " +
             std::to_string(counts.files_cut_back) + " files cut back\n";
      (void)!::write(fds[1], line.data(), line.size());
      ::_exit(pl::kCutExitCode);
    }
    line += "hits " + std::to_string(pl::S().hits.load()) + "\n";
    (void)!::write(fds[1], line.data(), line.size());
    ::_exit(code);
  }
  ::close(fds[1]);
  ChildRun run;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    run.report.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (size_t at = run.report.rfind("hits "); at != std::string::npos) {
    run.hits = std::atol(run.report.c_str() + at + 5);
  }
  return run;
}

// The lines of an audit report that name a bad copy other than the ones
// `scenario` planted ("" when there are none).
std::string UnplannedFindings(const std::string& report, const PowerScenario& scenario) {
  std::istringstream lines(report);
  std::string line, unplanned;
  while (std::getline(lines, line)) {
    const bool bad = line.starts_with("corrupt:") || line.starts_with("missing:") ||
                     line.starts_with("damaged:");
    const bool planted =
        std::any_of(scenario.planted.begin(), scenario.planted.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; });
    if (bad && !planted) unplanned += line + "\n";
  }
  return unplanned;
}

uint64_t PowerSeed() {
  if (const char* s = std::getenv("CAIRN_POWERLOSS_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST(PowerLoss, CutAtSeededCrashPointsLosesNothingAcknowledgedAndARerunCompletes) {
  const uint64_t seed = PowerSeed();
  const bool every_point = std::getenv("CAIRN_POWERLOSS_ALL") != nullptr;
  std::cout << "CAIRN_POWERLOSS_SEED=" << seed << " replays this schedule\n";
  ::testing::Test::RecordProperty("powerloss_seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir tmp;
  int cuts = 0;
  for (const PowerScenario& scenario : PowerScenarios()) {
    const fs::path base = tmp.path() / scenario.name;
    const fs::path src = base / "src";
    for (const auto& [path, bytes] : SourceFiles()) WriteFile(src / path, bytes);
    const fs::path templ = base / "template";
    scenario.prepare(templ, src);
    if (::testing::Test::HasFatalFailure()) return;

    // The crash points the verb passes, on an untouched copy, model on.
    const fs::path whole = base / "whole" / "repo";
    fs::create_directories(whole.parent_path());
    CopyRepoForPowerCut(templ, whole);
    ChildRun full = RunWithPowerModel(scenario, whole, src, 0);
    ASSERT_EQ(full.exit_code, 0) << scenario.name << " without a cut: " << full.report;
    CheckRepository(whole, SourceFiles(), scenario.name + " without a cut");
    ASSERT_GE(full.hits, kCutsPerVerb) << scenario.name << " passes too few crash points";

    std::vector<long> points(static_cast<size_t>(full.hits));
    for (long i = 0; i < full.hits; ++i) points[static_cast<size_t>(i)] = i + 1;
    if (!every_point) {
      std::shuffle(points.begin(), points.end(), rng);
      points.resize(kCutsPerVerb);
      std::sort(points.begin(), points.end());
    }
    points.push_back(-1);  // and once the verb is done
    for (long k : points) {
      const fs::path repo = base / (k < 0 ? "cut-done" : "cut-" + std::to_string(k)) / "repo";
      fs::create_directories(repo.parent_path());
      CopyRepoForPowerCut(templ, repo);
      const std::string label = scenario.name +
                                (k < 0 ? std::string(" cut once done")
                                       : " cut at crash point " + std::to_string(k) + " of " +
                                             std::to_string(full.hits)) +
                                " (seed " + std::to_string(seed) + ")";
      SCOPED_TRACE(label);
      ChildRun cut = RunWithPowerModel(scenario, repo, src, k);
      // With threads a run can end a point or two early; it still ran under the model.
      if (cut.exit_code == pl::kCutExitCode) ++cuts;
      ASSERT_TRUE(cut.exit_code == pl::kCutExitCode || cut.exit_code == 0) << cut.report;

      // 1. After the reboot, before any rerun: every counted copy is whole
      // (but for the damage `prepare` planted, until the verb is done).
      CommandResult audit = In(repo, {"audit", "run", "--all", "--no-repair"});
      const bool done = k < 0;
      if (done || (scenario.planted.empty() && !scenario.planted_site_loss)) {
        EXPECT_EQ(audit.exit_code, 0)
            << "after the power cut, a copy the catalog counts is lost or short (" << cut.report
            << "):\n"
            << audit.out << audit.err;
      } else {
        EXPECT_EQ(UnplannedFindings(audit.out, scenario), "")
            << "after the power cut (" << cut.report << "):\n"
            << audit.out << audit.err;
      }

      // 2. The same verb, run again by the real binary, completes the work.
      ExpireLeases(repo);
      CommandResult rerun = In(repo, scenario.rerun(src));
      EXPECT_TRUE(rerun.exit_code >= 0 && rerun.exit_code <= scenario.rerun_max_exit)
          << "rerun: exit " << rerun.exit_code << ": " << rerun.out << rerun.err;

      // 3. The crash suite's checks.
      CheckRepository(repo, SourceFiles(), label);
      fs::remove_all(repo.parent_path());
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  std::cout << "power loss: " << cuts << " power cuts\n";
  EXPECT_GE(cuts, 4 * (kCutsPerVerb + 1) - 2) << "seed " << seed;
}

}  // namespace
}  // namespace cairn::testing
