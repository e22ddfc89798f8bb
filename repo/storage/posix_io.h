// Small POSIX file helpers shared by PosixBackend and its writer (internal to
// repo/storage/). Every failure is a Status naming the path.
#ifndef CAIRN_REPO_STORAGE_POSIX_IO_H_
#define CAIRN_REPO_STORAGE_POSIX_IO_H_

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/status.h"
#include "repo/file_modes.h"
#include "repo/storage/backend.h"

namespace cairn::repo::posix_io {

// A site's root folder, opened once (a directory handle held from then on).
// Every write goes relative to the handle (openat, mkdirat, linkat, renameat,
// unlinkat), so a folder swapped in under the same path, or the empty mount
// point of a share that went away, is never written into; CheckBeforeWrite
// says when the path no longer leads to the folder opened.
class RootDir {
 public:
  // Opens `path` (a folder). NotFound if it is missing; `display_url` names
  // the site in messages.
  static Result<std::shared_ptr<RootDir>> Open(const std::string& path,
                                               const std::string& display_url);
  ~RootDir();
  RootDir(const RootDir&) = delete;
  RootDir& operator=(const RootDir&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // The modes of what is made below the root (repo/file_modes.h: private, or
  // shared with the group of a setgid root), read once at Open.
  const AccessModes& modes() const { return modes_; }
  // The absolute path of `rel` below the root, for messages.
  std::string Shown(std::string_view rel) const { return path_ + "/" + std::string(rel); }

  // OK if the path still names the folder opened (same device and inode) and,
  // once the site has its CAIRN-SITE marker, the marker is still in it.
  // Unavailable otherwise, naming the site and the rule: nothing may be
  // written (an unmounted share, a folder swapped or removed, a lost marker).
  Status CheckBeforeWrite() const;
  // CheckBeforeWrite, or OK without looking when one passed in the last
  // kRecentCheckNanos: for a new temp file, which is only bytes until its
  // name is made (after a CheckBeforeWrite of its own, or of its batch). A
  // site that went away is still found within that time, not a file later
  // (two path lookups per small blob saved).
  Status CheckBeforeNewTempFile() const;
  static constexpr int64_t kRecentCheckNanos = 100'000'000;
  // Called when the marker has been written through this handle: from then
  // on a missing marker refuses writes.
  void MarkerWritten() const { marker_expected_ = true; }
  // Whether write-once files start as unnamed temp files (O_TMPFILE, named
  // by linkat, see links_by_descriptor): true until the file system refuses one.
  bool unnamed_temp_files() const { return unnamed_temp_files_.load(std::memory_order_relaxed); }
  void NoUnnamedTempFiles() const { unnamed_temp_files_ = false; }
  // Whether an unnamed temp file is named by linkat(fd, "", AT_EMPTY_PATH),
  // which Linux allows the file's opener since 6.10 (before, only a holder
  // of CAP_DAC_READ_SEARCH): true until the kernel refuses one that
  // /proc/self/fd then names. The path through /proc costs a walk of three
  // procfs names per blob (about 3 microseconds).
  bool links_by_descriptor() const { return links_by_descriptor_.load(std::memory_order_relaxed); }
  void NoLinksByDescriptor() const { links_by_descriptor_ = false; }
  // Whether an unnamed temp file made in the root came out with modes().file
  // (the umask and the folder's default ACL left it alone): then the next
  // ones will too, and are not checked (a stat per blob).
  bool unnamed_files_keep_mode() const {
    return unnamed_files_keep_mode_.load(std::memory_order_relaxed);
  }
  void UnnamedFilesKeepMode() const { unnamed_files_keep_mode_ = true; }

 private:
  RootDir(int fd, dev_t dev, ino_t ino, std::string path, std::string url, bool marker,
          AccessModes modes)
      : fd_(fd),
        dev_(dev),
        ino_(ino),
        path_(std::move(path)),
        url_(std::move(url)),
        marker_expected_(marker),
        modes_(modes),
        unnamed_temp_files_(::access("/proc/self/fd", X_OK) == 0) {}

  // CheckBeforeWrite's look at the path and the marker.
  Status CheckPathAndMarker() const;

  int fd_;
  dev_t dev_;
  ino_t ino_;
  std::string path_;
  std::string url_;
  mutable std::atomic<bool> marker_expected_;
  AccessModes modes_;
  mutable std::atomic<bool> unnamed_temp_files_;
  mutable std::atomic<bool> links_by_descriptor_{true};
  mutable std::atomic<bool> unnamed_files_keep_mode_{false};
  // steady_clock nanoseconds of the last CheckBeforeWrite that passed.
  mutable std::atomic<int64_t> last_check_passed_{INT64_MIN};
};

// fsync() of the folder at absolute `path` (the parent of a site's new root
// folder), so that a new entry in it is durable.
Status SyncFolder(const std::string& path);

// fsync() of folder `rel` below the root ("" for the root itself), so that a
// new or renamed entry in it is durable.
Status SyncDirAt(const RootDir& root, const std::string& rel);

// Creates every missing folder between the root and the parent of `key`,
// fsyncing the parent of each new folder; with `unsynced_parents`, those
// parents are appended to it instead, for the caller to fsync (a batch's
// barrier) before anything below them counts as durable.
Status MakeParents(const RootDir& root, std::string_view key,
                   std::vector<std::string>* unsynced_parents = nullptr);

// The barrier of a batch of commits of writers made on `root`
// (StorageBackend::NewCommitBarrier): Sync is one syncfs(2) of the root's file
// system, which makes durable every temp file prepared and every name and
// folder made since the last Sync.
std::unique_ptr<CommitBarrier> NewCommitBarrier(std::shared_ptr<const RootDir> root);

// A writer whose bytes go to a new temp file in <root>/tmp/; Commit checks
// the root (CheckBeforeWrite) before the key becomes visible.
Result<std::unique_ptr<BlobWriter>> NewTempFileWriter(std::shared_ptr<const RootDir> root,
                                                      const PutOptions& options);

}  // namespace cairn::repo::posix_io

#endif  // CAIRN_REPO_STORAGE_POSIX_IO_H_
