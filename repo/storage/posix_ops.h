// The system calls through which the posix backend changes what a site holds
// (creates, names, syncs and removes files and folders), as one table of
// function pointers. Production uses the real calls; a test may install
// another table to watch or alter them (tests/hostile/power_loss_fs.h models
// power loss with it: writes and names not yet made durable by an fsync are
// dropped at a crash point). Reads, writes of bytes and copies are not in the
// table: what an fsync makes durable is read from the file (fstat) when it is
// called.
#ifndef CAIRN_REPO_STORAGE_POSIX_OPS_H_
#define CAIRN_REPO_STORAGE_POSIX_OPS_H_

#include <sys/types.h>

#include <atomic>

namespace cairn::repo::posix_io {

// Same arguments, return values and errno as the system calls they stand for.
struct FileOps {
  int (*open)(const char* path, int flags, mode_t mode);
  int (*openat)(int dir_fd, const char* path, int flags, mode_t mode);
  int (*fsync)(int fd);
  int (*fdatasync)(int fd);
  // Every file and name of the file system that holds `fd` (a site's batch
  // barrier, repo/storage/posix_writer.cc).
  int (*syncfs)(int fd);
  int (*link)(const char* from, const char* to);
  int (*linkat)(int from_dir, const char* from, int to_dir, const char* to, int flags);
  int (*rename)(const char* from, const char* to);
  int (*renameat)(int from_dir, const char* from, int to_dir, const char* to);
  // renameat2(..., RENAME_NOREPLACE): EEXIST instead of replacing `to`;
  // EINVAL where the file system cannot (link, then unlink, instead).
  int (*renameat_noreplace)(int from_dir, const char* from, int to_dir, const char* to);
  int (*unlink)(const char* path);
  int (*unlinkat)(int dir_fd, const char* path, int flags);
  int (*mkdir)(const char* path, mode_t mode);
  int (*mkdirat)(int dir_fd, const char* path, mode_t mode);
};

// The table of the real system calls.
const FileOps& RealFileOps();

namespace internal {
extern std::atomic<const FileOps*> g_file_ops;
}  // namespace internal

// The table in use: the real calls unless a test installed another. One
// relaxed atomic load.
inline const FileOps& Ops() { return *internal::g_file_ops.load(std::memory_order_relaxed); }

// Tests only (a test hook, repo/test_hooks.h: not in the shipped binary):
// makes `ops` the table of every posix backend of this process
// (nullptr: the real calls again). `ops` must outlive its use; install it
// before any site is opened and remove it when none is in use.
void SetFileOpsForTesting(const FileOps* ops);

}  // namespace cairn::repo::posix_io

#endif  // CAIRN_REPO_STORAGE_POSIX_OPS_H_
