// The two kinds of restore output: a folder built in a hidden sibling and
// renamed into place, and an archive streamed through bagit::ArchiveWriter
// with each file spooled (memory, then an unnamed temp file) until verified.
#include "repo/restore/restore_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/filesystem.hpp>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <set>
#include <vector>

#include "bagit/archive.h"
#include "bagit/fd_io.h"

namespace cairn::repo {
namespace {

namespace fs = boost::filesystem;

// Files up to this size are spooled in memory before going into an archive;
// larger ones spill to an unnamed temp file beside DEST.
constexpr size_t kMemorySpool = 8 << 20;
constexpr size_t kChunk = 1 << 20;

std::string ParentOf(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status WriteAll(int fd, std::span<const std::byte> data, const std::string& what) {
  int err = WriteFull(fd, data);
  return err ? Status::FromErrno(err, "write", what) : Status::OK();
}

Status CheckDestAbsent(const std::string& dest) {
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) {
    return Status::AlreadyExists("restore destination " + dest + " already exists");
  }
  if (errno != ENOENT) return Status::FromErrno(errno, "stat", dest);
  std::string parent = ParentOf(dest);
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound("restore destination's parent folder " + parent + " does not exist");
  }
  return Status::OK();
}

// ---- folder output ----

// A restored file's bytes are handed to the disk's writeback as they come (every
// kWritebackChunk, and a file's tail of 512 KiB or more when it is complete), so that the one
// syncfs before the bag appears finds most of them written while the rest were still being
// read; a hint only: the syncfs is what makes them durable, and reports any write error.
constexpr uint64_t kWritebackTail = 512 << 10;

class DirFileTarget final : public FileTarget {
 public:
  DirFileTarget(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~DirFileTarget() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::span<const std::byte> data) override {
    CAIRN_RETURN_IF_ERROR(WriteAll(fd_, data, path_));
    written_ += data.size();
    if (written_ - flushed_ >= kWritebackChunk) StartWriteback();
    return Status::OK();
  }
  Status Reset() override {
    if (::ftruncate(fd_, 0) != 0) return Status::FromErrno(errno, "truncate", path_);
    if (::lseek(fd_, 0, SEEK_SET) != 0) return Status::FromErrno(errno, "seek", path_);
    written_ = flushed_ = 0;
    return Status::OK();
  }
  Status Commit() override {
    if (written_ - flushed_ >= kWritebackTail) StartWriteback();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::FromErrno(errno, "close", path_);
    return Status::OK();
  }

 private:
  void StartWriteback() {
    cairn::StartWriteback(fd_, flushed_, written_);
    flushed_ = written_;
  }

  int fd_;
  std::string path_;
  uint64_t written_ = 0;
  uint64_t flushed_ = 0;  // bytes handed to writeback
};

class DirOutput final : public RestoreOutput {
 public:
  DirOutput(std::string dest, std::string root) : dest_(std::move(dest)), root_(std::move(root)) {}
  ~DirOutput() override {
    if (!finished_) {
      boost::system::error_code ec;
      fs::remove_all(root_, ec);
    }
  }

  Result<std::unique_ptr<FileTarget>> NewFile(const std::string& path, uint64_t size) override {
    CAIRN_RETURN_IF_ERROR(MakeParents(path));
    std::string full = root_ + "/" + path;
    int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) {
        return Status::AlreadyExists("restore: two entries of the bag claim the path " + path);
      }
      return Status::FromErrno(errno, "create", full);
    }
    return std::unique_ptr<FileTarget>(new DirFileTarget(fd, full));
  }

  Status NewFolder(const std::string& path) override {
    CAIRN_RETURN_IF_ERROR(MakeParents(path + "/"));
    return Status::OK();
  }

  Status Finish() override {
    int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", root_);
    // One syncfs makes every restored file durable before the bag appears.
    int rc = ::syncfs(fd);
    ::close(fd);
    if (rc != 0) return Status::FromErrno(errno, "sync", root_);
    if (::renameat2(AT_FDCWD, root_.c_str(), AT_FDCWD, dest_.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST || errno == ENOTEMPTY) {
        return Status::AlreadyExists("restore destination " + dest_ + " appeared while restoring");
      }
      return Status::FromErrno(errno, "rename to", dest_);
    }
    finished_ = true;
    int dir = ::open(ParentOf(dest_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return Status::OK();
  }

  bool parallel() const override { return true; }

  Status MakeParents(const std::string& path) {
    std::lock_guard lock(mu_);
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string dir = path.substr(0, slash);
      if (made_dirs_.count(dir)) continue;
      std::string full = root_ + "/" + dir;
      if (::mkdir(full.c_str(), 0755) != 0 && errno != EEXIST) {
        if (errno == ENOTDIR) {
          return Status::AlreadyExists("restore: " + path + " lies below a file of the bag");
        }
        return Status::FromErrno(errno, "mkdir", full);
      }
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return Status::AlreadyExists("restore: " + dir + " is both a file and a folder of the bag");
      }
      made_dirs_.insert(dir);
    }
    return Status::OK();
  }

 private:
  std::string dest_;
  std::string root_;
  std::mutex mu_;
  std::set<std::string> made_dirs_;
  bool finished_ = false;
};

// ---- archive output ----

class ArchiveOutput;

// Holds one file's bytes until Commit(): in memory up to kMemorySpool, then in
// an unnamed temp file.
class SpoolTarget final : public FileTarget {
 public:
  SpoolTarget(ArchiveOutput* out, std::string member, std::string spool_dir)
      : out_(out), member_(std::move(member)), spool_dir_(std::move(spool_dir)) {}
  ~SpoolTarget() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::span<const std::byte> data) override;
  Status Reset() override {
    memory_.clear();
    size_ = 0;
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    return Status::OK();
  }
  Status Commit() override;

 private:
  Status Spill();
  ArchiveOutput* out_;
  std::string member_;
  std::string spool_dir_;
  std::vector<std::byte> memory_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class ArchiveOutput final : public RestoreOutput {
 public:
  ArchiveOutput(std::string spool_dir, std::string bag_name,
                std::unique_ptr<bagit::ArchiveWriter> w)
      : spool_dir_(std::move(spool_dir)), bag_name_(std::move(bag_name)), writer_(std::move(w)) {}

  Status Start() {
    CAIRN_RETURN_IF_ERROR(writer_->AddDirectory(bag_name_ + "/"));
    return writer_->AddDirectory(bag_name_ + "/data/");
  }

  Result<std::unique_ptr<FileTarget>> NewFile(const std::string& path, uint64_t size) override {
    std::lock_guard lock(mu_);
    if (files_.count(path) || dirs_.count(path)) {
      return Status::AlreadyExists("restore: two entries of the bag claim the path " + path);
    }
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string dir = path.substr(0, slash);
      if (files_.count(dir)) {
        return Status::AlreadyExists("restore: " + dir + " is both a file and a folder of the bag");
      }
      dirs_.insert(dir);
    }
    files_.insert(path);
    return std::unique_ptr<FileTarget>(new SpoolTarget(this, bag_name_ + "/" + path, spool_dir_));
  }

  // A folder member of its own: an archive holds no folder that no member names.
  Status NewFolder(const std::string& path) override {
    {
      std::lock_guard lock(mu_);
      std::string folder = path + "/";
      for (size_t slash = folder.find('/'); slash != std::string::npos;
           slash = folder.find('/', slash + 1)) {
        std::string dir = folder.substr(0, slash);
        if (files_.count(dir)) {
          return Status::AlreadyExists("restore: " + dir +
                                       " is both a file and a folder of the bag");
        }
        dirs_.insert(dir);
      }
    }
    std::lock_guard lock(write_mu_);
    return writer_->AddDirectory(bag_name_ + "/" + path + "/");
  }

  Status Finish() override { return writer_->Finish(); }
  bool parallel() const override { return true; }

  // Writes one verified member; members are written one at a time.
  Status WriteMember(const std::string& member, uint64_t size, const std::vector<std::byte>& memory,
                     int spool_fd) {
    std::lock_guard lock(write_mu_);
    CAIRN_RETURN_IF_ERROR(writer_->BeginFile(member, size));
    if (spool_fd < 0) return writer_->WriteData(memory);
    std::vector<std::byte> buf(kChunk);
    uint64_t offset = 0;
    while (offset < size) {
      ssize_t n = PreadSome(spool_fd, buf, offset);
      if (n <= 0) return Status::IOError("restore: read back spooled " + member + " failed");
      CAIRN_RETURN_IF_ERROR(writer_->WriteData(std::span(buf.data(), static_cast<size_t>(n))));
      offset += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

 private:
  std::string spool_dir_;  // where files too large for memory wait until verified
  std::string bag_name_;
  std::unique_ptr<bagit::ArchiveWriter> writer_;
  std::mutex mu_;        // files_, dirs_
  std::mutex write_mu_;  // writer_
  std::set<std::string> files_;
  std::set<std::string> dirs_;
};

Status SpoolTarget::Append(std::span<const std::byte> data) {
  size_ += data.size();
  if (fd_ < 0 && memory_.size() + data.size() <= kMemorySpool) {
    memory_.insert(memory_.end(), data.begin(), data.end());
    return Status::OK();
  }
  if (fd_ < 0) CAIRN_RETURN_IF_ERROR(Spill());
  return WriteAll(fd_, data, "spool of " + member_);
}

Status SpoolTarget::Spill() {
  fd_ = ::open(spool_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    std::string name = spool_dir_ + "/.cairn-restore-spool-XXXXXX";
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0) return Status::FromErrno(errno, "create spool file in", spool_dir_);
    ::unlink(name.c_str());
  }
  CAIRN_RETURN_IF_ERROR(WriteAll(fd_, memory_, "spool of " + member_));
  memory_.clear();
  memory_.shrink_to_fit();
  return Status::OK();
}

Status SpoolTarget::Commit() {
  Status s = out_->WriteMember(member_, size_, memory_, fd_);
  memory_.clear();
  memory_.shrink_to_fit();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return s;
}

}  // namespace

std::string_view RestoreFormatName(RestoreFormat format) {
  switch (format) {
    case RestoreFormat::kDir:
      return "dir";
    case RestoreFormat::kTar:
      return "tar";
    case RestoreFormat::kTgz:
      return "tgz";
    case RestoreFormat::kZip:
      return "zip";
  }
  return "dir";
}

std::optional<RestoreFormat> ParseRestoreFormat(std::string_view name) {
  if (name == "dir") return RestoreFormat::kDir;
  if (name == "tar") return RestoreFormat::kTar;
  if (name == "tgz" || name == "tar.gz") return RestoreFormat::kTgz;
  if (name == "zip") return RestoreFormat::kZip;
  return std::nullopt;
}

std::string BagNameForArchive(const std::string& dest) {
  std::string name = fs::path(dest).filename().string();
  for (std::string_view ext : {".tar.gz", ".tgz", ".tar", ".zip"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
      return name.substr(0, name.size() - ext.size());
    }
  }
  return name;
}

Result<std::unique_ptr<RestoreOutput>> CreateRestoreOutput(const std::string& dest,
                                                           RestoreFormat format,
                                                           const std::string& bag_name) {
  CAIRN_RETURN_IF_ERROR(CheckDestAbsent(dest));
  if (format == RestoreFormat::kDir) {
    std::string root = dest + ".partial-XXXXXX";
    if (::mkdtemp(root.data()) == nullptr) return Status::FromErrno(errno, "create", root);
    auto out = std::make_unique<DirOutput>(dest, root);
    CAIRN_RETURN_IF_ERROR(out->MakeParents("data/"));
    return std::unique_ptr<RestoreOutput>(std::move(out));
  }
  if (bag_name.empty() || bag_name.find('/') != std::string::npos || bag_name == "." ||
      bag_name == "..") {
    return Status::InvalidArgument("restore: '" + bag_name + "' cannot be an archive's top folder");
  }
  bagit::ArchiveFormat af = format == RestoreFormat::kTar   ? bagit::ArchiveFormat::kTar
                            : format == RestoreFormat::kTgz ? bagit::ArchiveFormat::kTarGz
                                                            : bagit::ArchiveFormat::kZip;
  CAIRN_ASSIGN_OR_RETURN(auto writer, bagit::ArchiveWriter::Create(dest, af));
  auto out = std::make_unique<ArchiveOutput>(ParentOf(dest), bag_name, std::move(writer));
  CAIRN_RETURN_IF_ERROR(out->Start());
  return std::unique_ptr<RestoreOutput>(std::move(out));
}

Result<std::unique_ptr<RestoreOutput>> CreateStreamRestoreOutput(int fd,
                                                                 const std::string& bag_name,
                                                                 const std::string& spool_dir) {
  if (bag_name.empty() || bag_name.find('/') != std::string::npos || bag_name == "." ||
      bag_name == "..") {
    return Status::InvalidArgument("restore: '" + bag_name + "' cannot be an archive's top folder");
  }
  CAIRN_ASSIGN_OR_RETURN(auto writer, bagit::ArchiveWriter::CreateOnFd(fd, "the restore stream",
                                                                       bagit::ArchiveFormat::kTar));
  auto out = std::make_unique<ArchiveOutput>(spool_dir, bag_name, std::move(writer));
  CAIRN_RETURN_IF_ERROR(out->Start());
  return std::unique_ptr<RestoreOutput>(std::move(out));
}

}  // namespace cairn::repo
