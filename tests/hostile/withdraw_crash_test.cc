// Crash consistency of a withdrawal (issue 18): `cairn withdraw approve` of a purge (approval,
// tombstones, the catalog's purge step, each removal) killed with SIGKILL at every crash point
// it passes, and `withdraw request` killed after its commit. At the moment of the kill: every
// copy the catalog counts is on its site and verifies (`audit run --all --no-repair`), and no
// byte of the version is gone from a site unless every site holds its tombstone. After a rerun
// (`withdraw approve` again, then `withdraw run`): purged, the blob another partner shares kept
// and its object restoring whole, the bytes only the purged version held gone from every site,
// the event chain verifying.
#include <gmock/gmock.h>

#include <algorithm>

#include "bagit/digest.h"
#include "repo/site_layout.h"
#include "tests/hostile/consistency.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

std::string Sha(const std::string& bytes) {
  return bagit::HashBytes(bytes, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
}

// bmus/two shares "a.txt" with acme/one (SourceFiles) and holds one file of its own.
std::map<std::string, std::string> OtherFiles() {
  return {{"a.txt", SourceFiles()["a.txt"]}, {"own.txt", "bmus only\n"}};
}

class WithdrawCrashTest : public ::testing::Test {
 protected:
  // It names withdrawal 1: numbered in sequence by cairn-testing (repo/test_hooks.h).
  void SetUp() override { setenv("CAIRN_SEQUENTIAL_NUMBERS", "1", 1); }

  // A repository with acme/one and bmus/two deposited and withdrawal 1 (purge of acme/one)
  // requested by ann@acme; returns the environment that acts as ann.
  std::vector<std::string> Prepare(const fs::path& repo) {
    InitWithPartner(repo);
    for (const auto& [path, bytes] : SourceFiles())
      WriteFile(repo.parent_path() / "src" / path, bytes);
    for (const auto& [path, bytes] : OtherFiles())
      WriteFile(repo.parent_path() / "other" / path, bytes);
    MustSucceed(In(repo, {"deposit", "acme", (repo.parent_path() / "src").string(), "--id", "one"}),
                "deposit acme");
    MustSucceed(In(repo, {"partner", "add", "bmus"}), "partner add");
    MustSucceed(
        In(repo, {"deposit", "bmus", (repo.parent_path() / "other").string(), "--id", "two"}),
        "deposit bmus");
    MustSucceed(
        In(repo, {"principal", "add", "ann@acme", "--role", "partner-admin", "--partner", "acme"}),
        "principal add");
    CommandResult token = In(repo, {"token", "create", "ann@acme"});
    MustSucceed(token, "token create");
    std::vector<std::string> ann = {"CAIRN_TOKEN=" + token.out.substr(0, token.out.find('\n'))};
    MustSucceed(In(repo,
                   {"withdraw", "request", "acme/one", "--reason", "consent", "--purge", "--as",
                    "ann@acme"},
                   ann),
                "request");
    return ann;
  }

  // Blobs acme/one alone holds.
  static std::vector<std::string> AcmeOnly() {
    std::vector<std::string> out;
    for (const auto& [path, bytes] : SourceFiles()) {
      if (path != "a.txt") out.push_back(Sha(bytes));
    }
    return out;
  }

  // What must hold at any moment, killed or not.
  static void CheckInvariants(const fs::path& repo, const std::string& label) {
    SCOPED_TRACE(label);
    CommandResult audit = In(repo, {"audit", "run", "--all", "--no-repair"});
    EXPECT_EQ(audit.exit_code, 0) << "a counted copy is missing: " << audit.out << audit.err;
    bool removed = false;
    for (const char* site : {"a", "b"}) {
      for (const std::string& sha : AcmeOnly()) {
        if (!fs::exists(repo / "sites" / site / repo::layout::BlobKey(sha))) removed = true;
      }
      if (!fs::exists(repo / "sites" / site / repo::layout::VersionRecordKey("acme", "one", 1))) {
        removed = true;
      }
    }
    if (removed) {
      for (const char* site : {"a", "b"}) {
        EXPECT_TRUE(
            fs::exists(repo / "sites" / site / repo::layout::TombstoneKey("acme", "one", 1)))
            << "bytes removed while site " << site << " has no tombstone";
      }
    }
    // bmus/two stays whole.
    fs::path out = repo.parent_path() / "restored-two";
    fs::remove_all(out);
    CommandResult restore = In(repo, {"restore", "bmus/two", out.string()});
    EXPECT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_EQ(ReadTree(out / "data"), OtherFiles());
    fs::remove_all(out);
  }

  static void CheckPurged(const fs::path& repo, const std::string& label) {
    SCOPED_TRACE(label);
    CommandResult list = In(repo, {"withdraw", "list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(nlohmann::json::parse(list.out)[0]["state"], "purged") << list.out;
    for (const char* site : {"a", "b"}) {
      fs::path root = repo / "sites" / site;
      for (const std::string& sha : AcmeOnly()) {
        EXPECT_FALSE(fs::exists(root / repo::layout::BlobKey(sha))) << site << " " << sha;
      }
      EXPECT_TRUE(fs::exists(root / repo::layout::BlobKey(Sha(SourceFiles()["a.txt"]))));
      EXPECT_FALSE(fs::exists(root / repo::layout::VersionRecordKey("acme", "one", 1)));
      EXPECT_TRUE(fs::exists(root / repo::layout::TombstoneKey("acme", "one", 1)));
    }
    CheckInvariants(repo, label);
    CommandResult verify = In(repo, {"events", "verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    CommandResult restore = In(repo, {"restore", "acme/one", (repo.parent_path() / "x").string()});
    EXPECT_NE(restore.exit_code, 0);
  }

  TempDir tmp_;
};

TEST_F(WithdrawCrashTest, KilledAtEveryPointOfApprovalAndPurgeThenRerunCompletes) {
  // How many crash points the approval passes, without a kill.
  fs::path traced = tmp_.path() / "traced" / "repo";
  Prepare(traced);
  if (HasFatalFailure()) return;
  fs::path trace = tmp_.path() / "trace.txt";
  CommandResult full =
      In(traced, {"withdraw", "approve", "1"}, {"CAIRN_CRASH_TRACE=" + trace.string()});
  ASSERT_EQ(full.exit_code, 0) << full.out << full.err;
  CheckPurged(traced, "without a kill");
  std::string lines = ReadFile(trace);
  const int hits = static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
  for (const char* point : {"withdraw.approved", "withdraw.tombstone-written",
                            "withdraw.purge.tombstones-done", "withdraw.purge.key-removed"}) {
    EXPECT_THAT(lines, HasSubstr(std::string(point) + "\n"));
  }
  int kills = 0;
  for (int k = 1; k <= hits; ++k) {
    fs::path repo = tmp_.path() / ("kill-" + std::to_string(k)) / "repo";
    Prepare(repo);
    if (HasFatalFailure()) return;
    const std::string label =
        "killed at crash point " + std::to_string(k) + " of " + std::to_string(hits);
    CommandResult killed =
        In(repo, {"withdraw", "approve", "1"}, {"CAIRN_CRASH_AT=*:" + std::to_string(k)});
    EXPECT_EQ(killed.exit_code, -1) << label << ": " << killed.out << killed.err;
    if (killed.exit_code == -1) ++kills;
    CheckInvariants(repo, label + ", before the rerun");
    CommandResult again = In(repo, {"withdraw", "approve", "1"});
    EXPECT_NE(again.exit_code, 2) << label << ": " << again.out << again.err;
    CommandResult run = In(repo, {"withdraw", "run"});
    EXPECT_EQ(run.exit_code, 0) << label << ": " << run.out << run.err;
    CheckPurged(repo, label + ", after the rerun");
    fs::remove_all(repo.parent_path());
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(kills, hits);
}

TEST_F(WithdrawCrashTest, KilledAfterTheRequestCommitsTheRequestStands) {
  fs::path repo = tmp_.path() / "req" / "repo";
  InitWithPartner(repo);
  for (const auto& [path, bytes] : SourceFiles())
    WriteFile(repo.parent_path() / "src" / path, bytes);
  MustSucceed(In(repo, {"deposit", "acme", (repo.parent_path() / "src").string(), "--id", "one"}),
              "deposit");
  CommandResult killed = In(repo, {"withdraw", "request", "acme/one", "--reason", "r"},
                            {"CAIRN_CRASH_AT=withdraw.requested:1"});
  ASSERT_EQ(killed.exit_code, -1) << killed.err;
  CommandResult rerun = In(repo, {"withdraw", "request", "acme/one", "--reason", "r"});
  EXPECT_EQ(rerun.exit_code, 1);
  EXPECT_THAT(rerun.err, HasSubstr("already has withdrawal 1 (requested)"));
}

}  // namespace
}  // namespace cairn::testing
