// Internal to the bag creator (bagit/creator*.cc): manifest files appended from
// several threads, tag manifests, and small durable-file helpers.
#ifndef CAIRN_BAGIT_CREATOR_INTERNAL_H_
#define CAIRN_BAGIT_CREATOR_INTERNAL_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bagit/creator.h"
#include "bagit/digest.h"
#include "bagit/source_tree.h"
#include "bagit/status.h"

namespace cairn::bagit::internal {

// "manifest-sha512.txt", "tagmanifest-md5.txt".
std::string ManifestName(Algorithm a);
std::string TagManifestName(Algorithm a);

// One manifest-<alg>.txt per algorithm in a folder, appended line by line
// (buffered) from any thread, in completion order.
class ManifestFiles {
 public:
  // Creates the files in `dir` (which must not already hold them).
  static Result<std::unique_ptr<ManifestFiles>> Create(const std::string& dir,
                                                       std::vector<Algorithm> algorithms);
  ~ManifestFiles();
  // Adds "<digest>  <encoded path>" to every manifest. Thread-safe.
  Status Add(const std::string& path, const Digests& digests);
  // Flushes, fsyncs and closes every file. REQUIRES: no Add() running.
  Status Close();
  // The manifest file names, in algorithm order.
  std::vector<std::string> Names() const;

 private:
  ManifestFiles() = default;
  Status FlushLocked(size_t i);

  std::string dir_;
  std::vector<Algorithm> algorithms_;
  std::vector<int> fds_;
  std::vector<std::string> buffers_;
  std::mutex mu_;
};

// Writes `content` to the new file `path` (O_EXCL) and fsyncs it.
Status WriteNewFile(const std::string& path, std::string_view content);

// Writes tagmanifest-<alg>.txt into `dir` for every algorithm, listing the tag
// files `listed` (names of files in `dir`). Returns every tag file of the bag
// (`listed` plus the tag manifests) with its size and digests.
Result<std::vector<CreatedBag::TagFile>> WriteTagManifests(
    const std::string& dir, const std::vector<std::string>& listed,
    const std::vector<Algorithm>& algorithms);

// fsync of a folder, so renames and new entries in it are durable.
Status SyncDirectory(const std::string& dir);

// The folder holding `path` ("." if none).
std::string ParentOf(const std::string& path);

// "DEST.partial-XXXXXX", created as an empty folder beside `dest`.
Result<std::string> MakeScratchFolder(const std::string& dest);

// Removes a folder tree, ignoring errors (cleanup after a failure).
void RemoveTree(const std::string& path);

// The archive bag of a walked source (bagit/creator_archive.cc): one read of
// each file, hashed and streamed into the archive at `dest`. REQUIRES: the
// checks of CreateBag() passed; `bag_info` is the finished bag-info.txt.
Result<CreatedBag> CreateArchiveBag(const SourceTree& tree, const std::string& dest,
                                    const std::string& bag_info,
                                    const std::vector<Algorithm>& algorithms,
                                    const CreateOptions& options);

// Bagging `src` where it is (bagit/creator_in_place.cc).
Result<CreatedBag> CreateBagInPlace(const std::string& src,
                                    const std::vector<Algorithm>& algorithms,
                                    const CreateOptions& options);

// Set of the algorithms in `list`.
AlgorithmSet ToSet(const std::vector<Algorithm>& list);

}  // namespace cairn::bagit::internal

#endif  // CAIRN_BAGIT_CREATOR_INTERNAL_H_
