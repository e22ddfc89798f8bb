// FileOps (repo/storage/posix_ops.h): the real system calls, and the table in use.
#include "repo/storage/posix_ops.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cairn::repo::posix_io {
namespace {

int RealOpen(const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); }
int RealOpenAt(int dir_fd, const char* path, int flags, mode_t mode) {
  return ::openat(dir_fd, path, flags, mode);
}

int RealRenameAtNoReplace(int from_dir, const char* from, int to_dir, const char* to) {
  return ::renameat2(from_dir, from, to_dir, to, RENAME_NOREPLACE);
}

constexpr FileOps kRealFileOps = {
    .open = RealOpen,
    .openat = RealOpenAt,
    .fsync = ::fsync,
    .fdatasync = ::fdatasync,
    .syncfs = ::syncfs,
    .link = ::link,
    .linkat = ::linkat,
    .rename = ::rename,
    .renameat = ::renameat,
    .renameat_noreplace = RealRenameAtNoReplace,
    .unlink = ::unlink,
    .unlinkat = ::unlinkat,
    .mkdir = ::mkdir,
    .mkdirat = ::mkdirat,
};

}  // namespace

const FileOps& RealFileOps() { return kRealFileOps; }

namespace internal {
std::atomic<const FileOps*> g_file_ops{&kRealFileOps};
}  // namespace internal

// SetFileOpsForTesting is a test hook: repo/test_hooks.cc.

}  // namespace cairn::repo::posix_io
