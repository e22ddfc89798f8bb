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

#include "bagit/creator.h"
#include "bagit/digest.h"
#include "bagit/status.h"

struct archive;  // libarchive's

namespace cairn::client {

// A plain folder sent as a bag made on the fly: its files become `top`/data/..., hashed as
// they stream, and the tag files follow them (bagit.txt, bag-info.txt, the manifests and tag
// manifests of `options.algorithms`), so that the folder is read once and never copied.
struct BagOnTheFly {
  bagit::CreateOptions options;  // algorithms, info, software_agent, bagging_date
};

class FolderTarStream {
 public:
  // A stream of `folder` as a pax-restricted tar whose members lie below `top`/ (the folder's
  // own name when empty); with `bag`, as a bag of the folder's files. InvalidArgument when
  // `folder` is not a readable directory, or for a bad bag-info field of `bag`.
  static Result<std::unique_ptr<FolderTarStream>> Open(const std::string& folder,
                                                       const std::string& top = "",
                                                       const BagOnTheFly* bag = nullptr);
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
  Status Step();                      // writes the next piece into buffer_
  Status NextMember();                // starts the next member, or closes the archive
  Status AppendTagFiles();            // the bag's tag files, after the payload
  Status AppendEmptyPayloadFolder();  // data/, for a folder with nothing in it
  void FileDone();                    // a payload file sent whole: its manifest lines
  Status AppendMember(const std::string& name, const std::string& bytes);
  void Failed();

  struct Walk;
  std::unique_ptr<Walk> walk_;
  ::archive* archive_ = nullptr;
  std::string buffer_;  // tar bytes made and not yet read
  size_t buffer_at_ = 0;
  int fd_ = -1;              // the member being written
  uint64_t remaining_ = 0;   // its bytes still to write
  std::string member_name_;  // for messages
  // Bag mode: the payload's hashes and manifest lines, so far.
  struct Bagging;
  std::unique_ptr<Bagging> bag_;
  bool closed_ = false;
  size_t max_buffered_ = 0;

  friend long AppendTar(::archive*, void*, const void*, size_t);
};

}  // namespace cairn::client

#endif  // CAIRN_OPS_CLIENT_FOLDER_TAR_STREAM_H_
