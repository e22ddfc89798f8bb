// Internal to restore: the catalog is an index, the bag as written on the
// sites is the truth. Before any payload byte is written, a restore checks the
// catalog's list of files against what the bag itself vouches for: the
// version's own record (version.pb) and its SHA-256 manifest
// (manifest-sha256.txt, which every stored version holds). Both are read once,
// streamed, while the restore copies its tag files (tag files go first, one at
// a time): version.pb is read and not written; manifest-sha256.txt is written
// while it is parsed (or only read, when Cairn added it at deposit).
//
// A copy of either file is used only once its bytes match the catalog's
// SHA-256 of it (else the engine calls it a bad copy and tries the next site),
// so a disagreement found here is the catalog's, not a damaged copy's: the
// file's FileTarget::Commit() fails with Corruption naming the payload (or tag)
// file, and the restore stops with nothing left at DEST and no copy blamed.
//
// Checked (rule restore.catalog-disagrees):
//   version.pb names the plan's partner, object and version; lists exactly the
//   catalog's payload files, each with the catalog's size and SHA-256; and
//   exactly the catalog's tag files (version.pb aside), with theirs; and exactly the
//   catalog's empty folders;
//   manifest-sha256.txt (decoded in bagit.txt's declared encoding) lists every
//   payload file of the catalog with the catalog's SHA-256. A manifest line for
//   a path the catalog lacks is not an error: a deposit accepts a listed name
//   present only under a case or normalization twin (payload.name-collision-absent),
//   and version.pb already pins the exact list.
// Manifests of other algorithms are not compared: their digests would need
// every payload byte hashed again; deposit checked them, and the SHA-256 each
// file is verified against binds the bytes.
//
// Memory: one bit per payload file for each checked file, plus one protobuf
// field or one manifest line at a time.
#ifndef CAIRN_REPO_RESTORE_CHECK_H_
#define CAIRN_REPO_RESTORE_CHECK_H_

#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "repo/catalog/catalog.h"
#include "repo/restore/restore_engine.h"
#include "repo/restore/restore_output.h"

namespace cairn::repo::restore_internal {

// The tag file every restore checks the payload against, besides version.pb.
inline constexpr std::string_view kCheckedManifestName = "manifest-sha256.txt";

// A RestoreOutput that checks version.pb and manifest-sha256.txt as they pass
// and forwards everything else to `out`.
class CheckingOutput final : public RestoreOutput {
 public:
  // `payload`: the plan's payload items, sorted by path (REQUIRES), alive and
  // unchanged while the output is used. `version`: the catalog's version, its
  // tag_files included. `check_only`: names that are read and checked but not
  // written to `out` (version.pb always is).
  CheckingOutput(RestoreOutput& out, const VersionInfo& version,
                 std::span<const RestoreItem> payload, std::set<std::string> check_only);

  // version.pb: a target that parses the record and writes nothing;
  // manifest-sha256.txt and bagit.txt: `out`'s target, teed into a parser;
  // other names: `out`'s target. Thread-safe for payload files.
  Result<std::unique_ptr<FileTarget>> NewFile(const std::string& path, uint64_t size) override;
  Status NewFolder(const std::string& path) override { return out_.NewFolder(path); }
  // Corruption if version.pb or manifest-sha256.txt was never checked; else the version's
  // empty folders (`out`.NewFolder), then `out`.Finish().
  Status Finish() override;
  bool parallel() const override { return out_.parallel(); }

 private:
  RestoreOutput& out_;
  const VersionInfo& version_;
  std::span<const RestoreItem> payload_;
  std::set<std::string> check_only_;
  std::string encoding_ = "UTF-8";  // bagit.txt's Tag-File-Character-Encoding
  bool record_checked_ = false;
  bool manifest_checked_ = false;
};

}  // namespace cairn::repo::restore_internal

#endif  // CAIRN_REPO_RESTORE_CHECK_H_
