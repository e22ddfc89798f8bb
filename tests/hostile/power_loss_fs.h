// A power-loss model for the posix sites (issue 14, "Power loss, not only
// kill -9"), after leveldb's FaultInjectionTestEnv: a FileOps table
// (repo/storage/posix_ops.h) that does every call for real and remembers what
// is not durable yet, and CutPower(), which throws that away as a power cut
// would:
//   - file bytes: every file created through the table (named, or unnamed with
//     O_TMPFILE and linked later) is cut back to the size it had at its last
//     fsync or syncfs (0 if it never had one);
//   - names: every create, link, rename, unlink, mkdir and rmdir is undone,
//     newest first, unless an fsync of the folder that holds the new name (the
//     removed one, for unlink and rmdir) came after it. A rename is undone
//     whole (new name removed, old name back, a file it replaced put back);
//     a removed or replaced file is kept under a hard link in a stash folder
//     so that its undo can bring it back; an undone mkdir takes whatever was
//     put below the folder with it.
// Limits: the model is per folder (a journaling file system that commits a
// rename with the destination folder's fsync is what it assumes: the source
// folder's fsync is not asked for); it does not reorder or tear writes inside
// a file, and does not model the SQLite catalog (durable at COMMIT with
// synchronous=FULL). After CutPower every call through the table and every
// crash point (Hook) blocks forever: the process is meant to _exit.
#ifndef CAIRN_TESTS_HOSTILE_POWER_LOSS_FS_H_
#define CAIRN_TESTS_HOSTILE_POWER_LOSS_FS_H_

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "repo/crash_point.h"
#include "repo/storage/posix_ops.h"

namespace cairn::testing::power_loss {

struct PendingName {
  enum Kind { kCreate, kLink, kRename, kUnlink, kMkdir, kRmdir } kind;
  std::string path;   // the name made (or removed, for unlink and rmdir)
  std::string from;   // rename: the old name
  std::string stash;  // unlink, rename over a file: that file, kept here
  std::string dir;    // the folder whose fsync makes this durable
  uint64_t seq;       // order of the calls
};

struct DropCounts {
  int names_undone = 0;    // creates, links, renames, unlinks, mkdirs undone
  int files_cut_back = 0;  // files cut to their last synced size
};

struct State {
  std::mutex mu;
  bool cut = false;
  std::string stash_dir;                            // same file system as the roots
  std::vector<std::string> roots;                   // folders searched for files to cut back
  std::map<std::pair<dev_t, ino_t>, off_t> synced;  // files made through the table
  std::vector<PendingName> pending;
  uint64_t seq = 0;
  uint64_t stashed = 0;
  // Crash points: the hit at which Hook cuts the power (0: never), hits so far.
  long cut_at = 0;
  std::atomic<long> hits{0};
};

inline State& S() {
  static State* state = new State();  // never destroyed: threads may block on it at exit
  return *state;
}

inline const repo::posix_io::FileOps& Real() { return repo::posix_io::RealFileOps(); }

// Blocks the caller forever once the power is cut (`lock` holds S().mu).
inline void BlockIfCut(std::unique_lock<std::mutex>& lock) {
  if (!S().cut) return;
  lock.unlock();
  for (;;) ::pause();
}

inline std::string FdPath(int fd) {
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// `path` relative to `dir_fd` as an absolute path whose folder is resolved.
inline std::string Resolve(int dir_fd, const char* path) {
  std::string p = path;
  if (p.empty() || p[0] != '/') {
    std::string base;
    if (dir_fd == AT_FDCWD) {
      char cwd[PATH_MAX];
      base = ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "";
    } else {
      base = FdPath(dir_fd);
    }
    p = base + "/" + p;
  }
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string parent = slash == 0 ? "/" : p.substr(0, slash);
  if (char* real = ::realpath(parent.c_str(), nullptr)) {
    parent = real;
    std::free(real);
  }
  return (parent == "/" ? "" : parent) + "/" + p.substr(slash + 1);
}

inline std::string ParentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// A hard link to the regular file `path` in the stash ("" if there is none).
inline std::string StashFile(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  std::string stash = S().stash_dir + "/" + std::to_string(++S().stashed);
  return Real().link(path.c_str(), stash.c_str()) == 0 ? stash : "";
}

inline void Remember(PendingName::Kind kind, std::string path, std::string from = "",
                     std::string stash = "") {
  std::string dir = ParentOf(path);
  S().pending.push_back(
      {kind, std::move(path), std::move(from), std::move(stash), std::move(dir), ++S().seq});
}

inline int OpenAt(int dir_fd, const char* path, int flags, mode_t mode) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  const std::string full = Resolve(dir_fd, path);
  struct stat st;
  const bool creates =
      (flags & O_CREAT) != 0 && ((flags & O_EXCL) != 0 || ::lstat(full.c_str(), &st) != 0);
  // O_TMPFILE: a file without a name (none to undo) whose bytes are not durable yet.
  const bool unnamed = (flags & O_TMPFILE) == O_TMPFILE;
  int fd = Real().openat(dir_fd, path, flags, mode);
  const int err = errno;
  if (fd >= 0 && unnamed && ::fstat(fd, &st) == 0) {
    S().synced[{st.st_dev, st.st_ino}] = 0;
  } else if (fd >= 0 && creates && ::fstat(fd, &st) == 0) {
    Remember(PendingName::kCreate, full);
    S().synced[{st.st_dev, st.st_ino}] = 0;
  }
  errno = err;
  return fd;
}
inline int Open(const char* path, int flags, mode_t mode) {
  return OpenAt(AT_FDCWD, path, flags, mode);
}

// fsync and fdatasync: a file's size now is durable; a folder's pending names
// from before the call are.
inline int SyncWith(int (*sync)(int), int fd) {
  uint64_t before;
  {
    std::unique_lock lock(S().mu);
    BlockIfCut(lock);
    before = S().seq;
  }
  int rc = sync(fd);
  const int err = errno;
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  struct stat st;
  if (rc == 0 && ::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      const std::string dir = FdPath(fd);
      std::erase_if(S().pending,
                    [&](const PendingName& p) { return p.dir == dir && p.seq <= before; });
    } else if (auto it = S().synced.find({st.st_dev, st.st_ino}); it != S().synced.end()) {
      it->second = st.st_size;
    }
  }
  errno = err;
  return rc;
}
inline int Fsync(int fd) { return SyncWith(Real().fsync, fd); }

// syncfs: every file's size now is durable, and every pending name from
// before the call (the model's files and names are all on the one file
// system of the sites and the stash).
inline int Syncfs(int fd) {
  uint64_t before;
  {
    std::unique_lock lock(S().mu);
    BlockIfCut(lock);
    before = S().seq;
  }
  int rc = Real().syncfs(fd);
  const int err = errno;
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  if (rc == 0) {
    std::erase_if(S().pending, [&](const PendingName& p) { return p.seq <= before; });
    namespace fs = std::filesystem;
    // Files without a name yet (O_TMPFILE) are found through this process's descriptors.
    std::error_code fd_ec;
    for (fs::directory_iterator it("/proc/self/fd", fd_ec), end; !fd_ec && it != end;
         it.increment(fd_ec)) {
      struct stat st;
      const int fd = std::atoi(it->path().filename().c_str());
      if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      auto synced = S().synced.find({st.st_dev, st.st_ino});
      if (synced != S().synced.end()) synced->second = st.st_size;
    }
    for (const std::string& root : S().roots) {
      std::error_code ec;
      for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        struct stat st;
        if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        auto synced = S().synced.find({st.st_dev, st.st_ino});
        if (synced != S().synced.end()) synced->second = st.st_size;
      }
    }
  }
  errno = err;
  return rc;
}
inline int Fdatasync(int fd) { return SyncWith(Real().fdatasync, fd); }

inline int LinkAt(int from_dir, const char* from, int to_dir, const char* to, int flags) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  int rc = Real().linkat(from_dir, from, to_dir, to, flags);
  const int err = errno;
  if (rc == 0) Remember(PendingName::kLink, Resolve(to_dir, to));
  errno = err;
  return rc;
}
inline int Link(const char* from, const char* to) {
  return LinkAt(AT_FDCWD, from, AT_FDCWD, to, 0);
}

inline int RenameAt(int from_dir, const char* from, int to_dir, const char* to) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  const std::string full_to = Resolve(to_dir, to);
  std::string stash = StashFile(full_to);
  int rc = Real().renameat(from_dir, from, to_dir, to);
  const int err = errno;
  if (rc == 0) {
    Remember(PendingName::kRename, full_to, Resolve(from_dir, from), stash);
  } else if (!stash.empty()) {
    Real().unlink(stash.c_str());
  }
  errno = err;
  return rc;
}
inline int Rename(const char* from, const char* to) {
  return RenameAt(AT_FDCWD, from, AT_FDCWD, to);
}
// Replaces nothing (EEXIST): its undo puts the old name back.
inline int RenameAtNoReplace(int from_dir, const char* from, int to_dir, const char* to) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  int rc = Real().renameat_noreplace(from_dir, from, to_dir, to);
  const int err = errno;
  if (rc == 0) Remember(PendingName::kRename, Resolve(to_dir, to), Resolve(from_dir, from));
  errno = err;
  return rc;
}

inline int UnlinkAt(int dir_fd, const char* path, int flags) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  const std::string full = Resolve(dir_fd, path);
  const bool dir = (flags & AT_REMOVEDIR) != 0;
  std::string stash = dir ? "" : StashFile(full);
  int rc = Real().unlinkat(dir_fd, path, flags);
  const int err = errno;
  if (rc == 0) {
    Remember(dir ? PendingName::kRmdir : PendingName::kUnlink, full, "", stash);
  } else if (!stash.empty()) {
    Real().unlink(stash.c_str());
  }
  errno = err;
  return rc;
}
inline int Unlink(const char* path) { return UnlinkAt(AT_FDCWD, path, 0); }

inline int MkdirAt(int dir_fd, const char* path, mode_t mode) {
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  int rc = Real().mkdirat(dir_fd, path, mode);
  const int err = errno;
  if (rc == 0) Remember(PendingName::kMkdir, Resolve(dir_fd, path));
  errno = err;
  return rc;
}
inline int Mkdir(const char* path, mode_t mode) { return MkdirAt(AT_FDCWD, path, mode); }

inline const repo::posix_io::FileOps kPowerLossOps = {
    .open = Open,
    .openat = OpenAt,
    .fsync = Fsync,
    .fdatasync = Fdatasync,
    .syncfs = Syncfs,
    .link = Link,
    .linkat = LinkAt,
    .rename = Rename,
    .renameat = RenameAt,
    .renameat_noreplace = RenameAtNoReplace,
    .unlink = Unlink,
    .unlinkat = UnlinkAt,
    .mkdir = Mkdir,
    .mkdirat = MkdirAt,
};

// Starts the model: from now on every posix site of this process writes
// through it. `roots` are the folders whose files CutPower cuts back (the
// sites' folder); `stash_dir` (created here) must be on their file system.
inline void Install(const std::string& stash_dir, std::vector<std::string> roots) {
  std::filesystem::create_directories(stash_dir);
  {
    std::lock_guard lock(S().mu);
    S().cut = false;
    S().stash_dir = stash_dir;
    S().roots = std::move(roots);
    S().synced.clear();
    S().pending.clear();
    S().hits = 0;
    S().cut_at = 0;
  }
  repo::posix_io::SetFileOpsForTesting(&kPowerLossOps);
}

// Stops the model (the real calls again). REQUIRES: no site writes in flight.
inline void Uninstall() {
  repo::posix_io::SetFileOpsForTesting(nullptr);
  repo::SetCrashPointHookForTesting(nullptr);
  std::lock_guard lock(S().mu);
  S().cut = false;
  S().pending.clear();
  S().synced.clear();
}

// The power cut: drops every name and byte not made durable, then blocks every
// later call through the table. Returns what it dropped.
inline DropCounts CutPower() {
  namespace fs = std::filesystem;
  std::unique_lock lock(S().mu);
  BlockIfCut(lock);
  DropCounts counts;
  for (auto it = S().pending.rbegin(); it != S().pending.rend(); ++it) {
    const PendingName& p = *it;
    ++counts.names_undone;
    std::error_code ec;
    switch (p.kind) {
      case PendingName::kCreate:
      case PendingName::kLink:
        Real().unlink(p.path.c_str());
        break;
      case PendingName::kRename:
        Real().rename(p.path.c_str(), p.from.c_str());
        if (!p.stash.empty()) Real().link(p.stash.c_str(), p.path.c_str());
        break;
      case PendingName::kUnlink:
        if (!p.stash.empty()) Real().link(p.stash.c_str(), p.path.c_str());
        break;
      case PendingName::kMkdir:
        fs::remove_all(p.path, ec);
        break;
      case PendingName::kRmdir:
        Real().mkdir(p.path.c_str(), 0755);
        break;
    }
  }
  S().pending.clear();
  std::vector<std::string> walk = S().roots;
  walk.push_back(S().stash_dir);
  for (const std::string& root : walk) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      struct stat st;
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      auto synced = S().synced.find({st.st_dev, st.st_ino});
      if (synced == S().synced.end() || st.st_size <= synced->second) continue;
      if (::truncate(it->path().c_str(), synced->second) == 0) ++counts.files_cut_back;
    }
  }
  S().cut = true;
  return counts;
}

// A crash-point hook (repo::SetCrashPointHookForTesting): counts the hits and,
// at hit S().cut_at, cuts the power and ends the process with exit code
// `kCutExitCode` (after writing "cut N names M files" to fd `report_fd`).
inline constexpr int kCutExitCode = 42;
inline int report_fd = -1;
inline void Hook(std::string_view) {
  {
    std::unique_lock lock(S().mu);
    BlockIfCut(lock);
  }
  const long hit = S().hits.fetch_add(1) + 1;
  if (hit != S().cut_at) return;
  DropCounts counts = CutPower();
  std::string line = "cut at " + std::to_string(hit) + ": " + std::to_string(counts.names_undone) +
                     " names undone, " + std::to_string(counts.files_cut_back) +
                     " files cut back\n";
  if (report_fd >= 0) (void)!::write(report_fd, line.data(), line.size());
  ::_exit(kCutExitCode);
}

}  // namespace cairn::testing::power_loss

#endif  // CAIRN_TESTS_HOSTILE_POWER_LOSS_FS_H_
