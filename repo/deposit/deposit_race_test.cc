// Two deposits sharing content, one refused (issue 14, item 1): the refused
// deposit must never remove a blob another deposit in flight has adopted.
// The interleaving is made deterministic with the deposits' progress
// callbacks: A stores the shared blob, B adopts it and stops before its
// commit, A is refused and abandons, then B commits.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "repo/deposit/deposit.h"
#include "repo/site/repository.h"
#include "repo/site_layout.h"
#include "tests/util/assert_ok.h"
#include "tests/util/deposit_fixture.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::DepositTest;
using cairn::testing::WriteFile;

// A one-shot gate between two threads.
class RaceGate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST_F(DepositTest, RefusedDepositKeepsABlobAConcurrentDepositAdopted) {
  const std::string shared = std::string(20000, 'S') + "shared between two deposits\n";
  const std::string sha =
      bagit::HashBytes(shared, bagit::Only(bagit::Algorithm::kSha256))[bagit::Algorithm::kSha256];
  // A: a bag whose second file has a wrong checksum in its manifest.
  fs::path bag = dir_ / "src/refused";
  MakeBag(bag, {{"data/shared.bin", shared}, {"data/z-bad.txt", "right\n"}},
          bagit::Algorithm::kSha256);
  WriteFile(bag / "data/z-bad.txt", "wrong\n");
  // B: another partner's folder holding the same file.
  WriteFile(dir_ / "src/accepted/copy.bin", shared);

  RaceGate b_adopted, a_abandoned;
  Result<DepositOutcome> b_out = Status::Aborted("B did not run");
  std::thread b_thread;
  bool b_started = false;

  DepositRequest a;
  a.partner = "acme";
  a.source = bag.string();
  a.threads = 1;
  a.replicate = false;
  a.progress = [&](const DepositProgress& p) {
    // After A stored the shared blob: run B up to its commit.
    if (p.phase != DepositProgress::Phase::kStore || p.files != 1 || b_started) return;
    b_started = true;
    b_thread = std::thread([&] {
      RepositoryOptions options;
      options.clock = &clock_;
      auto second = Repository::Open((dir_ / "repo").string(), options);
      if (!second.ok()) {
        b_out = second.status();
        b_adopted.Open();
        return;
      }
      DepositRequest b;
      b.partner = "beta";
      b.source = (dir_ / "src/accepted").string();
      b.threads = 1;
      b.progress = [&](const DepositProgress& q) {
        if (q.phase != DepositProgress::Phase::kCommit) return;
        b_adopted.Open();    // B holds the blob as "already there"
        a_abandoned.Wait();  // and commits only after A gave up
      };
      b_out = Deposit(**second, b);
      b_adopted.Open();
    });
    b_adopted.Wait();
  };
  Result<DepositOutcome> a_out = Deposit(*repo_, a);
  a_abandoned.Open();
  if (b_thread.joinable()) b_thread.join();

  ASSERT_TRUE(b_started) << "A never stored its first file";
  ASSERT_OK(a_out);
  EXPECT_TRUE(a_out->refused);
  ASSERT_OK(b_out);
  ASSERT_TRUE(b_out->receipt) << b_out->report.ToText();
  EXPECT_TRUE(b_out->receipt->warnings.empty()) << b_out->receipt->warnings.front();
  // B's file is on both sites, named by its bytes.
  for (const char* site : {"a", "b"}) {
    EXPECT_TRUE(fs::exists(SitePath(site) / layout::BlobKey(sha))) << site;
    EXPECT_EQ(VerifiedBlobs(site), 1u) << site;
  }
  // A left nothing visible.
  EXPECT_FALSE(repo_->catalog().GetVersion("acme", "refused", std::nullopt, false).ok());
  EXPECT_FALSE(fs::exists(SitePath("a") / "bags/acme/refused"));
}

}  // namespace
}  // namespace cairn::repo
