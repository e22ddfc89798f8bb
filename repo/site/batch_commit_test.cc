// Batched blob commits (issue 19): Site::CommitBlobs over a posix site waits
// for the disk twice per batch (CommitBarrier: syncfs before the names, syncfs
// after) and keeps the durability promise of one blob's Commit: no name
// before its bytes are durable, nothing reported stored before its name is,
// and a failed barrier leaves nothing half made counted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <string>
#include <vector>

#include "repo/crash_point.h"
#include "repo/site/site.h"
#include "repo/storage/backends.h"
#include "repo/storage/fault_backend.h"
#include "repo/storage/memory_backend.h"
#include "repo/storage/posix_ops.h"
#include "repo/storage/sha256_stream.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;
using cairn::testing::TempDir;
using posix_io::FileOps;

std::span<const std::byte> AsBytes(std::string_view s) { return std::as_bytes(std::span(s)); }

// Regular files below `dir` (0 if it does not exist).
size_t CountFiles(const fs::path& dir) {
  if (!fs::is_directory(dir)) return 0;
  size_t n = 0;
  for (fs::recursive_directory_iterator it(dir), end; it != end; ++it) {
    if (fs::is_regular_file(it->symlink_status())) ++n;
  }
  return n;
}
using posix_io::RealFileOps;

// A FileOps table that logs the calls that order durability and can fail the
// n-th syncfs. One test at a time uses it (installed, then removed).
struct Log {
  std::mutex mu;
  std::vector<std::string> calls;  // "syncfs", "fsync", "fdatasync", "name"
  int fail_syncfs_at = 0;          // 1-based; 0: never
  int syncfs_calls = 0;
};
Log& TheLog() {
  static Log log;
  return log;
}
void Note(const char* call) {
  std::lock_guard lock(TheLog().mu);
  TheLog().calls.push_back(call);
}
int LoggedSyncfs(int fd) {
  {
    std::lock_guard lock(TheLog().mu);
    TheLog().calls.push_back("syncfs");
    if (++TheLog().syncfs_calls == TheLog().fail_syncfs_at) {
      errno = EIO;
      return -1;
    }
  }
  return RealFileOps().syncfs(fd);
}
int LoggedFsync(int fd) {
  Note("fsync");
  return RealFileOps().fsync(fd);
}
int LoggedFdatasync(int fd) {
  Note("fdatasync");
  return RealFileOps().fdatasync(fd);
}
// A blob's name made: renamed without replacing, or linked where the file
// system cannot (a first try that finds no folder yet makes none).
int LoggedLinkAt(int a, const char* b, int c, const char* d, int e) {
  int rc = RealFileOps().linkat(a, b, c, d, e);
  if (rc == 0) Note("name");
  return rc;
}
int LoggedRenameAtNoReplace(int a, const char* b, int c, const char* d) {
  int rc = RealFileOps().renameat_noreplace(a, b, c, d);
  if (rc == 0) Note("name");
  return rc;
}

class BatchCommitTest : public ::testing::Test {
 public:  // for the helpers below the tests
  void SetUp() override {
    auto site =
        Site::Init(std::move(OpenBackend("file://" + (tmp_.path() / "a").string())).value(), "a");
    ASSERT_OK(site);
    site_ = std::move(site).value();
    {
      std::lock_guard lock(TheLog().mu);
      TheLog().calls.clear();
      TheLog().fail_syncfs_at = 0;
      TheLog().syncfs_calls = 0;
    }
    ops_ = RealFileOps();
    ops_.syncfs = LoggedSyncfs;
    ops_.fsync = LoggedFsync;
    ops_.fdatasync = LoggedFdatasync;
    ops_.linkat = LoggedLinkAt;
    ops_.renameat_noreplace = LoggedRenameAtNoReplace;
    posix_io::SetFileOpsForTesting(&ops_);
  }
  void TearDown() override { posix_io::SetFileOpsForTesting(nullptr); }

  fs::path Root() const { return tmp_.path() / "a"; }

  // `n` writers holding distinct small contents "blob i".
  struct Staged {
    std::vector<std::unique_ptr<BlobWriter>> writers;
    std::vector<Site::BlobToCommit> blobs;
    std::vector<std::string> contents;
  };
  Staged Stage(Site& site, int n, const std::string& prefix = "blob ") {
    Staged s;
    for (int i = 0; i < n; ++i) {
      s.contents.push_back(prefix + std::to_string(i));
      std::string sha = Sha256Hex(s.contents.back());
      auto writer = site.NewBlobWriter(sha);
      EXPECT_OK(writer);
      EXPECT_OK((*writer)->Append(AsBytes(s.contents.back())));
      s.blobs.push_back({writer->get(), sha, s.contents.back().size()});
      s.writers.push_back(std::move(writer).value());
    }
    return s;
  }
  size_t BlobFiles() const { return CountFiles(Root() / "blobs"); }
  size_t TempFiles() const { return CountFiles(Root() / "tmp"); }
  std::vector<std::string> Calls() {
    std::lock_guard lock(TheLog().mu);
    return TheLog().calls;
  }

  TempDir tmp_;
  std::unique_ptr<Site> site_;
  FileOps ops_;
};

TEST_F(BatchCommitTest, OneSyncBeforeTheNamesAndOneAfterNoFsyncPerBlob) {
  EXPECT_TRUE(site_->capabilities().batch_commit);
  Staged s = Stage(*site_, 50);
  std::vector<Result<Site::BlobCommitResult>> results = site_->CommitBlobs(s.blobs);
  ASSERT_EQ(results.size(), 50u);
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_OK(results[i]);
    EXPECT_EQ(results[i]->how, Site::BlobCommit::kCreated);
    EXPECT_EQ(*site_->ReadAll(layout::BlobKey(s.blobs[i].sha256_hex)), s.contents[i]);
  }
  std::vector<std::string> calls = Calls();
  std::vector<std::string> expected = {"syncfs"};
  expected.insert(expected.end(), 50, "name");
  expected.push_back("syncfs");
  EXPECT_EQ(calls, expected) << "bytes durable before any name, names durable after all";
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BatchCommitTest, FailedSyncBeforeTheNamesLeavesNoBlobVisible) {
  Staged s = Stage(*site_, 20);
  TheLog().fail_syncfs_at = 1;
  std::vector<Result<Site::BlobCommitResult>> results = site_->CommitBlobs(s.blobs);
  for (const auto& r : results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kIOError) << r.status().ToString();
    EXPECT_NE(r.status().message().find("site a: blob "), std::string::npos);
  }
  EXPECT_EQ(BlobFiles(), 0u) << "no name may point at bytes not known durable";
  EXPECT_EQ(TempFiles(), 0u) << "every writer aborted";
  for (const std::string& call : Calls()) EXPECT_NE(call, "name");
}

TEST_F(BatchCommitTest, FailedSyncAfterTheNamesFailsEveryBlobOfTheBatch) {
  Staged s = Stage(*site_, 20);
  TheLog().fail_syncfs_at = 2;
  std::vector<Result<Site::BlobCommitResult>> results = site_->CommitBlobs(s.blobs);
  for (const auto& r : results) {
    ASSERT_FALSE(r.ok()) << "a name not known durable is never reported stored";
    EXPECT_EQ(r.status().code(), Code::kIOError);
  }
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BatchCommitTest, ExistingAndRepeatedBlobsAreVerifiedAndBadBytesRefused) {
  ASSERT_OK(site_->PutBlob(Sha256Hex("blob 3"), "blob 3"));  // already stored
  Staged s = Stage(*site_, 6);
  Staged again = Stage(*site_, 1, "blob 5");  // "blob 50": distinct
  Staged twin = Stage(*site_, 1);             // "blob 0" a second time in the batch
  // A writer whose bytes are not what its name says: Corruption, nothing stored.
  auto bad = site_->NewBlobWriter(Sha256Hex("expected"));
  ASSERT_OK(bad);
  ASSERT_OK((*bad)->Append(AsBytes("other bytes")));
  std::vector<Site::BlobToCommit> blobs = s.blobs;
  blobs.push_back(again.blobs[0]);
  blobs.push_back(twin.blobs[0]);
  blobs.push_back({bad->get(), Sha256Hex("expected"), 11});
  std::vector<Result<Site::BlobCommitResult>> results = site_->CommitBlobs(blobs);
  ASSERT_EQ(results.size(), 9u);
  for (size_t i = 0; i < 8; ++i) ASSERT_OK(results[i]);
  EXPECT_EQ(results[3]->how, Site::BlobCommit::kVerified);
  EXPECT_EQ(results[0]->how, Site::BlobCommit::kCreated);
  EXPECT_EQ(results[7]->how, Site::BlobCommit::kVerified) << "the twin finds the first's blob";
  EXPECT_TRUE(results[8].status().IsCorruption()) << results[8].status().ToString();
  EXPECT_FALSE(site_->HasBlob(Sha256Hex("expected")).value());
  EXPECT_EQ(BlobFiles(), 7u);
  EXPECT_EQ(TempFiles(), 0u);
}

// Two batches in a row (3 blobs, then 2) through one Site::BlobBatches, the
// `fail_at`-th syncfs failing (0: none): the results of each, in order.
struct TwoBatches {
  std::vector<Result<Site::BlobCommitResult>> first, second;
};
TwoBatches CommitTwoBatches(BatchCommitTest* test, Site& site, int fail_at) {
  auto first = test->Stage(site, 3, "first ");
  auto second = test->Stage(site, 2, "second ");
  Site::BlobBatches batches(&site);
  EXPECT_TRUE(batches.Add(first.blobs).empty()) << "no batch before the first";
  TheLog().fail_syncfs_at = fail_at;
  TwoBatches out;
  out.first = batches.Add(second.blobs);
  out.second = batches.Finish();
  EXPECT_EQ(out.first.size(), 3u);
  EXPECT_EQ(out.second.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(*site.HasBlob(second.blobs[i].sha256_hex), fail_at != 2)
        << "no name points at bytes not known durable";
  }
  return out;
}

// One syncfs between two batches makes the names of the one before and the
// bytes of the next durable; a batch's results come with the next Add (or
// Finish), after that syncfs.
TEST_F(BatchCommitTest, BatchesInARowShareTheSyncBetweenThem) {
  TwoBatches r = CommitTwoBatches(this, *site_, 0);
  for (const auto& one : r.first) ASSERT_OK(one);
  for (const auto& one : r.second) ASSERT_OK(one);
  std::vector<std::string> expected = {"syncfs", "name", "name", "name",
                                       "syncfs", "name", "name", "syncfs"};
  EXPECT_EQ(Calls(), expected);
  EXPECT_EQ(BlobFiles(), 5u);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BatchCommitTest, ASyncFailingBetweenTwoBatchesFailsBoth) {
  TwoBatches r = CommitTwoBatches(this, *site_, 2);
  for (const auto& one : r.first) {
    EXPECT_FALSE(one.ok()) << "names not known durable are never reported stored";
  }
  for (const auto& one : r.second) EXPECT_EQ(one.status().code(), Code::kIOError);
  EXPECT_EQ(TempFiles(), 0u);
}

// A batch's names made by several workers at once: every name between the
// two syncfs, twins and blobs already there (one damaged) settled as one by
// one.
TEST_F(BatchCommitTest, NamesMadeInParallelKeepTheBarrierOrder) {
  Staged s = Stage(*site_, 200);
  Staged twins = Stage(*site_, 20);  // "blob 0" ... "blob 19" again
  for (int i = 100; i < 105; ++i) ASSERT_OK(site_->PutBlob(s.blobs[i].sha256_hex, s.contents[i]));
  const fs::path damaged = Root() / layout::BlobKey(s.blobs[105].sha256_hex);
  fs::create_directories(damaged.parent_path());
  testing::WriteFile(damaged, "rotten");
  TheLog().calls.clear();
  std::vector<Site::BlobToCommit> blobs = s.blobs;
  blobs.insert(blobs.end(), twins.blobs.begin(), twins.blobs.end());
  Site::BlobBatches batches(site_.get(), 4);
  EXPECT_TRUE(batches.Add(blobs).empty());
  std::vector<Result<Site::BlobCommitResult>> results = batches.Finish();
  ASSERT_EQ(results.size(), 220u);
  for (const auto& r : results) ASSERT_OK(r);
  for (int i = 100; i < 105; ++i) EXPECT_EQ(results[i]->how, Site::BlobCommit::kVerified);
  EXPECT_EQ(results[105]->how, Site::BlobCommit::kReplaced);
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(*site_->ReadAll(layout::BlobKey(s.blobs[i].sha256_hex)), s.contents[i]);
  }
  std::vector<std::string> calls = Calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.front(), "syncfs");
  EXPECT_EQ(calls.back(), "syncfs");
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "syncfs"), 2);
  EXPECT_EQ(BlobFiles(), 200u);
  EXPECT_EQ(TempFiles(), 0u);
}

// A blob already under its name with the wrong bytes (one the catalog does
// not know, or damaged since) is found when the batch names the new one: it is
// read back, removed and replaced by the writer's bytes, which are known good.
TEST_F(BatchCommitTest, ADamagedBlobUnderTheNameIsReplacedByTheBatch) {
  Staged s = Stage(*site_, 3);
  const fs::path damaged = Root() / layout::BlobKey(s.blobs[1].sha256_hex);
  fs::create_directories(damaged.parent_path());
  testing::WriteFile(damaged, "rotten bytes");
  std::vector<Result<Site::BlobCommitResult>> results = site_->CommitBlobs(s.blobs);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) ASSERT_OK(r);
  EXPECT_EQ(results[0]->how, Site::BlobCommit::kCreated);
  EXPECT_EQ(results[1]->how, Site::BlobCommit::kReplaced);
  EXPECT_NE(results[1]->replaced.find("12 bytes"), std::string::npos) << results[1]->replaced;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(*site_->ReadAll(layout::BlobKey(s.blobs[i].sha256_hex)), s.contents[i]);
  }
  std::vector<std::string> calls = Calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), "syncfs") << "the replacing name is durable before it counts";
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "syncfs"), 2);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(BatchCommitTest, FaultPointsFirePerBlobInABatch) {
  posix_io::SetFileOpsForTesting(nullptr);
  TempDir dir;
  auto faults = std::make_unique<FaultBackend>(
      std::move(OpenBackend("file://" + (dir.path() / "f").string())).value());
  FaultBackend* f = faults.get();
  auto made = Site::Init(std::move(faults), "f");
  ASSERT_OK(made);
  Site& site = **made;
  EXPECT_TRUE(site.capabilities().batch_commit);
  Staged s = Stage(site, 4);
  f->AddRule(FaultRule::Fail(FaultPoint::kCommitBeforeVisible, Status::IOError("before (injected)"))
                 .Matching(s.blobs[1].sha256_hex));
  f->AddRule(FaultRule::Fail(FaultPoint::kCommitAfterVisible, Status::IOError("after (injected)"))
                 .Matching(s.blobs[2].sha256_hex));
  std::vector<Result<Site::BlobCommitResult>> results = site.CommitBlobs(s.blobs);
  EXPECT_OK(results[0]);
  EXPECT_OK(results[3]);
  EXPECT_FALSE(results[1].ok());
  EXPECT_FALSE(results[2].ok());
  EXPECT_FALSE(*site.HasBlob(s.blobs[1].sha256_hex)) << "before-visible: nothing stored";
  EXPECT_TRUE(*site.HasBlob(s.blobs[2].sha256_hex)) << "after-visible: stored, reported failed";
  EXPECT_EQ(f->injected(), 2);
}

TEST_F(BatchCommitTest, ABackendWithoutBatchesCommitsEachWhole) {
  auto made = Site::Init(std::make_unique<MemoryBackend>(), "m");
  ASSERT_OK(made);
  EXPECT_FALSE((*made)->capabilities().batch_commit);
  Staged s = Stage(**made, 5);
  for (const auto& r : (*made)->CommitBlobs(s.blobs)) ASSERT_OK(r);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(*(*made)->ReadAll(layout::BlobKey(s.blobs[i].sha256_hex)), s.contents[i]);
  }
}

// A process killed between the first barrier and the links (at the first
// storage.before-visible) leaves durable temp files and no blob; CleanupTemp
// removes them, and the same batch then commits whole.
[[noreturn]] void KillHere(std::string_view name) {
  if (name == "storage.before-visible") ::_exit(9);
  ::_exit(8);  // no other point may come first
}

// Killed after the barrier made the bytes durable, before any name: nothing
// of the batch is a blob. A write-once file starts without a name (O_TMPFILE),
// so nothing is left at all; where the file system cannot make one (the table
// below refuses it, as NFS would), named temp files under tmp/ are left, for
// CleanupTemp. Either way a rerun commits the batch.
int OpenAtWithoutUnnamedFiles(int dir_fd, const char* path, int flags, mode_t mode) {
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return posix_io::RealFileOps().openat(dir_fd, path, flags, mode);
}

class KilledBatchTest : public BatchCommitTest, public ::testing::WithParamInterface<bool> {};

TEST_P(KilledBatchTest, KilledBetweenTheBarrierAndTheNamesLeavesNoBlob) {
  const bool unnamed = GetParam();
  posix_io::FileOps without_unnamed = posix_io::RealFileOps();
  without_unnamed.openat = OpenAtWithoutUnnamedFiles;
  posix_io::SetFileOpsForTesting(unnamed ? nullptr : &without_unnamed);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SetCrashPointHookForTesting([](std::string_view name) { KillHere(name); });
    Staged s = Stage(*site_, 30);
    (void)site_->CommitBlobs(s.blobs);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 9);
  EXPECT_EQ(BlobFiles(), 0u);
  EXPECT_EQ(TempFiles(), unnamed ? 0u : 30u);
  ASSERT_OK(site_->backend().CleanupTemp(0));
  EXPECT_EQ(TempFiles(), 0u);
  Staged s = Stage(*site_, 30);
  for (const auto& r : site_->CommitBlobs(s.blobs)) ASSERT_OK(r);
  EXPECT_EQ(BlobFiles(), 30u);
  EXPECT_EQ(TempFiles(), 0u);
  posix_io::SetFileOpsForTesting(nullptr);
}

INSTANTIATE_TEST_SUITE_P(TempFiles, KilledBatchTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Unnamed") : std::string("NamedInTmp");
                         });

}  // namespace
}  // namespace cairn::repo
