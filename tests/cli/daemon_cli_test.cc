// `cairn daemon` and the auditor's verbs on the real binary: a schedule added
// from the command line fires in `daemon --once`, repairs a damaged copy, and
// `audit report` shows it; CAIRN_FAKE_NOW makes it due again without
// waiting; a running daemon stops cleanly on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "repo/catalog/sqlite.h"
#include "tests/util/assert_ok.h"
#include "tests/util/repo_fixture.h"

namespace cairn::testing {
namespace {

class DaemonCliTest : public RepoFixture {
 protected:
  nlohmann::json Json(const std::vector<std::string>& args, int want_exit = 0) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  int64_t Count(const std::string& sql) {
    auto db = repo::sql::Db::Open(Root() + "/catalog.db", false, 30'000);
    EXPECT_OK(db);
    auto n = db->QueryInt(sql);
    EXPECT_OK(n) << sql;
    return n.ok() ? *n : -1;
  }
};

TEST_F(DaemonCliTest, OnceRunsTheDueScheduleRepairsAndReportShowsIt) {
  fs::path src = MakeSourceFolder("maps");
  Deposit("acme", src.string(), "maps");
  std::string b_bin = ReadFile(src / "sub/b.bin");
  FlipByte(BlobFile("a", b_bin));

  CommandResult add = Cairn({"audit", "schedule", "add", "weekly", "--every", "7d", "--all"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  CommandResult dup = Cairn({"audit", "schedule", "add", "weekly", "--every", "7d"});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("schedule weekly already exists"), std::string::npos) << dup.err;
  CommandResult bad = Cairn({"audit", "schedule", "add", "x", "--every", "7 days"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("duration '7 days'"), std::string::npos) << bad.err;
  CommandResult no_site = Cairn({"audit", "schedule", "add", "x", "--every", "7d", "--site", "q"});
  EXPECT_EQ(no_site.exit_code, 2);
  EXPECT_NE(no_site.err.find("q"), std::string::npos);

  CommandResult once = Cairn({"daemon", "--once"});
  EXPECT_EQ(once.exit_code, 1) << once.out << once.err;  // a corrupt copy was found
  EXPECT_NE(once.out.find("schedule weekly"), std::string::npos) << once.out;
  EXPECT_EQ(ReadFile(BlobFile("a", b_bin)), b_bin);  // repaired

  nlohmann::json report = Json({"audit", "report", "--format", "json"}, 0);
  ASSERT_EQ(report["runs"].size(), 1u);
  EXPECT_EQ(report["runs"][0]["schedule"], "weekly");
  EXPECT_EQ(report["runs"][0]["state"], "done");
  EXPECT_EQ(report["totals"]["corrupt"], 1);
  EXPECT_EQ(report["totals"]["repaired"], 1);
  EXPECT_EQ(report["totals"]["checked"], Count("SELECT COUNT(*) FROM replicas"));
  bool found = false;
  for (const auto& f : report["findings"]) {
    if (f["outcome"] != "corrupt") continue;
    found = true;
    EXPECT_EQ(f["path"], "data/sub/b.bin");
    EXPECT_EQ(f["site"], "a");
    EXPECT_EQ(f["partner"], "acme");
    EXPECT_EQ(f["object"], "maps");
    EXPECT_EQ(f["repaired"], true);
  }
  EXPECT_TRUE(found);
  CommandResult csv = Cairn({"audit", "report", "--format", "csv"});
  EXPECT_NE(csv.out.find("finding,"), std::string::npos);
  fs::path html = tmp_ / "report.html";
  ASSERT_EQ(Cairn({"audit", "report", "--format", "html", "-o", html.string()}).exit_code, 0);
  EXPECT_NE(ReadFile(html).find("<svg"), std::string::npos);

  nlohmann::json list = Json({"audit", "schedule", "list", "--json"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0]["last_run"], "");
  std::string next_run = list[0]["next_run"];

  // Not due again: a second round audits nothing.
  CommandResult quiet = Cairn({"daemon", "--once"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_runs"), 1);
  // Eight days later (CAIRN_FAKE_NOW, for tests) it fires again, all good.
  std::string later = std::to_string(std::time(nullptr) + 8 * 86400);
  CommandResult fired =
      RunCairn({"daemon", "--once"}, {"CAIRN_REPO=" + Root(), "CAIRN_FAKE_NOW=" + later});
  EXPECT_EQ(fired.exit_code, 0) << fired.out << fired.err;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_runs WHERE schedule = 'weekly' AND corrupt = 0 "
                  "AND state = 'done'"),
            1);
  EXPECT_NE(Json({"audit", "schedule", "list", "--json"})[0]["next_run"], next_run);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
}

// Site b's share was unmounted at a deposit, then mounted again: the daemon's rounds left its
// copies queued until the end of their backoff (30 s after one failure, up to 6 hours after a
// long outage). A round makes at once the copies that failed because their site could not be
// reached, once that site answers; a site still down keeps its backoff.
TEST_F(DaemonCliTest, ARoundMakesTheCopiesOfASiteBackAtOnce) {
  const fs::path b = tmp_ / "repo/sites/b";
  const std::string marker = ReadFile(b / "CAIRN-SITE");
  fs::remove(b / "CAIRN-SITE");
  ASSERT_EQ(Cairn({"partner", "add", "acme"}).exit_code, 0);
  CommandResult deposit = Cairn({"deposit", "acme", MakeSourceFolder("maps").string()});
  ASSERT_EQ(deposit.exit_code, 1) << deposit.out << deposit.err;  // stored, b's copies pending
  CommandResult down = Cairn({"daemon", "--once"});
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_FALSE(fs::exists(b / "bags/acme/src-maps/v1/version.pb"));

  WriteFile(b / "CAIRN-SITE", marker);
  CommandResult back = Cairn({"daemon", "--once"});
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  EXPECT_TRUE(fs::exists(b / "bags/acme/src-maps/v1/version.pb"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 0);
}

TEST_F(DaemonCliTest, SigtermStopsARunningSweepCleanly) {
  fs::path src = tmp_ / "src-many";
  for (int i = 0; i < 40; ++i) {
    std::string bytes(50'000, static_cast<char>('a' + i % 26));
    bytes += std::to_string(i);
    WriteFile(src / ("f" + std::to_string(i) + ".bin"), bytes);
  }
  Deposit("acme", src.string(), "many");
  // 100 kB/s per site: the sweep takes about 20 s, so SIGTERM lands inside it.
  ASSERT_EQ(Cairn({"audit", "schedule", "add", "slow", "--every", "1d", "--all", "--rate", "100k"})
                .exit_code,
            0);
  fs::path log = tmp_ / "daemon.log";
  pid_t pid = StartCairn({"daemon", "--interval", "1s"}, log, {"CAIRN_REPO=" + Root()});
  ASSERT_GT(pid, 0);
  bool running = false;
  for (int i = 0; i < 600 && !running; ++i) {  // a guard against a hang, not a timing check
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    running = Count("SELECT COUNT(*) FROM audit_runs WHERE state = 'running'") > 0;
  }
  ASSERT_TRUE(running) << ReadFile(log);
  // Counts are committed in batches; let a few copies be checked first.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 600 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "the daemon did not stop on SIGTERM\n" << ReadFile(log);
  }
  ASSERT_TRUE(WIFEXITED(status)) << ReadFile(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("cairn daemon stopped"), std::string::npos) << ReadFile(log);

  // Consistent: the run is recorded as aborted with what it checked, the
  // schedule is still due (the next start resumes it), no job is leased, the
  // event chain verifies.
  int64_t replicas = Count("SELECT COUNT(*) FROM replicas");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_runs WHERE state = 'aborted'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_runs WHERE state = 'running'"), 0);
  int64_t checked = Count("SELECT checked FROM audit_runs");
  EXPECT_GT(checked, 0);
  EXPECT_LT(checked, replicas);
  EXPECT_EQ(Count("SELECT SUM(checked) FROM audit_run_sites"), checked);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM schedules WHERE last_run = 0"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'leased'"), 0);
  EXPECT_EQ(Cairn({"events", "verify"}).exit_code, 0);
  nlohmann::json report = Json({"audit", "report", "--json"}, 0);
  ASSERT_EQ(report["runs"].size(), 1u);
  EXPECT_EQ(report["runs"][0]["state"], "aborted");
  EXPECT_EQ(report["totals"]["checked"], checked);
}

}  // namespace
}  // namespace cairn::testing
