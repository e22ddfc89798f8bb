// Where a restore writes the bag it rebuilds: a folder (built in a hidden
// sibling DEST.partial-XXXXXX and renamed to DEST only when complete), or a
// serialized bag (tar, tgz, zip) streamed through bagit::ArchiveWriter, which
// also becomes visible at DEST only when finished. Either way, a restore that
// fails leaves nothing at DEST.
//
// Each file goes through a FileTarget: bytes are appended while they are read
// and hashed, and the file becomes part of the bag only at Commit(), after the
// caller has verified the digest. Reset() drops what was appended so the same
// file can be read again from another site.
#ifndef CAIRN_REPO_RESTORE_OUTPUT_H_
#define CAIRN_REPO_RESTORE_OUTPUT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bagit/status.h"

namespace cairn::repo {

enum class RestoreFormat { kDir, kTar, kTgz, kZip };

// "dir", "tar", "tgz", "zip".
std::string_view RestoreFormatName(RestoreFormat format);
// The format named "dir", "tar", "tgz" (or "tar.gz"), "zip"; nullopt otherwise.
std::optional<RestoreFormat> ParseRestoreFormat(std::string_view name);

// One file of the bag being written.
class FileTarget {
 public:
  virtual ~FileTarget() = default;
  // Appends bytes. IOError/NoSpace name the local file on failure.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Drops every byte appended so far (the copy read was bad: try another).
  virtual Status Reset() = 0;
  // The appended bytes are verified: make them the file's content.
  // REQUIRES: called at most once; no Append() afterwards.
  virtual Status Commit() = 0;
};

class RestoreOutput {
 public:
  virtual ~RestoreOutput() = default;
  // A target for the bag-relative file `path` of `size` bytes. REQUIRES: `path`
  // passed bagit::CheckBagPath. AlreadyExists if two files claim one path (or
  // a file and a folder collide). Thread-safe.
  virtual Result<std::unique_ptr<FileTarget>> NewFile(const std::string& path, uint64_t size) = 0;
  // An empty folder of the bag's payload (the manifests list files only), made with the folders
  // above it. REQUIRES: `path` passed bagit::CheckBagPath. AlreadyExists if a file of the bag
  // claims the path or one above it.
  virtual Status NewFolder(const std::string& path) = 0;
  // Makes the whole bag visible at DEST. REQUIRES: every target committed or
  // destroyed. After a failure nothing is left at DEST.
  virtual Status Finish() = 0;
  // True when NewFile() targets may be used from several threads at once.
  virtual bool parallel() const = 0;
};

// Creates the output for DEST. DEST must not exist (AlreadyExists otherwise)
// and its parent folder must. For archives, `bag_name` is the top folder of
// every member. Destroying the output without Finish() removes everything it
// wrote.
Result<std::unique_ptr<RestoreOutput>> CreateRestoreOutput(const std::string& dest,
                                                           RestoreFormat format,
                                                           const std::string& bag_name);

// The output of a restore sent as it is made (`cairn serve`): the bag as a tar written to `fd`
// (which the caller closes after destroying the output), every member below `bag_name`/, each
// file spooled in `spool_dir` (memory, then an unnamed temp file) until verified so that only
// verified bytes go out. Finish() ends the tar; an output destroyed without it leaves the tar
// unended, so that the reader can tell.
Result<std::unique_ptr<RestoreOutput>> CreateStreamRestoreOutput(int fd,
                                                                 const std::string& bag_name,
                                                                 const std::string& spool_dir);

// The bag name an archive at `dest` should carry as its top folder (RFC 8493
// section 4: the serialization's base name): "out/acme-7.tar.gz" -> "acme-7".
std::string BagNameForArchive(const std::string& dest);

}  // namespace cairn::repo

#endif  // CAIRN_REPO_RESTORE_OUTPUT_H_
