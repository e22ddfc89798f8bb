// Walking a bag's source folder with plain POSIX calls (lstat/readdir), so
// symlinks and special files are seen as what they are, never followed by accident.
#include "bagit/source_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>
#include <utility>

#include "bagit/fd_io.h"
#include "bagit/paths.h"
#include "bagit/report.h"

namespace cairn::bagit {
namespace {

constexpr size_t kMaxListedProblems = 20;

struct Walker {
  std::string root;       // as given
  std::string real_root;  // canonical, for the "inside the source" test
  bool follow = false;
  std::set<std::string> skip;
  SourceTree tree;
  std::vector<std::string> problems;
  size_t problem_count = 0;
  std::set<std::pair<dev_t, ino_t>> active_dirs;  // folders on the current path: cycles

  void Problem(const std::string& rel, const std::string& what) {
    ++problem_count;
    if (problems.size() < kMaxListedProblems)
      problems.push_back("'" + Printable(rel) + "': " + what);
  }

  // The canonical target of a symlink if it lies inside the source, else "".
  std::string InsideTarget(const std::string& link) {
    char* resolved = ::realpath(link.c_str(), nullptr);
    if (resolved == nullptr) return "";
    std::string target(resolved);
    std::free(resolved);
    if (target.size() > real_root.size() && target.compare(0, real_root.size(), real_root) == 0 &&
        (real_root == "/" || target[real_root.size()] == '/')) {
      return target;
    }
    return "";
  }

  Status Walk(const std::string& dir_path, const std::string& rel_prefix,
              const struct stat& dir_st) {
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) return Status::FromErrno(errno, "open folder", dir_path);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* d = ::readdir(dir)) {
      std::string name(d->d_name);
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return Status::FromErrno(err, "read folder", dir_path);
    std::sort(names.begin(), names.end());
    active_dirs.insert({dir_st.st_dev, dir_st.st_ino});

    for (const std::string& name : names) {
      std::string rel = rel_prefix.empty() ? name : rel_prefix + "/" + name;
      std::string path = dir_path + "/" + name;
      if (skip.count(rel) != 0) continue;
      if (!IsValidUtf8(name)) {
        Problem(rel, "name is not valid UTF-8 (BagIt tag files are UTF-8)");
        continue;
      }
      if (auto violation = FindPathViolation("data/" + rel)) {
        Problem(rel, violation->message + " (rule " + violation->rule + ")");
        continue;
      }
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", path);
      std::string open_path = path;
      if (S_ISLNK(st.st_mode)) {
        if (!follow) {
          Problem(rel, "is a symlink (pass --follow-symlinks to follow links inside the source)");
          continue;
        }
        std::string target = InsideTarget(path);
        if (target.empty()) {
          Problem(rel, "is a symlink whose target is missing or outside the source folder");
          continue;
        }
        if (::stat(target.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", target);
        open_path = target;
      }
      SourceEntry entry{rel, open_path, 0, static_cast<mode_t>(st.st_mode & 07777), st.st_mtim};
      if (S_ISREG(st.st_mode)) {
        entry.size = static_cast<uint64_t>(st.st_size);
        tree.bytes += entry.size;
        tree.files.push_back(std::move(entry));
      } else if (S_ISDIR(st.st_mode)) {
        if (active_dirs.count({st.st_dev, st.st_ino}) != 0) {
          Problem(rel, "is a symlink to one of its own parent folders (a cycle)");
          continue;
        }
        tree.dirs.push_back(entry);
        CAIRN_RETURN_IF_ERROR(Walk(open_path, rel, st));
      } else {
        Problem(rel, "is a device, fifo or socket: only regular files and folders can be bagged");
      }
    }
    active_dirs.erase({dir_st.st_dev, dir_st.st_ino});
    return Status::OK();
  }
};

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Result<SourceTree> ScanSource(const std::string& root, bool follow_symlinks,
                              const std::vector<std::string>& skip) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Status::FromErrno(errno, "source folder", root);
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("source " + root + ": not a folder");
  }
  Walker walker;
  walker.root = root;
  walker.follow = follow_symlinks;
  walker.skip.insert(skip.begin(), skip.end());
  char* real = ::realpath(root.c_str(), nullptr);
  if (real == nullptr) return Status::FromErrno(errno, "resolve", root);
  walker.real_root = real;
  std::free(real);
  CAIRN_RETURN_IF_ERROR(walker.Walk(root, "", st));
  if (walker.problem_count > 0) {
    std::string msg = "source " + root + ": " + std::to_string(walker.problem_count) + " entr" +
                      (walker.problem_count == 1 ? "y" : "ies") +
                      " cannot be bagged, nothing was written:";
    for (const std::string& p : walker.problems) msg += "\n  " + p;
    if (walker.problem_count > walker.problems.size()) {
      msg +=
          "\n  ... and " + std::to_string(walker.problem_count - walker.problems.size()) + " more";
    }
    return Status::InvalidArgument(msg);
  }
  return std::move(walker.tree);
}

Status StreamSourceFile(const SourceEntry& entry, std::span<std::byte> buffer, MultiHasher* hasher,
                        const ChunkSink& sink) {
  int fd = ::open(entry.open.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::FromErrno(errno, "open", entry.open);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t total = 0;
  Status status;
  for (;;) {
    ssize_t n = ReadSome(fd, buffer);
    if (n == 0) break;
    if (n < 0) {
      status = Status::FromErrno(errno, "read", entry.open);
      break;
    }
    total += static_cast<uint64_t>(n);
    if (total > entry.size) break;
    std::span<const std::byte> chunk(buffer.data(), static_cast<size_t>(n));
    hasher->Update(chunk);
    if (sink) {
      status = sink(chunk);
      if (!status.ok()) break;
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  if (total != entry.size) {
    return Status::InvalidArgument(
        "source file " + entry.open + " changed while bagging: " + std::to_string(entry.size) +
        " bytes when listed, " + (total > entry.size ? "more" : std::to_string(total)) +
        " when read");
  }
  return Status::OK();
}

}  // namespace cairn::bagit
