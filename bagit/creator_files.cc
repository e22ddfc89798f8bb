// File helpers of the bag creator: manifests appended from worker threads, tag
// manifests, durable writes (bagit/creator_internal.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstdlib>

#include "bagit/creator_internal.h"
#include "bagit/fd_io.h"

namespace cairn::bagit::internal {
namespace {

constexpr size_t kManifestBuffer = 1 << 20;

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  int err = WriteFull(fd, std::as_bytes(std::span<const char>(data.data(), data.size())));
  return err ? Status::FromErrno(err, "write", path) : Status::OK();
}

}  // namespace

std::string ManifestName(Algorithm a) {
  return "manifest-" + std::string(AlgorithmName(a)) + ".txt";
}

std::string TagManifestName(Algorithm a) {
  return "tagmanifest-" + std::string(AlgorithmName(a)) + ".txt";
}

Result<std::unique_ptr<ManifestFiles>> ManifestFiles::Create(const std::string& dir,
                                                             std::vector<Algorithm> algorithms) {
  std::unique_ptr<ManifestFiles> files(new ManifestFiles());
  files->dir_ = dir;
  files->algorithms_ = std::move(algorithms);
  for (Algorithm a : files->algorithms_) {
    std::string path = dir + "/" + ManifestName(a);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "create", path);
    files->fds_.push_back(fd);
    files->buffers_.emplace_back();
  }
  return files;
}

ManifestFiles::~ManifestFiles() {
  for (int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

Status ManifestFiles::FlushLocked(size_t i) {
  Status s = WriteAll(fds_[i], buffers_[i], dir_ + "/" + ManifestName(algorithms_[i]));
  buffers_[i].clear();
  return s;
}

Status ManifestFiles::Add(const std::string& path, const Digests& digests) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < algorithms_.size(); ++i) {
    buffers_[i] += FormatManifestLine(digests[algorithms_[i]], path);
    if (buffers_[i].size() >= kManifestBuffer) CAIRN_RETURN_IF_ERROR(FlushLocked(i));
  }
  return Status::OK();
}

Status ManifestFiles::Close() {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < algorithms_.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(FlushLocked(i));
    std::string path = dir_ + "/" + ManifestName(algorithms_[i]);
    if (::fsync(fds_[i]) != 0) return Status::FromErrno(errno, "fsync", path);
    int rc = ::close(fds_[i]);
    fds_[i] = -1;
    if (rc != 0) return Status::FromErrno(errno, "close", path);
  }
  return Status::OK();
}

std::vector<std::string> ManifestFiles::Names() const {
  std::vector<std::string> names;
  for (Algorithm a : algorithms_) names.push_back(ManifestName(a));
  return names;
}

Status WriteNewFile(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "create", path);
  Status s = WriteAll(fd, content, path);
  if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno(errno, "fsync", path);
  if (::close(fd) != 0 && s.ok()) s = Status::FromErrno(errno, "close", path);
  return s;
}

Result<std::vector<CreatedBag::TagFile>> WriteTagManifests(
    const std::string& dir, const std::vector<std::string>& listed,
    const std::vector<Algorithm>& algorithms) {
  const AlgorithmSet set = ToSet(algorithms);
  std::vector<CreatedBag::TagFile> records;
  for (const std::string& name : listed) {
    CAIRN_ASSIGN_OR_RETURN(FileDigests d, HashFile(dir + "/" + name, set));
    records.push_back({name, d.size, d.digests});
  }
  std::vector<CreatedBag::TagFile> tag_manifests;
  for (Algorithm a : algorithms) {
    std::string text;
    for (const CreatedBag::TagFile& r : records) text += FormatManifestLine(r.digests[a], r.name);
    std::string name = TagManifestName(a);
    CAIRN_RETURN_IF_ERROR(WriteNewFile(dir + "/" + name, text));
    tag_manifests.push_back({name, text.size(), HashBytes(text, set)});
  }
  records.insert(records.end(), tag_manifests.begin(), tag_manifests.end());
  return records;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open folder", dir);
  Status s;
  if (::fsync(fd) != 0) s = Status::FromErrno(errno, "fsync folder", dir);
  ::close(fd);
  return s;
}

std::string ParentOf(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return trimmed.substr(0, slash);
}

Result<std::string> MakeScratchFolder(const std::string& dest) {
  std::string trimmed = dest;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::string name = trimmed + ".partial-XXXXXX";
  if (::mkdtemp(name.data()) == nullptr) return Status::FromErrno(errno, "create folder", name);
  ::chmod(name.c_str(), 0755);
  return name;
}

void RemoveTree(const std::string& path) {
  boost::system::error_code ec;
  boost::filesystem::remove_all(path, ec);
}

AlgorithmSet ToSet(const std::vector<Algorithm>& list) {
  AlgorithmSet set;
  for (Algorithm a : list) set.set(static_cast<size_t>(a));
  return set;
}

}  // namespace cairn::bagit::internal
