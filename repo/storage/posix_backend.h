// PosixBackend: a site that is a folder (local disk or a mount such as NFS).
// Key "a/b/c" is the file <root>/a/b/c; unfinished writers live in <root>/tmp/.
#ifndef CAIRN_REPO_STORAGE_POSIX_BACKEND_H_
#define CAIRN_REPO_STORAGE_POSIX_BACKEND_H_

#include <memory>
#include <mutex>
#include <string>

#include "repo/storage/backend.h"

namespace cairn::repo {

namespace posix_io {
class RootDir;
}

class PosixBackend : public StorageBackend {
 public:
  // `root` must be an absolute path; it need not exist yet (CreateRoot makes it).
  // The root folder is opened here (or at the first write, if it did not
  // exist yet) and that directory handle is held: every write goes relative
  // to it, and only while the path still leads to the same folder (device and
  // inode) and, once the site has a CAIRN-SITE marker, the marker is there.
  // Otherwise writes (NewWriter, Commit, Remove, CleanupTemp) are refused with
  // Unavailable naming the site: a share that went away, or a folder swapped
  // in under the same path, is never written into. Reads go by path.
  explicit PosixBackend(std::string root);
  ~PosixBackend() override;

  // Writes go to a temp file in <root>/tmp/ (same filesystem as the final name)
  // named "w-<pid>-<random>.tmp", opened O_CREAT|O_EXCL. Commit fsyncs the
  // file, creates missing parent folders (fsyncing each new folder's parent),
  // then link()s (if_absent: an existing key is never replaced) or rename()s
  // the temp file to its final name and fsyncs the final folder.
  // Unavailable if the root folder is missing; PermissionDenied/NoSpace/IOError
  // name the path (and so the site).
  Result<std::unique_ptr<BlobWriter>> NewWriter(const PutOptions& options) override;
  // pread()s in 1 MiB chunks.
  Status Read(std::string_view key, uint64_t offset, uint64_t length,
              const ByteSink& sink) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<int> OpenForCopy(std::string_view key) override;
  // Every local-file fast path: OpenForCopy, copy_file_range in
  // AppendFromFile, DigestAppended of the temp file; and batch commits.
  BackendCapabilities Capabilities() const override {
    BackendCapabilities c;
    c.open_for_copy = c.append_in_kernel = c.digest_appended = c.batch_commit = true;
    return c;
  }
  // The batch barrier (posix_io::NewCommitBarrier): one syncfs before the
  // batch's names are made, one after.
  std::unique_ptr<CommitBarrier> NewCommitBarrier() override;
  // Walks the folders below the prefix; never lists <root>/tmp/.
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  // Reads the root folder alone (readdir), skipping tmp/.
  Status ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Remove(std::string_view key) override;
  // A directory at the key's path: removed if empty, else moved whole (renamed, never
  // replacing) to layout::LostAndFoundKey(key, n) below the root, both folders synced.
  Result<std::string> MakeRoomFor(std::string_view key) override;
  // rmdir of the folder, which the kernel refuses while it holds anything (then false).
  Result<bool> RemoveEmptyFolder(std::string_view prefix) override;
  // Removes files in <root>/tmp/ whose mtime is older than min_age_seconds.
  Status CleanupTemp(uint64_t min_age_seconds) override;
  // "file:///root".
  std::string DisplayUrl() const override;
  // mkdir <root>: only the last component. Unavailable naming the parent if
  // that is missing (an unmounted share must not become a local folder).
  Status CreateRoot() override;

  // OK if the root folder exists; Unavailable ("not mounted?") if not.
  Status CheckRoot() const;
  const std::string& root() const { return root_; }

 private:
  std::string Path(std::string_view key) const { return root_ + "/" + std::string(key); }
  // A NotFound from a system call becomes Unavailable when the root itself is gone.
  Status MissingOrDown(Status not_found) const;
  // The root folder's handle (opened now if it was not yet), checked with
  // RootDir::CheckBeforeWrite: what every write goes through.
  // `new_temp_file`: for a writer's temp file (RootDir::CheckBeforeNewTempFile).
  Result<std::shared_ptr<const posix_io::RootDir>> RootForWrite(bool new_temp_file = false);

  std::string root_;
  std::mutex root_mu_;
  std::shared_ptr<const posix_io::RootDir> root_dir_;  // guarded by root_mu_
};

}  // namespace cairn::repo

#endif  // CAIRN_REPO_STORAGE_POSIX_BACKEND_H_
