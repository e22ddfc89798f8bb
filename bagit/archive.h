// Serialized bags (.tar, .tar.gz/.tgz, .zip) read and written through libarchive,
// as streams: nothing is extracted to disk. Member names are reported raw; the
// caller (validator, deposit) decides which are allowed (see bagit/paths.h).
#ifndef CAIRN_BAGIT_ARCHIVE_H_
#define CAIRN_BAGIT_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::bagit {

// Receives consecutive chunks of a stream; a non-OK return stops the read.
using ChunkSink = std::function<Status(std::span<const std::byte>)>;

enum class EntryType { kFile, kDirectory, kSymlink, kHardlink, kOther };
std::string_view EntryTypeName(
    EntryType t);  // "file", "directory", "symlink", "hard link", "device, fifo or socket"

struct ArchiveEntry {
  std::string path;  // as stored in the archive, raw bytes
  EntryType type = EntryType::kFile;
  uint64_t size = 0;        // declared size (regular files)
  std::string link_target;  // symlinks and hard links
};

enum class ArchiveFormat { kTar, kTarGz, kZip };
// By file name: ".tar", ".tar.gz", ".tgz", ".zip" (case-insensitive); nullopt otherwise.
std::optional<ArchiveFormat> FormatFromName(std::string_view path);
// The extension of `path`'s last segment, as spelled there, when it names an archive or
// compression format other than those of FormatFromName: ".rar", ".7z", ".tar.bz2", ".gz",
// ".xz", ".zst", ".cab", ".iso", ... (case-insensitive). nullopt for the formats Cairn writes
// and for a name that looks like no archive ("maps", "maps.v2", "box.bag"). A verb that picks
// its output's format from DEST's name refuses such a DEST rather than write a folder or
// another format under a name that promises this one.
std::optional<std::string> OtherArchiveExtension(std::string_view path);

// Reads an archive entry by entry, once, front to back.
class ArchiveReader {
 public:
  // Opens `path` (format detected from content: tar, gzip-compressed tar, zip).
  // NotFound if absent; InvalidArgument if it is not a readable archive.
  static Result<std::unique_ptr<ArchiveReader>> Open(const std::string& path);
  // Reads a stream (a pipe: a remote restore's download) from `fd`, which the caller keeps
  // open until the reader is destroyed and then closes. No seeking: a tar, or a tar.gz.
  // `name` stands for the stream in messages. InvalidArgument as Open when the first bytes are
  // not an archive (or the stream ends before any).
  static Result<std::unique_ptr<ArchiveReader>> OpenStream(int fd, const std::string& name);
  virtual ~ArchiveReader() = default;

  // Moves to the next entry and fills `entry`. Returns false at the end of the
  // archive. Corruption/InvalidArgument if the archive is damaged (names the archive).
  virtual Result<bool> Next(ArchiveEntry* entry) = 0;
  // Streams the current entry's bytes in chunks of up to 1 MiB. Reading stops
  // (InvalidArgument, naming the member) after `limit` bytes: the guard against
  // a member that inflates far beyond its declared size.
  virtual Status ReadData(const ChunkSink& sink, uint64_t limit = ~uint64_t{0}) = 0;
  // True when a member's bytes that are not read cost no reading: an uncompressed tar or a
  // zip opened from a file (Open), whose members are skipped by seeking. A walk of its headers
  // alone is then cheap (the bag walker reads tag files that come after the payload ahead).
  virtual bool SeeksPastData() const { return false; }
};

// Writes an archive as a stream. Members are added in order; Finish() completes
// the archive and makes it visible at `path` (written to a temp name and renamed).
class ArchiveWriter {
 public:
  static Result<std::unique_ptr<ArchiveWriter>> Create(const std::string& path,
                                                       ArchiveFormat format);
  // Writes the archive to `fd` (a pipe: a download being sent) as it is made, in blocks of up
  // to 1 MiB; the caller keeps `fd` open until the writer is destroyed and then closes it.
  // Finish() ends the archive (its end-of-archive blocks); a writer destroyed without Finish()
  // writes nothing more, so that a reader never sees a complete archive. `name` stands for the
  // stream in messages.
  static Result<std::unique_ptr<ArchiveWriter>> CreateOnFd(int fd, const std::string& name,
                                                           ArchiveFormat format);
  virtual ~ArchiveWriter() = default;  // without Finish(): the temp file is removed
  virtual Status AddDirectory(std::string_view path) = 0;
  // Starts a regular file member of `size` bytes; then WriteData() exactly `size` bytes.
  virtual Status BeginFile(std::string_view path, uint64_t size) = 0;
  virtual Status WriteData(std::span<const std::byte> data) = 0;
  virtual Status Finish() = 0;
};

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_ARCHIVE_H_
