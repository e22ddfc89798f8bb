// The power-loss model itself (tests/hostile/power_loss_fs.h): what it keeps
// and what it drops, with raw calls through the table and with the posix
// backend's real writer.
#include "tests/hostile/power_loss_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "repo/storage/backends.h"
#include "repo/storage/posix_ops.h"
#include "tests/util/assert_ok.h"
#include "tests/util/test_util.h"

namespace cairn::testing {
namespace {

namespace pl = power_loss;
using repo::posix_io::Ops;

class PowerLossModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_);
    pl::Install((tmp_ / "stash").string(), {root_.string()});
  }
  void TearDown() override { pl::Uninstall(); }

  static void WriteAll(int fd, std::string_view bytes) {
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  int OpenNew(const fs::path& path) {
    return Ops().open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  static void SyncFolder(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(Ops().fsync(fd), 0);
    ::close(fd);
  }

  TempDir tmp_;
  fs::path root_ = tmp_.path() / "site";
};

TEST_F(PowerLossModelTest, BytesAfterTheLastFsyncAreDroppedAndSyncedOnesKept) {
  int fd = OpenNew(root_ / "f");
  ASSERT_GE(fd, 0);
  WriteAll(fd, "0123456789");
  ASSERT_EQ(Ops().fsync(fd), 0);
  WriteAll(fd, "abcde");
  ::close(fd);
  SyncFolder(root_);
  pl::DropCounts dropped = pl::CutPower();
  EXPECT_EQ(dropped.files_cut_back, 1);
  EXPECT_EQ(ReadFile(root_ / "f"), "0123456789");
}

// A file made without a name (O_TMPFILE, as the posix writer makes write-once
// files) and linked later: its bytes count from the syncfs before the link,
// not before; the link is a name like any other.
TEST_F(PowerLossModelTest, AnUnnamedFileKeepsTheBytesOfTheSyncfsBeforeItsLink) {
  auto link = [&](int fd, const fs::path& to) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    return Ops().linkat(AT_FDCWD, self.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW);
  };
  int synced = Ops().openat(AT_FDCWD, root_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  int unsynced = Ops().openat(AT_FDCWD, root_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(synced, 0);
  ASSERT_GE(unsynced, 0);
  WriteAll(synced, "durable before its name");
  ASSERT_EQ(Ops().syncfs(synced), 0);  // its bytes, while it has no name
  WriteAll(unsynced, "never synced");
  ASSERT_EQ(link(synced, root_ / "kept"), 0);
  ASSERT_EQ(link(unsynced, root_ / "cut"), 0);
  ::close(synced);
  ::close(unsynced);
  SyncFolder(root_);  // both names durable
  pl::DropCounts dropped = pl::CutPower();
  EXPECT_EQ(ReadFile(root_ / "kept"), "durable before its name");
  EXPECT_EQ(ReadFile(root_ / "cut"), "") << "bytes no sync covered are lost";
  EXPECT_EQ(dropped.files_cut_back, 1);
}

TEST_F(PowerLossModelTest, ANameWhoseFolderWasNotSyncedIsUndone) {
  int fd = OpenNew(root_ / "g");
  ASSERT_GE(fd, 0);
  WriteAll(fd, "bytes");
  ASSERT_EQ(Ops().fsync(fd), 0);  // the bytes, not the name
  ::close(fd);
  ASSERT_EQ(Ops().mkdir((root_ / "sub").c_str(), 0755), 0);
  fd = OpenNew(root_ / "sub/h");
  ASSERT_GE(fd, 0);
  ASSERT_EQ(Ops().fsync(fd), 0);
  ::close(fd);
  SyncFolder(root_ / "sub");  // h is in sub, but sub's own name is not durable
  pl::CutPower();
  EXPECT_FALSE(fs::exists(root_ / "g"));
  EXPECT_FALSE(fs::exists(root_ / "sub"));
}

TEST_F(PowerLossModelTest, RenameOverAndUnlinkAreUndoneUntilTheFolderIsSynced) {
  pl::Uninstall();  // files made before the model are durable
  WriteFile(root_ / "old", "old bytes");
  WriteFile(root_ / "gone", "still here");
  pl::Install((tmp_ / "stash").string(), {root_.string()});
  int fd = OpenNew(root_ / "new.tmp");
  ASSERT_GE(fd, 0);
  WriteAll(fd, "new bytes");
  ASSERT_EQ(Ops().fsync(fd), 0);
  ::close(fd);
  ASSERT_EQ(Ops().rename((root_ / "new.tmp").c_str(), (root_ / "old").c_str()), 0);
  ASSERT_EQ(Ops().unlink((root_ / "gone").c_str()), 0);
  EXPECT_EQ(ReadFile(root_ / "old"), "new bytes");
  pl::DropCounts dropped = pl::CutPower();
  EXPECT_EQ(dropped.names_undone, 3);  // create, rename, unlink
  EXPECT_EQ(ReadFile(root_ / "old"), "old bytes");
  EXPECT_EQ(ReadFile(root_ / "gone"), "still here");
  EXPECT_FALSE(fs::exists(root_ / "new.tmp"));
}

TEST_F(PowerLossModelTest, ThePosixWritersCommitIsDurableAndARemoveIsNotUntilSynced) {
  auto backend = repo::OpenPosixBackend("file://" + root_.string());
  ASSERT_OK(backend);
  ASSERT_OK((*backend)->Put("blobs/ab/cd/blob", "durable bytes"));
  ASSERT_OK((*backend)->Put("kept", "kept bytes"));
  pl::Uninstall();
  pl::Install((tmp_ / "stash").string(), {root_.string()});
  ASSERT_OK((*backend)->Remove("kept"));
  pl::CutPower();
  EXPECT_EQ(ReadFile(root_ / "blobs/ab/cd/blob"), "durable bytes");
  EXPECT_EQ(ReadFile(root_ / "kept"), "kept bytes") << "a removal is durable only when synced";
  EXPECT_TRUE(!fs::exists(root_ / "tmp") || fs::is_empty(root_ / "tmp"))
      << "the writer's temp name was never durable";
}

}  // namespace
}  // namespace cairn::testing
