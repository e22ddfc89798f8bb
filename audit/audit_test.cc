// The sweep end to end on real posix sites: damage found, kept apart from an
// unreadable site, repaired from good copies, recorded as events.
#include "audit/audit.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "audit/audit_test_util.h"
#include "audit/report_json.h"
#include "tests/util/assert_ok.h"

namespace cairn::audit {
namespace {

const std::string kOne = "the first file\n";
const std::string kTwo = "the second file, a little longer\n";
const std::string kThree(10000, 'x');

std::map<FindingKind, std::vector<Finding>> ByKind(const AuditReport& report) {
  std::map<FindingKind, std::vector<Finding>> out;
  for (const Finding& f : report.findings) out[f.kind].push_back(f);
  return out;
}

TEST_F(AuditTest, FindsCorruptMissingTruncatedAndUnreadableSiteAndRepairs) {
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas WHERE state = 'ok'");
  int64_t per_site = replicas / 3;
  ASSERT_GT(per_site, 3);
  // Flip one byte on a, delete on a, truncate on b, lose site c.
  std::string flipped = cairn::testing::ReadFile(BlobPath("a", kOne));
  flipped[3] ^= 0x20;
  fs::remove(BlobPath("a", kOne));
  cairn::testing::WriteFile(BlobPath("a", kOne), flipped);
  fs::remove(BlobPath("a", kTwo));
  fs::resize_file(BlobPath("b", kThree), 100);
  fs::rename(SitePath("c"), dir_ / "c-away");
  uint64_t head = Head();

  clock_.Advance(91 * repo::kMicrosPerDay);  // the default interval is 90 days: all due
  auto report = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(report);
  EXPECT_EQ(report->planned, static_cast<uint64_t>(replicas));
  EXPECT_EQ(report->corrupt, 2u);
  EXPECT_EQ(report->missing, 1u);
  EXPECT_EQ(report->repaired, 3u);
  EXPECT_EQ(report->damaged, 0u);
  EXPECT_EQ(report->checked, static_cast<uint64_t>(2 * per_site));
  EXPECT_EQ(report->ok, static_cast<uint64_t>(2 * per_site - 3));
  EXPECT_EQ(report->unavailable, static_cast<uint64_t>(per_site));
  ASSERT_EQ(report->unavailable_sites.size(), 1u);
  EXPECT_EQ(report->unavailable_sites[0].substr(0, 3), "c: ");
  EXPECT_TRUE(report->HasProblems());

  auto kinds = ByKind(*report);
  ASSERT_EQ(kinds[FindingKind::kCorrupt].size(), 2u);
  ASSERT_EQ(kinds[FindingKind::kMissing].size(), 1u);
  for (const Finding& f : kinds[FindingKind::kUnavailable]) EXPECT_EQ(f.site, "c");
  // The text names the lost site's copies once, with their count and the reason, not one line
  // per copy repeating it; the damaged copies keep a line each.
  std::string text = AuditReportText(*report);
  EXPECT_NE(
      text.find("unavailable: " + std::to_string(per_site) + " copies on site c not checked: "),
      std::string::npos)
      << text;
  size_t lines = 0;
  for (size_t at = text.find("\nunavailable: "); at != std::string::npos;
       at = text.find("\nunavailable: ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << text;
  EXPECT_EQ(text.find("more copies not checked"), std::string::npos) << text;
  EXPECT_NE(text.find("SITE UNAVAILABLE c: "), std::string::npos) << text;
  EXPECT_NE(text.find("corrupt: acme/maps@v1 data/one.txt on site a"), std::string::npos) << text;
  std::map<std::string, Finding> damaged;  // by file path
  for (auto kind : {FindingKind::kCorrupt, FindingKind::kMissing}) {
    for (const Finding& f : kinds[kind]) damaged[f.path] = f;
  }
  ASSERT_EQ(damaged.count("data/one.txt"), 1u);
  const Finding& one = damaged["data/one.txt"];
  EXPECT_EQ(one.kind, FindingKind::kCorrupt);
  EXPECT_EQ(one.partner, "acme");
  EXPECT_EQ(one.object, "maps");
  EXPECT_EQ(one.version, 1u);
  EXPECT_EQ(one.site, "a");
  EXPECT_EQ(one.sha256, Sha(kOne));
  EXPECT_TRUE(one.repaired);
  EXPECT_EQ(damaged["data/two.txt"].kind, FindingKind::kMissing);
  EXPECT_EQ(damaged["data/two.txt"].site, "a");
  EXPECT_EQ(damaged["data/three.txt"].kind, FindingKind::kCorrupt);
  EXPECT_EQ(damaged["data/three.txt"].site, "b");
  EXPECT_EQ(damaged["data/three.txt"].repaired_from, "a");

  // On disk: the repaired copies hold the right bytes again.
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", kOne)), kOne);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", kTwo)), kTwo);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("b", kThree)), kThree);
  EXPECT_EQ(VerifiedBlobs("a"), 3u);
  EXPECT_EQ(VerifiedBlobs("b"), 3u);

  // Events: a fixity failure and a recovery per damaged copy, a success per
  // good copy, one warning for the unreadable site; the chain still verifies.
  EXPECT_EQ(Events("fixity check", "failure", head).size(), 3u);
  EXPECT_EQ(Events("fixity check", "success", head).size(), static_cast<size_t>(2 * per_site - 3));
  auto warnings = Events("fixity check", "warning", head);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].site(), "c");
  auto recoveries = Events("recovery", "success", head);
  ASSERT_EQ(recoveries.size(), 3u);
  for (const proto::Event& e : Events("fixity check", "failure", head)) {
    EXPECT_EQ(e.partner(), "acme");
    EXPECT_EQ(e.object(), "maps");
    EXPECT_EQ(e.version(), 1u);
    EXPECT_FALSE(e.file().empty());
    EXPECT_NE(e.detail().find("sha256 "), std::string::npos);
  }
  EXPECT_TRUE(repo_->catalog().VerifyEvents()->ok);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM replicas WHERE state <> 'ok'"), 0);
  EXPECT_EQ(CountRows("SELECT corrupt + missing * 10 + repaired * 100 + unavailable * 1000 "
                      "FROM audit_runs WHERE id = " +
                      std::to_string(report->run_id)),
            2 + 10 + 300 + 1000 * per_site);

  // Site c comes back: only its copies are still due, and they verify.
  fs::rename(dir_ / "c-away", SitePath("c"));
  Reopen();
  auto again = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(again);
  EXPECT_EQ(again->planned, static_cast<uint64_t>(per_site));
  EXPECT_EQ(again->ok, static_cast<uint64_t>(per_site));
  EXPECT_FALSE(again->HasProblems());
  auto third = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(third);
  EXPECT_EQ(third->planned, 0u);
}

// A directory where a blob's file should be (someone's mkdir, a restore tool that made a folder
// there): the sweep names the path and says a directory is there; the repair removes an empty
// one, moves one that holds anything whole to the site's lost-and-found/ (naming where, in the
// finding and the recovery event: nothing it held is lost unnamed), then writes the good copy.
// Before, the copy was missing sweep after sweep (no good copy could be written over a folder).
TEST_F(AuditTest, ADirectoryWhereABlobShouldBeIsSetAsideAndTheBlobRepaired) {
  fs::remove(BlobPath("a", kOne));
  fs::create_directories(BlobPath("a", kOne) / "kept");
  cairn::testing::WriteFile(BlobPath("a", kOne) / "kept" / "note.txt", "someone's file\n");
  fs::remove(BlobPath("b", kTwo));
  fs::create_directory(BlobPath("b", kTwo));
  uint64_t head = Head();

  auto report = RunAudit(*repo_, Options());
  ASSERT_OK(report);
  EXPECT_EQ(report->missing, 2u);
  ASSERT_EQ(report->repaired, 2u) << AuditReportText(*report);
  EXPECT_EQ(report->damaged, 0u);
  auto kinds = ByKind(*report);
  std::map<std::string, Finding> missing;  // by site
  for (const Finding& f : kinds[FindingKind::kMissing]) missing[f.site] = f;
  ASSERT_EQ(missing.size(), 2u);
  const std::string set_aside =
      (SitePath("a") / "lost-and-found" / repo::layout::BlobKey(Sha(kOne))).string();
  EXPECT_TRUE(missing["a"].repaired);
  EXPECT_NE(missing["a"].detail.find(BlobPath("a", kOne).string() + ": a directory is where"),
            std::string::npos)
      << missing["a"].detail;
  EXPECT_NE(missing["a"].detail.find("(1 file, 15 bytes) to " + set_aside), std::string::npos)
      << missing["a"].detail;
  EXPECT_TRUE(missing["b"].repaired);
  EXPECT_NE(missing["b"].detail.find("removed the empty directory " + BlobPath("b", kTwo).string()),
            std::string::npos)
      << missing["b"].detail;

  // The good copies are in place; what the directory held is kept, where the finding said.
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", kOne)), kOne);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("b", kTwo)), kTwo);
  EXPECT_EQ(cairn::testing::ReadFile(fs::path(set_aside) / "kept" / "note.txt"),
            "someone's file\n");
  auto recoveries = Events("recovery", "success", head);
  ASSERT_EQ(recoveries.size(), 2u);
  bool named = false;
  for (const proto::Event& e : recoveries) named |= e.detail().find(set_aside) != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_TRUE(repo_->catalog().VerifyEvents()->ok);

  // Repaired for good: the next sweep finds nothing (lost-and-found/ is no orphan either).
  AuditOptions options = Options();
  options.orphans = true;
  auto again = RunAudit(*repo_, options);
  ASSERT_OK(again);
  EXPECT_FALSE(again->HasProblems()) << AuditReportText(*again);
}

TEST_F(AuditTest, TagFilesAreAuditedAndRepaired) {
  fs::path bagit_txt = SitePath("b") / "bags/acme/maps/v1/bagit.txt";
  ASSERT_TRUE(fs::exists(bagit_txt));
  std::string good = cairn::testing::ReadFile(bagit_txt);
  cairn::testing::WriteFile(bagit_txt, "BagIt-Version: 0.97\n");
  auto report = RunAudit(*repo_, Options());
  ASSERT_OK(report);
  ASSERT_EQ(report->corrupt, 1u);
  EXPECT_EQ(report->findings[0].path, "bagit.txt");
  EXPECT_EQ(report->findings[0].site, "b");
  EXPECT_EQ(report->repaired, 1u);
  EXPECT_EQ(cairn::testing::ReadFile(bagit_txt), good);
}

// A decayed version.pb that still parses as a consistent record of its own
// version (one hex digit of a file's digest flipped: the soak's seed
// 3832468283 made one) is damage the catalog vouches for: this site was read
// back holding the catalog's bytes once, and bag files are written once. It
// is repaired, not left alone as if it were another deposit's record.
TEST_F(AuditTest, VersionRecordDecayedButStillParsingIsRepaired) {
  fs::path record = SitePath("b") / "bags/acme/maps/v1/version.pb";
  ASSERT_TRUE(fs::exists(record));
  const std::string good = cairn::testing::ReadFile(record);
  const std::string digest = Sha(kTwo);
  size_t at = good.find(digest);
  ASSERT_NE(at, std::string::npos) << "version.pb holds the file's digest as hex";
  std::string decayed = good;
  decayed[at] = decayed[at] == '0' ? '1' : '0';
  fs::remove(record);
  cairn::testing::WriteFile(record, decayed);
  auto report = RunAudit(*repo_, Options());
  ASSERT_OK(report);
  ASSERT_EQ(report->corrupt, 1u);
  EXPECT_EQ(report->findings[0].path, "version.pb");
  EXPECT_EQ(report->findings[0].site, "b");
  EXPECT_EQ(report->repaired, 1u);
  EXPECT_EQ(report->damaged, 0u);
  EXPECT_EQ(cairn::testing::ReadFile(record), good);
}

TEST_F(AuditTest, NoGoodCopyLeftIsDamagedLoudly) {
  for (const char* site : {"a", "b", "c"}) fs::remove(BlobPath(site, kTwo));
  uint64_t head = Head();
  auto report = RunAudit(*repo_, Options());
  ASSERT_OK(report);
  EXPECT_EQ(report->missing, 3u);
  EXPECT_EQ(report->repaired, 0u);
  EXPECT_EQ(report->damaged, 3u);
  EXPECT_TRUE(report->HasProblems());
  auto kinds = ByKind(*report);
  ASSERT_EQ(kinds[FindingKind::kDamaged].size(), 3u);
  EXPECT_EQ(kinds[FindingKind::kDamaged][0].path, "data/two.txt");
  EXPECT_NE(kinds[FindingKind::kDamaged][0].detail.find("DAMAGED"), std::string::npos);
  EXPECT_EQ(Events("recovery", "failure", head).size(), 3u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM replicas WHERE state = 'missing'"), 3);
}

TEST_F(AuditTest, BadSourcesMetWhileRepairingAreCountedOnce) {
  fs::remove(BlobPath("a", kTwo));
  cairn::testing::WriteFile(BlobPath("b", kTwo), "not the second file\n");
  cairn::testing::WriteFile(BlobPath("c", kTwo), "not it either\n");
  AuditOptions options = Options(AuditMode::kDue);
  options.scope.site = "a";
  clock_.Advance(91 * repo::kMicrosPerDay);
  auto first = RunAudit(*repo_, options);
  ASSERT_OK(first);
  EXPECT_EQ(first->missing, 1u);
  EXPECT_EQ(first->corrupt, 2u);  // b's and c's copies, outside this sweep's scope
  EXPECT_EQ(first->damaged, 1u);
  EXPECT_EQ(first->repaired, 0u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM replicas WHERE state = 'corrupt'"), 2);
  // b's sweep checks b's copy itself (once), and meets c's bad copy again.
  options.scope.site = "b";
  auto second = RunAudit(*repo_, options);
  ASSERT_OK(second);
  EXPECT_EQ(second->corrupt, 2u);
  EXPECT_EQ(second->damaged, 1u);
}

TEST_F(AuditTest, BucketsCoverEveryCopyExactlyOnce) {
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");
  std::set<std::pair<std::string, std::string>> seen;
  uint64_t total = 0;
  for (int n = 1; n <= 4; ++n) {
    uint64_t head = Head();
    AuditOptions options = Options();
    options.sample = std::to_string(n) + "/4";
    auto report = RunAudit(*repo_, options);
    ASSERT_OK(report);
    total += report->checked;
    for (const proto::Event& e : Events("fixity check", "success", head)) {
      EXPECT_TRUE(seen.insert({e.site(), e.file()}).second) << e.site() << " " << e.file();
    }
  }
  EXPECT_EQ(total, static_cast<uint64_t>(replicas));
  EXPECT_EQ(seen.size(), static_cast<size_t>(replicas));
}

TEST_F(AuditTest, KilledSweepResumesWithoutDoubleCounting) {
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");
  clock_.Advance(91 * repo::kMicrosPerDay);
  uint64_t head = Head();
  AuditOptions options = Options(AuditMode::kDue);
  // Stopped after five checks, as SIGTERM stops it: one site and one worker at a
  // time, so that no other check is in flight when the fifth one cancels the run.
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  options.threads = 1;
  options.workers_per_site = 1;
  options.progress = [&cancel](const AuditProgress& p) {
    if (p.checked >= 5) cancel = true;
  };
  options.batch_size = 2;
  auto first = RunAudit(*repo_, options);
  ASSERT_OK(first);
  EXPECT_TRUE(first->stopped);
  EXPECT_EQ(first->checked, 5u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs WHERE state = 'aborted' AND checked = 5"),
            1);
  Reopen();
  auto second = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(second);
  EXPECT_FALSE(second->stopped);
  EXPECT_EQ(second->checked, static_cast<uint64_t>(replicas - 5));
  EXPECT_EQ(Events("fixity check", "success", head).size(), static_cast<size_t>(replicas));
  auto third = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(third);
  EXPECT_EQ(third->checked, 0u);
}

// A sweep killed outright (SIGKILL, in a child process) after a finding was
// committed: the finding is in audit_findings under the killed run, the
// resumed sweep skips the copies already checked and does not report it again.
TEST_F(AuditTest, FindingsOfASweepKilledOutrightAreKeptAndNotCountedTwice) {
  int64_t replicas = CountRows("SELECT COUNT(*) FROM replicas");
  const std::string fixity_events = "SELECT COUNT(*) FROM events WHERE type = 'fixity check'";
  int64_t fixity_before = CountRows(fixity_events);
  std::string flipped = cairn::testing::ReadFile(BlobPath("a", kOne));
  flipped[3] ^= 0x20;
  fs::remove(BlobPath("a", kOne));
  cairn::testing::WriteFile(BlobPath("a", kOne), flipped);
  clock_.Advance(91 * repo::kMicrosPerDay);
  repo_.reset();  // no SQLite connection open across the fork
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    repo::RepositoryOptions open;
    open.clock = &clock_;
    auto child = repo::Repository::Open((dir_ / "repo").string(), open);
    if (!child.ok()) _exit(2);
    AuditOptions options = Options(AuditMode::kDue);
    options.threads = 1;  // site a first, then b and c: checks follow the finding
    options.workers_per_site = 1;
    options.batch_size = 1;
    uint64_t problem_at = 0;
    options.progress = [&](const AuditProgress& p) {
      if (p.problems > 0 && problem_at == 0) problem_at = p.checked;
      if (problem_at != 0 && p.checked > problem_at + 1) raise(SIGKILL);
    };
    (void)RunAudit(**child, options);
    _exit(3);  // not killed: the test fails below
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  Reopen();
  // The killed run: never finished, its finding and counts committed.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_runs WHERE finished IS NULL OR finished = 0"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_findings f JOIN audit_runs r ON r.id = f.run_id "
                      "WHERE (r.finished IS NULL OR r.finished = 0) AND f.kind = 'corrupt' "
                      "AND f.path = 'data/one.txt' AND f.site = 'a' AND f.repaired = 1"),
            1);
  int64_t checked_before = CountRows("SELECT checked FROM audit_runs");
  EXPECT_GE(checked_before, 2);
  EXPECT_LT(checked_before, replicas);
  // Every committed check has its PREMIS event (same transaction), no more.
  EXPECT_EQ(CountRows(fixity_events) - fixity_before, checked_before);

  auto resumed = RunAudit(*repo_, Options(AuditMode::kDue));
  ASSERT_OK(resumed);
  EXPECT_EQ(resumed->checked, static_cast<uint64_t>(replicas - checked_before));
  EXPECT_EQ(resumed->corrupt, 0u);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM audit_findings"), 1);
  EXPECT_EQ(CountRows("SELECT SUM(checked) FROM audit_runs"), replicas);
  EXPECT_EQ(CountRows("SELECT SUM(corrupt) FROM audit_runs"), 1);
  EXPECT_EQ(CountRows(fixity_events) - fixity_before, replicas);  // one per copy, no double
  auto chain = repo_->catalog().VerifyEvents();
  ASSERT_OK(chain);
  EXPECT_TRUE(chain->ok) << chain->problem;
}

// Copies larger than one pread are hashed from a memory map in 16 MiB
// windows: a byte flipped in the second window and a truncated copy are
// corrupt (not unavailable) and repaired from the good one.
TEST_F(AuditTest, LargeCopiesReadThroughTheMapAreCheckedAndRepaired) {
  std::string big(17 * 1024 * 1024 + 5, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) >> 7);
  cairn::testing::WriteFile(dir_ / "in/large/big.bin", big);
  Run("acme", (dir_ / "in/large").string());
  AuditOptions options = Options();
  options.scope.partner = "acme";
  options.scope.object = "large";
  auto clean = RunAudit(*repo_, options);
  ASSERT_OK(clean);
  EXPECT_EQ(clean->corrupt + clean->missing + clean->unavailable, 0u);
  EXPECT_GE(clean->bytes, 3 * big.size());

  std::string flipped = big;
  flipped[16 * 1024 * 1024 + 3] ^= 0x01;
  fs::remove(BlobPath("a", big));
  cairn::testing::WriteFile(BlobPath("a", big), flipped);
  fs::resize_file(BlobPath("b", big), 20 * 1024 * 1024);  // longer: past the mapped size
  auto report = RunAudit(*repo_, options);
  ASSERT_OK(report);
  EXPECT_EQ(report->corrupt, 2u);
  EXPECT_EQ(report->repaired, 2u);
  EXPECT_EQ(report->unavailable, 0u);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("a", big)), big);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("b", big)), big);

  fs::resize_file(BlobPath("c", big), 1000);  // shorter: read by the generic path
  auto again = RunAudit(*repo_, options);
  ASSERT_OK(again);
  EXPECT_EQ(again->corrupt, 1u);
  EXPECT_EQ(again->repaired, 1u);
  EXPECT_EQ(cairn::testing::ReadFile(BlobPath("c", big)), big);
}

TEST_F(AuditTest, ScopeAndPercentAndOrphans) {
  AuditOptions options = Options();
  options.scope.site = "b";
  auto b = RunAudit(*repo_, options);
  ASSERT_OK(b);
  int64_t per_site = CountRows("SELECT COUNT(*) FROM replicas") / 3;
  EXPECT_EQ(b->checked, static_cast<uint64_t>(per_site));
  options.sample = "50%";
  auto half = RunAudit(*repo_, options);
  ASSERT_OK(half);
  EXPECT_EQ(half->checked, static_cast<uint64_t>((per_site + 1) / 2));

  options = Options();
  options.scope.partner = "beta";
  auto none = RunAudit(*repo_, options);
  ASSERT_OK(none);
  EXPECT_EQ(none->checked, 0u);
  options.scope.partner = "nobody";
  EXPECT_FALSE(RunAudit(*repo_, options).ok());

  // A blob on site a that no catalog entry names.
  std::string stray = "stray bytes\n";
  cairn::testing::WriteFile(BlobPath("a", stray), stray);
  options = Options();
  options.orphans = true;
  auto orphans = RunAudit(*repo_, options);
  ASSERT_OK(orphans);
  EXPECT_EQ(orphans->orphans, 1u);
  EXPECT_EQ(orphans->no_copy, 0u);
  EXPECT_TRUE(orphans->HasProblems());
}

TEST_F(AuditTest, RateLimitSleepsThroughTheInjectedClock) {
  AuditOptions options = Options();
  options.scope.site = "a";
  options.rate_bytes_per_sec = 1000;
  int64_t before = clock_.NowMicros();
  auto report = RunAudit(*repo_, options);
  ASSERT_OK(report);
  // About (bytes - one second of burst) / rate seconds of fake time went by.
  double expected = static_cast<double>(report->bytes - 1000) / 1000.0 * 1e6;
  double slept = static_cast<double>(clock_.NowMicros() - before);
  EXPECT_GT(report->bytes, 10000u);
  EXPECT_NEAR(slept, expected, expected * 0.05);
}

}  // namespace
}  // namespace cairn::audit
