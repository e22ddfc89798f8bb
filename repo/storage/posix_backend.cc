// PosixBackend: reads, listing, removal and temp cleanup on a folder site.
#include "repo/storage/posix_backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "bagit/fd_io.h"
#include "repo/site_layout.h"
#include "repo/storage/backends.h"
#include "repo/storage/posix_io.h"
#include "repo/storage/posix_ops.h"

namespace cairn::repo {
namespace {

constexpr size_t kReadChunk = 1 << 20;

// Closes a file descriptor or DIR* when the scope ends.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};
struct DirCloser {
  DIR* dir;
  ~DirCloser() {
    if (dir != nullptr) ::closedir(dir);
  }
};

// NotFound for a key whose path holds something that is not a regular file, saying what: a
// directory there (made by hand, or by a restore tool) keeps every copy from being written
// until it is moved out of the way (MakeRoomFor).
Status NotAFile(const std::string& path, const struct stat& st) {
  if (S_ISDIR(st.st_mode)) {
    return Status::NotFound(path + ": a directory is where this file should be");
  }
  return Status::NotFound(path + " is not a regular file");
}

}  // namespace

PosixBackend::PosixBackend(std::string root) : root_(std::move(root)) {
  auto opened = posix_io::RootDir::Open(root_, DisplayUrl());
  if (opened.ok()) root_dir_ = std::move(opened).value();  // else at the first write
}

PosixBackend::~PosixBackend() = default;

Result<std::shared_ptr<const posix_io::RootDir>> PosixBackend::RootForWrite(bool new_temp_file) {
  std::shared_ptr<const posix_io::RootDir> root;
  {
    std::lock_guard<std::mutex> lock(root_mu_);
    if (!root_dir_) {
      auto opened = posix_io::RootDir::Open(root_, DisplayUrl());
      if (!opened.ok()) {
        Status down = CheckRoot();
        return down.ok() ? opened.status() : down;
      }
      root_dir_ = std::move(opened).value();
    }
    root = root_dir_;
  }
  CAIRN_RETURN_IF_ERROR(new_temp_file ? root->CheckBeforeNewTempFile() : root->CheckBeforeWrite());
  return root;
}

Status PosixBackend::CheckRoot() const {
  struct stat st;
  if (::stat(root_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
  return Status::Unavailable("site " + DisplayUrl() + ": " + std::string(kSiteRootMissing));
}

Status PosixBackend::MissingOrDown(Status not_found) const {
  Status root = CheckRoot();
  return root.ok() ? not_found : root;
}

Status PosixBackend::CreateRoot() {
  // Private (0700), or shared like its parent when that is a group's setgid
  // folder (repo/file_modes.h): a site holds the only copy, never world-readable.
  const std::string parent = root_.substr(0, std::max<size_t>(root_.rfind('/'), 1));
  if (posix_io::Ops().mkdir(root_.c_str(), 0700) == 0) {
    if (::chmod(root_.c_str(), ModesInside(parent).dir) != 0) {
      return Status::FromErrno(errno, "chmod", root_);
    }
    // The parent's fsync makes the new folder's name durable: without it a power
    // cut can take the whole site, and every copy counted on it, away.
    CAIRN_RETURN_IF_ERROR(posix_io::SyncFolder(parent));
    return RootForWrite().status();
  }
  const int err = errno;
  if (err == EEXIST) return RootForWrite().status();
  if (err != ENOENT) return Status::FromErrno(err, "create folder", root_);
  // Only the site's own folder is made: a missing parent is most often a share
  // that is not mounted, and making it would put the site on the local disk.
  return Status::Unavailable("the parent folder " + parent +
                             " does not exist (not mounted?); Cairn makes only the site's own "
                             "folder: mount the share or create " +
                             parent + " first");
}

std::string PosixBackend::DisplayUrl() const { return "file://" + root_; }

Result<std::unique_ptr<BlobWriter>> PosixBackend::NewWriter(const PutOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const posix_io::RootDir> root, RootForWrite(true));
  return posix_io::NewTempFileWriter(std::move(root), options);
}

std::unique_ptr<CommitBarrier> PosixBackend::NewCommitBarrier() {
  Result<std::shared_ptr<const posix_io::RootDir>> root = RootForWrite();
  // No root to write into: the writers fail on their own; nothing to batch.
  if (!root.ok()) return StorageBackend::NewCommitBarrier();
  return posix_io::NewCommitBarrier(std::move(root).value());
}

Status PosixBackend::Read(std::string_view key, uint64_t offset, uint64_t length,
                          const ByteSink& sink) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = Path(key);
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return MissingOrDown(Status::FromErrno(errno, "open", path));
  struct stat st;
  if (::fstat(file.fd, &st) != 0) return Status::FromErrno(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return NotAFile(path, st);
  ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  // No bigger than the file (a small blob must not cost a 1 MiB allocation),
  // and not zeroed: pread fills it.
  uint64_t file_left =
      static_cast<uint64_t>(st.st_size) > offset ? static_cast<uint64_t>(st.st_size) - offset : 0;
  const size_t chunk = static_cast<size_t>(
      std::max<uint64_t>(1, std::min<uint64_t>({kReadChunk, file_left, length})));
  auto buffer = std::make_unique_for_overwrite<std::byte[]>(chunk);
  uint64_t remaining = length;
  while (remaining > 0) {
    size_t want = remaining < chunk ? static_cast<size_t>(remaining) : chunk;
    ssize_t n = PreadSome(file.fd, std::span<std::byte>(buffer.get(), want), offset);
    if (n < 0) return Status::FromErrno(errno, "read", path);
    if (n == 0) break;  // end of file
    CAIRN_RETURN_IF_ERROR(sink(std::span<const std::byte>(buffer.get(), static_cast<size_t>(n))));
    offset += static_cast<uint64_t>(n);
    remaining -= static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Result<int> PosixBackend::OpenForCopy(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = Path(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return MissingOrDown(Status::FromErrno(errno, "open", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotAFile(path, st);
  }
  return fd;
}

Result<ObjectInfo> PosixBackend::Stat(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = Path(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return MissingOrDown(Status::FromErrno(errno, "stat", path));
  if (!S_ISREG(st.st_mode)) return NotAFile(path, st);
  return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size)};
}

namespace {

// Lists the files below folder `dir` (whose key prefix is `dir_key`, empty or
// ending in '/') whose keys start with `prefix`.
Status WalkFolder(const std::string& dir, const std::string& dir_key, std::string_view prefix,
                  const std::function<Status(const ObjectInfo&)>& fn) {
  DirCloser handle{::opendir(dir.c_str())};
  if (handle.dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();  // nothing under the prefix
    return Status::FromErrno(errno, "list folder", dir);
  }
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(handle.dir);
    if (entry == nullptr) {
      if (errno != 0) return Status::FromErrno(errno, "list folder", dir);
      return Status::OK();
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (dir_key.empty() && name == "tmp") continue;  // unfinished writers
    std::string key = dir_key + std::string(name);
    struct stat st;
    if (::fstatat(::dirfd(handle.dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we listed
      return Status::FromErrno(errno, "stat", dir + "/" + std::string(name));
    }
    if (S_ISDIR(st.st_mode)) {
      std::string sub_key = key + "/";
      bool may_match = sub_key.size() <= prefix.size() ? prefix.starts_with(sub_key)
                                                       : sub_key.starts_with(prefix);
      if (may_match)
        CAIRN_RETURN_IF_ERROR(WalkFolder(dir + "/" + std::string(name), sub_key, prefix, fn));
    } else if (S_ISREG(st.st_mode) && key.starts_with(prefix)) {
      CAIRN_RETURN_IF_ERROR(fn(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size)}));
    }
  }
}

}  // namespace

Status PosixBackend::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(ValidatePrefix(prefix));
  CAIRN_RETURN_IF_ERROR(CheckRoot());
  // Start at the deepest folder the prefix names in full.
  size_t slash = prefix.rfind('/');
  std::string start_key =
      slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  std::string start_dir = start_key.empty() ? root_ : root_ + "/" + start_key.substr(0, slash);
  return WalkFolder(start_dir, start_key, prefix, fn);
}

Status PosixBackend::ListTopLevel(const std::function<Status(const ObjectInfo&)>& fn) {
  CAIRN_RETURN_IF_ERROR(CheckRoot());
  DirCloser handle{::opendir(root_.c_str())};
  if (handle.dir == nullptr) return Status::FromErrno(errno, "list folder", root_);
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(handle.dir);
    if (entry == nullptr) {
      if (errno != 0) return Status::FromErrno(errno, "list folder", root_);
      return Status::OK();
    }
    std::string name = entry->d_name;
    if (name == "." || name == ".." || name == "tmp") continue;
    struct stat st;
    if (::fstatat(::dirfd(handle.dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we listed
      return Status::FromErrno(errno, "stat", root_ + "/" + name);
    }
    if (S_ISDIR(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(fn(ObjectInfo{name + "/", 0}));
    } else {
      CAIRN_RETURN_IF_ERROR(fn(ObjectInfo{name, static_cast<uint64_t>(st.st_size)}));
    }
  }
}

Status PosixBackend::Remove(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const posix_io::RootDir> root, RootForWrite());
  const std::string rel(key);
  if (posix_io::Ops().unlinkat(root->fd(), rel.c_str(), 0) == 0) return Status::OK();
  Status status = Status::FromErrno(errno, "remove", Path(key));
  return status.IsNotFound() ? Status::OK() : status;
}

namespace {

// The parent folder of `rel` ("" for the root).
std::string ParentOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

Result<bool> PosixBackend::RemoveEmptyFolder(std::string_view prefix) {
  if (prefix.ends_with('/')) prefix.remove_suffix(1);
  CAIRN_RETURN_IF_ERROR(ValidateKey(prefix));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const posix_io::RootDir> root, RootForWrite());
  const std::string rel(prefix);
  if (posix_io::Ops().unlinkat(root->fd(), rel.c_str(), AT_REMOVEDIR) == 0) {
    CAIRN_RETURN_IF_ERROR(posix_io::SyncDirAt(*root, ParentOf(rel)));
    return true;
  }
  // Holding anything, absent, or a file: nothing to do.
  if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT || errno == ENOTDIR) return false;
  return Status::FromErrno(errno, "remove the folder", Path(prefix));
}

Result<std::string> PosixBackend::MakeRoomFor(std::string_view key) {
  CAIRN_RETURN_IF_ERROR(ValidateKey(key));
  const std::string rel(key);
  const std::string path = Path(key);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::string();  // free
    return Status::FromErrno(errno, "stat", path);
  }
  if (!S_ISDIR(st.st_mode)) return std::string();  // a file (an object), or no folder
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const posix_io::RootDir> root, RootForWrite());
  if (posix_io::Ops().unlinkat(root->fd(), rel.c_str(), AT_REMOVEDIR) == 0) {
    CAIRN_RETURN_IF_ERROR(posix_io::SyncDirAt(*root, ParentOf(rel)));
    return "removed the empty directory " + path;
  }
  if (errno != ENOTEMPTY && errno != EEXIST) return Status::FromErrno(errno, "remove", path);
  // What it holds, for the message: the operator is told what was moved and where.
  uint64_t files = 0, bytes = 0;
  const std::string inside = rel + "/";
  CAIRN_RETURN_IF_ERROR(WalkFolder(path, inside, inside, [&](const ObjectInfo& info) {
    ++files;
    bytes += info.size;
    return Status::OK();
  }));
  constexpr int kMostAside = 1000;  // of one key: then something is wrong
  for (int n = 1; n <= kMostAside; ++n) {
    const std::string aside = layout::LostAndFoundKey(key, n);
    CAIRN_RETURN_IF_ERROR(ValidateKey(aside));
    CAIRN_RETURN_IF_ERROR(posix_io::MakeParents(*root, aside));
    int moved =
        posix_io::Ops().renameat_noreplace(root->fd(), rel.c_str(), root->fd(), aside.c_str());
    if (moved != 0 && (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)) {
      // No RENAME_NOREPLACE here: a plain rename, once nothing is at the new name (a rename
      // onto an empty directory would replace it).
      struct stat taken;
      if (::fstatat(root->fd(), aside.c_str(), &taken, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
      } else {
        moved = posix_io::Ops().renameat(root->fd(), rel.c_str(), root->fd(), aside.c_str());
      }
    }
    if (moved != 0) {
      if (errno == EEXIST || errno == ENOTEMPTY) continue;  // an earlier one kept there
      return Status::FromErrno(errno, "move aside to " + Path(aside), path);
    }
    CAIRN_RETURN_IF_ERROR(posix_io::SyncDirAt(*root, ParentOf(aside)));
    CAIRN_RETURN_IF_ERROR(posix_io::SyncDirAt(*root, ParentOf(rel)));
    return "moved the directory " + path + " (" + std::to_string(files) +
           (files == 1 ? " file, " : " files, ") + std::to_string(bytes) + " bytes) to " +
           Path(aside);
  }
  return Status::IOError(path + ": a directory is where this file should be, and " +
                         Path(layout::LostAndFoundKey(key, kMostAside)) +
                         " and the names before it are taken: not moved");
}

namespace {

// A temp file of a process that still runs is spared this long, whatever the caller's minimum
// age: the cleaner holds the writers' lock alone, but event segments, settings, tombstones and
// markers are written without it (a restore's events, a server request), and removing such a
// file under its writer made the writer's link fail ("link to ...: No such file").
constexpr time_t kRunningWriterTempAge = 3600;

// The writer's pid in a temp name "w-PID-HEX.tmp" (posix_writer.cc), or 0.
pid_t TempOwner(std::string_view name) {
  if (!name.starts_with("w-")) return 0;
  name.remove_prefix(2);
  pid_t pid = 0;
  size_t digits = 0;
  while (digits < name.size() && digits < 10 && name[digits] >= '0' && name[digits] <= '9') {
    pid = pid * 10 + (name[digits] - '0');
    ++digits;
  }
  return digits > 0 && digits < name.size() && name[digits] == '-' ? pid : 0;
}

// True when process `pid` runs on this host (it may be another user's: EPERM).
bool Running(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

}  // namespace

Status PosixBackend::CleanupTemp(uint64_t min_age_seconds) {
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const posix_io::RootDir> root, RootForWrite());
  const std::string tmp_dir = root_ + "/tmp";
  int tmp_fd = ::openat(root->fd(), "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp_fd < 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::FromErrno(errno, "list folder", tmp_dir);
  }
  DirCloser handle{::fdopendir(tmp_fd)};
  if (handle.dir == nullptr) {
    Status status = Status::FromErrno(errno, "list folder", tmp_dir);
    ::close(tmp_fd);
    return status;
  }
  // The precise clock: time() may still say the last tick's second while files are stamped
  // with a fine-grained time in the next one. A file stamped ahead of `now` is of age 0.
  struct timespec clock_now {};
  ::clock_gettime(CLOCK_REALTIME, &clock_now);
  const time_t now = clock_now.tv_sec;
  while (struct dirent* entry = ::readdir(handle.dir)) {
    struct stat st;
    if (::fstatat(::dirfd(handle.dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode)) continue;
    const time_t age = std::max<time_t>(0, now - st.st_mtime);
    if (age < static_cast<time_t>(min_age_seconds)) continue;
    if (age < kRunningWriterTempAge && Running(TempOwner(entry->d_name))) continue;
    if (posix_io::Ops().unlinkat(::dirfd(handle.dir), entry->d_name, 0) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "remove temp file", tmp_dir + "/" + entry->d_name);
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<StorageBackend>> OpenPosixBackend(std::string_view url) {
  constexpr std::string_view kScheme = "file://";
  if (!url.starts_with(kScheme)) return Status::InvalidArgument("not a file:// URL");
  std::string path(url.substr(kScheme.size()));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty() || path.front() != '/' || path == "/") {
    return Status::InvalidArgument("site URL " + std::string(url) +
                                   ": expected file:///absolute/path/to/folder");
  }
  if (path.find_first_of("?#\\") != std::string::npos || path.find("/../") != std::string::npos ||
      path.ends_with("/..")) {
    return Status::InvalidArgument("site URL " + std::string(url) +
                                   ": the path must not hold '?', '#', '\\' or '..'");
  }
  return std::unique_ptr<StorageBackend>(new PosixBackend(std::move(path)));
}

}  // namespace cairn::repo
