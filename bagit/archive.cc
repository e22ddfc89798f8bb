// Reading serialized bags through libarchive: tar (ustar, pax, gnu) and zip,
// optionally gzip/bzip2/xz compressed, streamed entry by entry.
#include "bagit/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "bagit/archive_locale.h"

namespace cairn::bagit {
namespace {

// Size of each read from the archive file and of each chunk given to a sink.
constexpr size_t kArchiveChunk = 1 << 20;

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  std::string_view tail = s.substr(s.size() - suffix.size());
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = tail[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

std::string ArchiveError(struct archive* a) {
  const char* msg = archive_error_string(a);
  return msg != nullptr ? msg : "unknown libarchive error";
}

// The entry's name as UTF-8 when libarchive has it so, else the raw bytes.
std::string EntryPath(struct archive_entry* e) {
  if (const char* utf8 = archive_entry_pathname_utf8(e)) return utf8;
  if (const char* raw = archive_entry_pathname(e)) return raw;
  return "";
}

std::string LinkText(const char* utf8, const char* raw) {
  if (utf8 != nullptr) return utf8;
  if (raw != nullptr) return raw;
  return "";
}

class LibArchiveReader final : public ArchiveReader {
 public:
  LibArchiveReader(std::string path, struct archive* a)
      : path_(std::move(path)),
        archive_(a),
        buffer_(static_cast<std::byte*>(std::malloc(kArchiveChunk))) {}
  ~LibArchiveReader() override {
    archive_read_free(archive_);
    std::free(buffer_);
  }

  Result<bool> Next(ArchiveEntry* entry) override {
    internal::ScopedUtf8Locale utf8;
    if (failed_) return Status::Corruption("archive " + path_ + ": cannot read past damage");
    struct archive_entry* e = pending_entry_;
    int rc = pending_rc_;
    if (has_pending_) {
      has_pending_ = false;
    } else {
      rc = archive_read_next_header(archive_, &e);
    }
    if (rc == ARCHIVE_EOF) return false;
    // ARCHIVE_WARN is a usable header (e.g. an odd field); RETRY (a bad header
    // checksum), FAILED and FATAL mean the stream is damaged.
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      failed_ = true;
      return Status::Corruption("archive " + path_ +
                                ": damaged or truncated: " + ArchiveError(archive_));
    }
    entry->path = EntryPath(e);
    if (entry->path.empty()) {
      failed_ = true;
      return Status::Corruption("archive " + path_ +
                                ": a member has no readable name: " + ArchiveError(archive_));
    }
    entry->size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
    entry->link_target.clear();
    current_ = entry->path;
    if (archive_entry_hardlink(e) != nullptr || archive_entry_hardlink_utf8(e) != nullptr) {
      entry->type = EntryType::kHardlink;
      entry->link_target = LinkText(archive_entry_hardlink_utf8(e), archive_entry_hardlink(e));
      return true;
    }
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        entry->type = EntryType::kFile;
        break;
      case AE_IFDIR:
        entry->type = EntryType::kDirectory;
        break;
      case AE_IFLNK:
        entry->type = EntryType::kSymlink;
        entry->link_target = LinkText(archive_entry_symlink_utf8(e), archive_entry_symlink(e));
        break;
      default:
        entry->type = EntryType::kOther;
        break;
    }
    return true;
  }

  // Reads the first header, so that Open() can tell a non-archive apart.
  int ReadFirstHeader() {
    internal::ScopedUtf8Locale utf8;
    has_pending_ = true;
    pending_rc_ = archive_read_next_header(archive_, &pending_entry_);
    return pending_rc_;
  }
  struct archive* handle() {
    return archive_;
  }
  // Open() sets this for a file: libarchive then skips unread member bytes by lseek.
  void set_from_file() { from_file_ = true; }
  bool SeeksPastData() const override {
    return from_file_ && archive_filter_count(archive_) == 1 &&
           archive_filter_code(archive_, 0) == ARCHIVE_FILTER_NONE;
  }

  Status ReadData(const ChunkSink& sink, uint64_t limit) override {
    if (failed_) return Status::Corruption("archive " + path_ + ": cannot read past damage");
    uint64_t total = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(archive_, buffer_, kArchiveChunk);
      if (n == 0) return Status::OK();
      if (n < 0) {  // any error here (a bad CRC is ARCHIVE_WARN) means damaged bytes
        failed_ = true;
        return Status::Corruption("archive " + path_ + ": member " + current_ +
                                  ": damaged data: " + ArchiveError(archive_));
      }
      total += static_cast<uint64_t>(n);
      if (total > limit) {
        return Status::InvalidArgument("archive " + path_ + ": member " + current_ +
                                       " holds more than its limit of " + std::to_string(limit) +
                                       " bytes");
      }
      CAIRN_RETURN_IF_ERROR(sink(std::span<const std::byte>(buffer_, static_cast<size_t>(n))));
    }
  }

 private:
  std::string path_;
  struct archive* archive_;
  std::byte* buffer_;
  std::string current_;  // path of the entry Next() last returned
  bool failed_ = false;
  bool from_file_ = false;
  bool has_pending_ = false;  // a header read by ReadFirstHeader(), not yet returned
  int pending_rc_ = ARCHIVE_OK;
  struct archive_entry* pending_entry_ = nullptr;
};

}  // namespace

std::string_view EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "directory";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hard link";
    case EntryType::kOther:
      return "device, fifo or socket";
  }
  return "unknown";
}

std::optional<ArchiveFormat> FormatFromName(std::string_view path) {
  if (EndsWithNoCase(path, ".tar.gz") || EndsWithNoCase(path, ".tgz")) {
    return ArchiveFormat::kTarGz;
  }
  if (EndsWithNoCase(path, ".tar")) return ArchiveFormat::kTar;
  if (EndsWithNoCase(path, ".zip")) return ArchiveFormat::kZip;
  return std::nullopt;
}

std::optional<std::string> OtherArchiveExtension(std::string_view path) {
  if (FormatFromName(path)) return std::nullopt;
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  // Two-part ones first, so that the whole ".tar.bz2" is named.
  static constexpr std::string_view kOthers[] = {
      ".tar.bz2", ".tar.xz", ".tar.zst", ".tar.lz", ".tar.lzma", ".tar.lz4", ".tar.z",
      ".rar",     ".7z",     ".gz",      ".bz2",    ".xz",       ".zst",     ".lz",
      ".lzma",    ".lz4",    ".z",       ".tbz",    ".tbz2",     ".txz",     ".tzst",
      ".tlz",     ".cab",    ".arj",     ".lzh",    ".lha",      ".ace",     ".iso",
      ".cpio",    ".xar",    ".dmg",     ".sit",    ".sitx",     ".wim",     ".zipx"};
  for (std::string_view ext : kOthers) {
    if (name.size() > ext.size() && EndsWithNoCase(name, ext)) {
      return std::string(name.substr(name.size() - ext.size()));
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "open archive", path);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("archive " + path + ": not a regular file");
  }
  struct archive* a = archive_read_new();
  if (a == nullptr) return Status::IOError("archive " + path + ": out of memory");
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_xz(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_zip(a);
  if (archive_read_open_filename(a, path.c_str(), kArchiveChunk) != ARCHIVE_OK) {
    int err = archive_errno(a);
    std::string msg = ArchiveError(a);
    archive_read_free(a);
    if (err == EACCES || err == EPERM) return Status::FromErrno(err, "open archive", path);
    return Status::InvalidArgument("archive " + path +
                                   ": not a readable tar, tar.gz or zip archive: " + msg);
  }
  auto reader = std::make_unique<LibArchiveReader>(path, a);
  reader->set_from_file();
  int first = reader->ReadFirstHeader();
  if (first != ARCHIVE_OK && first != ARCHIVE_WARN && first != ARCHIVE_EOF) {
    return Status::InvalidArgument(
        "archive " + path +
        ": not a readable tar, tar.gz or zip archive: " + ArchiveError(reader->handle()));
  }
  return std::unique_ptr<ArchiveReader>(std::move(reader));
}

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::OpenStream(int fd, const std::string& name) {
  struct archive* a = archive_read_new();
  if (a == nullptr) return Status::IOError("archive " + name + ": out of memory");
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_fd(a, fd, kArchiveChunk) != ARCHIVE_OK) {
    std::string msg = ArchiveError(a);
    archive_read_free(a);
    return Status::InvalidArgument("archive " + name + ": not a readable tar stream: " + msg);
  }
  auto reader = std::make_unique<LibArchiveReader>(name, a);
  int first = reader->ReadFirstHeader();
  if (first != ARCHIVE_OK && first != ARCHIVE_WARN && first != ARCHIVE_EOF) {
    return Status::InvalidArgument(
        "archive " + name + ": not a readable tar stream: " + ArchiveError(reader->handle()));
  }
  return std::unique_ptr<ArchiveReader>(std::move(reader));
}

}  // namespace cairn::bagit
