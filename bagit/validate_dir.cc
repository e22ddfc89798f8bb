// Validating a bag directory: lstat walk (no symlink is ever followed), tag
// files read once, payload files hashed on a pool of threads.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "bagit/bag_checker.h"
#include "bagit/dir_list.h"
#include "bagit/fd_io.h"
#include "bagit/paths.h"
#include "bagit/validator.h"

namespace cairn::bagit {
namespace {

// Streams a local file (never through a symlink) into a sink in 1 MiB reads.
ByteSource FileSource(const std::string& path) {
  return [path](const ChunkSink& sink) -> Status {
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    std::vector<std::byte> buffer(kReadChunk);
    Status result;
    for (;;) {
      ssize_t n = ReadSome(fd, buffer);
      if (n < 0) {
        result = Status::FromErrno(errno, "read", path);
        break;
      }
      if (n == 0) break;
      result = sink(std::span<const std::byte>(buffer.data(), static_cast<size_t>(n)));
      if (!result.ok()) break;
    }
    close(fd);
    return result;
  };
}

class DirectoryWalker {
 public:
  DirectoryWalker(std::string root, BagChecker* checker, const ValidateOptions& options)
      : root_(std::move(root)), checker_(checker), options_(options) {}

  // Every tag file outside data/ (recursing into tag folders), bagit.txt first.
  Status TagFiles(const std::vector<std::string>& top) {
    struct stat st;
    bool exists = lstat((root_ + "/bagit.txt").c_str(), &st) == 0;
    if (exists && S_ISREG(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(checker_->TagFile("bagit.txt", FileSource(root_ + "/bagit.txt")));
    } else {
      checker_->BagitTxtMissing();
      // A bagit.txt that is a link or a folder is named as such, never followed.
      if (exists) CAIRN_RETURN_IF_ERROR(TagEntry("bagit.txt"));
    }
    for (const std::string& name : top) {
      if (name == "data" || name == "bagit.txt") continue;
      CAIRN_RETURN_IF_ERROR(TagEntry(name));
    }
    return Status::OK();
  }

  // Walks data/: files go to the checker (hashed first in full mode).
  Status Payload() {
    AlgorithmSet algorithms = checker_->PayloadAlgorithms();
    std::unique_ptr<ParallelHasher> hasher;
    if (algorithms.any()) {
      size_t prefix = root_.size() + 1;
      hasher = std::make_unique<ParallelHasher>(
          algorithms, options_.threads,
          [this, prefix](const std::string& path, Result<FileDigests> result) {
            std::string_view rel = std::string_view(path).substr(prefix);
            if (!result.ok()) {
              checker_->Refuse(rel, "payload.unreadable", result.status().message());
              return;
            }
            checker_->PayloadFile(rel, result->size, &result->digests);
          });
    }
    std::vector<std::string> pending = {"data"};
    Status status;
    while (!pending.empty() && status.ok()) {
      std::string dir = std::move(pending.back());
      pending.pop_back();
      Result<std::vector<std::string>> names = ListDirSorted(root_ + "/" + dir);
      if (!names.ok()) {
        checker_->Refuse(dir, "payload.unreadable", names.status().message());
        continue;
      }
      for (const std::string& name : *names) {
        std::string rel = dir + "/" + name;
        struct stat st;
        if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
          checker_->Refuse(rel, "payload.unreadable",
                           Status::FromErrno(errno, "lstat", rel).message());
        } else if (S_ISDIR(st.st_mode)) {
          checker_->PayloadDirectory(rel);
          pending.push_back(rel);
        } else if (!S_ISREG(st.st_mode)) {
          checker_->Refuse(
              rel, S_ISLNK(st.st_mode) ? "payload.symlink" : "payload.special-file",
              "payload must be regular files; this is a " + SpecialFileKind(st.st_mode));
        } else if (hasher) {
          hasher->Submit(root_ + "/" + rel);
        } else {
          checker_->PayloadFile(rel, static_cast<uint64_t>(st.st_size), nullptr);
        }
      }
    }
    if (hasher) hasher->Wait();
    return status;
  }

 private:
  Status TagEntry(const std::string& rel) {
    struct stat st;
    if (lstat((root_ + "/" + rel).c_str(), &st) != 0) {
      return Status::FromErrno(errno, "lstat", root_ + "/" + rel);
    }
    if (S_ISREG(st.st_mode)) return checker_->TagFile(rel, FileSource(root_ + "/" + rel));
    if (!S_ISDIR(st.st_mode)) {
      checker_->Refuse(rel, S_ISLNK(st.st_mode) ? "tag.symlink" : "tag.special-file",
                       "tag files must be regular files; this is a " + SpecialFileKind(st.st_mode));
      return Status::OK();
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirSorted(root_ + "/" + rel));
    for (const std::string& name : names) CAIRN_RETURN_IF_ERROR(TagEntry(rel + "/" + name));
    return Status::OK();
  }

  std::string root_;
  BagChecker* checker_;
  const ValidateOptions& options_;
};

}  // namespace

Result<Validation> ValidateBagDirectory(const std::string& dir, const ValidateOptions& options) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return Status::FromErrno(errno, "open bag", root);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(root + ": not a directory");
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> top, ListDirSorted(root));

  Validation v;
  v.contents = std::make_unique<BagContents>();
  v.report.bag = dir;
  BagChecker checker(options, &v.report, v.contents.get());
  AlgorithmSet tag_algorithms = Only(Algorithm::kSha256);
  for (const std::string& name : top) {
    std::optional<Algorithm> a;
    if (ClassifyTagFile(name, &a) == TagKind::kTagManifest && a) tag_algorithms |= Only(*a);
  }
  checker.SetTagAlgorithms(tag_algorithms);

  DirectoryWalker walker(root, &checker, options);
  CAIRN_RETURN_IF_ERROR(walker.TagFiles(top));
  bool data_present = false;
  if (lstat((root + "/data").c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      data_present = true;
      CAIRN_RETURN_IF_ERROR(walker.Payload());
    } else {
      checker.Refuse("data", "bag.data-not-directory", "data must be a directory");
      data_present = true;
    }
  }
  checker.Finish(data_present);
  return v;
}

}  // namespace cairn::bagit
