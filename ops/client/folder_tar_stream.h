// A folder as a tar made on the fly, read piece by piece (issue 17: a remote deposit streams a
// folder; the pieces feed libcurl's read callback). Only the member being written and one small
// buffer are held: never the whole folder nor the whole archive.
#ifndef CAIRN_OPS_CLIENT_FOLDER_TAR_STREAM_H_
#define CAIRN_OPS_CLIENT_FOLDER_TAR_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bagit/status.h"

struct archive;  // libarchive's

namespace cairn::client {

class FolderTarStream {
 public:
  // A stream of `folder` as a pax-restricted tar whose members lie below `top`/ (the folder's
  // own name when empty). InvalidArgument when `folder` is not a readable directory.
  static Result<std::unique_ptr<FolderTarStream>> Open(const std::string& folder,
                                                       const std::string& top = "");
  ~FolderTarStream();
  FolderTarStream(const FolderTarStream&) = delete;
  FolderTarStream& operator=(const FolderTarStream&) = delete;

  // Copies up to `size` next bytes of the tar into `out`: how many, 0 at the end. An error
  // when a file cannot be read, changed size while read, or is neither a regular file nor a
  // directory (a link, a device: refused, as a local deposit refuses it).
  Result<size_t> Read(char* out, size_t size);

  // The most bytes ever waiting in the buffer (what the stream holds besides libarchive's).
  size_t max_buffered() const { return max_buffered_; }

 private:
  FolderTarStream() = default;
  Status Step();        // writes the next piece into buffer_
  Status NextMember();  // starts the next member, or closes the archive
  void Failed();

  struct Walk;
  std::unique_ptr<Walk> walk_;
  ::archive* archive_ = nullptr;
  std::string buffer_;  // tar bytes made and not yet read
  size_t buffer_at_ = 0;
  int fd_ = -1;              // the member being written
  uint64_t remaining_ = 0;   // its bytes still to write
  std::string member_name_;  // for messages
  bool closed_ = false;
  size_t max_buffered_ = 0;

  friend long AppendTar(::archive*, void*, const void*, size_t);
};

}  // namespace cairn::client

#endif  // CAIRN_OPS_CLIENT_FOLDER_TAR_STREAM_H_
