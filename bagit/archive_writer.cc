// Writing serialized bags through libarchive: pax-restricted tar (plain ustar
// headers unless a name needs pax), gzip-compressed tar, and zip. The archive is
// written to "<path>.tmp-XXXXXX" and renamed over `path` only by Finish().
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>

#include "bagit/archive.h"
#include "bagit/archive_locale.h"

namespace cairn::bagit {
namespace {

// Bytes handed to write(2) at a time; the last block is not padded.
constexpr int kWriteBlock = 1 << 20;

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class LibArchiveWriter final : public ArchiveWriter {
 public:
  // An empty `temp`: a stream onto `fd`, which the caller owns (CreateOnFd).
  LibArchiveWriter(std::string path, std::string temp, int fd, struct archive* a)
      : path_(std::move(path)),
        temp_(std::move(temp)),
        stream_(temp_.empty()),
        fd_(fd),
        archive_(a),
        entry_(archive_entry_new()),
        mtime_(std::time(nullptr)) {}

  ~LibArchiveWriter() override {
    if (archive_ != nullptr) {
      // Abandoned; the temp file is removed below either way. libarchive frees
      // its write buffer and a zip member's zlib stream only when the archive
      // is closed (archive_write_fail + free leaks them), so close it when that
      // is cheap. Closing pads an unfinished tar member with its missing bytes:
      // past a small remainder the archive is failed instead.
      // A stream gets nothing more: padding would make a cut archive look whole.
      if (!stream_ && remaining_ <= kCheapCloseRemainder) {
        (void)archive_write_close(archive_);
      } else {
        archive_write_fail(archive_);
      }
      archive_write_free(archive_);
    }
    archive_entry_free(entry_);
    if (stream_) return;
    if (fd_ >= 0) ::close(fd_);
    if (!finished_) ::unlink(temp_.c_str());
  }

  Status AddDirectory(std::string_view path) override {
    CAIRN_RETURN_IF_ERROR(CheckPreviousFileComplete());
    std::string name(path);
    if (name.empty() || name.back() != '/') name.push_back('/');
    return WriteHeader(name, AE_IFDIR, 0755, 0);
  }

  Status BeginFile(std::string_view path, uint64_t size) override {
    CAIRN_RETURN_IF_ERROR(CheckPreviousFileComplete());
    CAIRN_RETURN_IF_ERROR(WriteHeader(std::string(path), AE_IFREG, 0644, size));
    remaining_ = size;
    return Status::OK();
  }

  Status WriteData(std::span<const std::byte> data) override {
    if (data.size() > remaining_) {
      return Status::InvalidArgument("archive " + path_ + ": member " + member_ +
                                     " given more bytes than its declared size");
    }
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(archive_, data.data(), data.size());
      if (n <= 0) return WriteError("write member " + member_);
      data = data.subspan(static_cast<size_t>(n));
      remaining_ -= static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  Status Finish() override {
    CAIRN_RETURN_IF_ERROR(CheckPreviousFileComplete());
    if (archive_write_close(archive_) != ARCHIVE_OK) return WriteError("finish");
    archive_write_free(archive_);
    archive_ = nullptr;
    if (stream_) {
      finished_ = true;
      return Status::OK();
    }
    if (::fsync(fd_) != 0) return Status::FromErrno(errno, "fsync", temp_);
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::FromErrno(errno, "close", temp_);
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      return Status::FromErrno(errno, "rename to", path_);
    }
    finished_ = true;
    // Make the rename itself durable.
    int dir = ::open(ParentDir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    return Status::OK();
  }

 private:
  static constexpr uint64_t kCheapCloseRemainder = 1 << 20;

  Status CheckPreviousFileComplete() {
    if (archive_ == nullptr) return Status::InvalidArgument("archive " + path_ + ": finished");
    if (remaining_ != 0) {
      return Status::InvalidArgument("archive " + path_ + ": member " + member_ + " is " +
                                     std::to_string(remaining_) +
                                     " bytes short of its declared size");
    }
    return Status::OK();
  }

  Status WriteHeader(const std::string& name, unsigned type, int perm, uint64_t size) {
    internal::ScopedUtf8Locale utf8;
    archive_entry_clear(entry_);
    // Raw bytes (bag names are UTF-8, and the thread locale is UTF-8 here):
    // pax adds an extended header only for long or non-ASCII names.
    archive_entry_copy_pathname(entry_, name.c_str());
    archive_entry_set_filetype(entry_, type);
    archive_entry_set_perm(entry_, perm);
    archive_entry_set_size(entry_, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry_, mtime_, 0);
    member_ = name;
    int rc = archive_write_header(archive_, entry_);
    if (rc < ARCHIVE_WARN) return WriteError("write header of " + name);
    return Status::OK();
  }

  Status WriteError(const std::string& what) {
    int err = archive_errno(archive_);
    const char* msg = archive_error_string(archive_);
    if (err == ENOSPC || err == EDQUOT || err == EIO || err == EROFS) {
      return Status::FromErrno(err, what + " in archive", temp_);
    }
    return Status::IOError("archive " + path_ + ": " + what + ": " +
                           (msg != nullptr ? msg : "libarchive error"));
  }

  std::string path_;
  std::string temp_;
  bool stream_;
  int fd_;
  struct archive* archive_;
  struct archive_entry* entry_;
  time_t mtime_;
  std::string member_;      // the member last started
  uint64_t remaining_ = 0;  // bytes still owed to the current file member
  bool finished_ = false;
};

// A libarchive writer of `format` onto `fd`; nullptr and the message in *error otherwise.
struct archive* OpenWriter(int fd, ArchiveFormat format, std::string* error) {
  internal::ScopedUtf8Locale utf8;
  struct archive* a = archive_write_new();
  int rc = ARCHIVE_OK;
  switch (format) {
    case ArchiveFormat::kTar:
      rc = archive_write_set_format_pax_restricted(a);
      break;
    case ArchiveFormat::kTarGz:
      rc = archive_write_set_format_pax_restricted(a);
      if (rc == ARCHIVE_OK) rc = archive_write_add_filter_gzip(a);
      break;
    case ArchiveFormat::kZip:
      rc = archive_write_set_format_zip(a);
      if (rc == ARCHIVE_OK) rc = archive_write_set_format_option(a, "zip", "hdrcharset", "UTF-8");
      break;
  }
  if (rc == ARCHIVE_OK) rc = archive_write_set_bytes_per_block(a, kWriteBlock);
  if (rc == ARCHIVE_OK) rc = archive_write_set_bytes_in_last_block(a, 1);
  if (rc == ARCHIVE_OK) rc = archive_write_open_fd(a, fd);
  if (rc != ARCHIVE_OK) {
    const char* msg = archive_error_string(a);
    *error = msg != nullptr ? msg : "libarchive error";
    archive_write_free(a);
    return nullptr;
  }
  return a;
}

}  // namespace

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Create(const std::string& path,
                                                             ArchiveFormat format) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return Status::FromErrno(errno, "create archive", path);
  ::fchmod(fd, 0644);
  std::string error;
  struct archive* a = OpenWriter(fd, format, &error);
  if (a == nullptr) {
    ::close(fd);
    ::unlink(temp.c_str());
    return Status::IOError("create archive " + path + ": " + error);
  }
  return std::unique_ptr<ArchiveWriter>(new LibArchiveWriter(path, temp, fd, a));
}

Result<std::unique_ptr<ArchiveWriter>> ArchiveWriter::CreateOnFd(int fd, const std::string& name,
                                                                 ArchiveFormat format) {
  std::string error;
  struct archive* a = OpenWriter(fd, format, &error);
  if (a == nullptr) return Status::IOError("create archive " + name + ": " + error);
  return std::unique_ptr<ArchiveWriter>(new LibArchiveWriter(name, "", fd, a));
}

}  // namespace cairn::bagit
