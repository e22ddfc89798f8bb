// Making bags (RFC 8493, version 1.0) from a folder: as a new bag directory, as
// a serialized bag (.tar, .tar.gz, .zip) written straight through libarchive,
// or in place. Each source file is read once, in kReadChunk reads, hashed with
// every requested algorithm while it is copied.
//
//   CreateOptions options;                       // sha512, directory bag
//   options.info.push_back({"Source-Organization", "Example Archive"});
//   CAIRN_ASSIGN_OR_RETURN(CreatedBag bag, CreateBag("/in/folder", "/out/bag", options));
//
// Nothing half-made is ever visible at DEST: a directory bag is built in a
// sibling "DEST.partial-XXXXXX" and renamed; an archive is written to a temp
// name and renamed. SRC is walked completely before anything is written, so a
// symlink, special file or badly named file refuses the whole bag up front.
#ifndef CAIRN_BAGIT_CREATOR_H_
#define CAIRN_BAGIT_CREATOR_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bagit/digest.h"
#include "bagit/status.h"

namespace cairn::bagit {

enum class BagFormat { kDirectory, kTar, kTarGz, kZip };
// "dir", "tar", "tgz", "zip".
std::string_view BagFormatName(BagFormat format);
// Accepts "dir", "tar", "tgz", "tar.gz", "zip"; InvalidArgument otherwise.
Result<BagFormat> ParseBagFormat(std::string_view name);

// One bag-info.txt line.
struct InfoField {
  std::string label;
  std::string value;
};

// Parses a "--info" argument "Label: value". The label must be non-empty, have
// no ':' , no control characters and no leading or trailing whitespace; the
// value may be empty but must not hold CR or LF. InvalidArgument names the
// argument and the rule.
Result<InfoField> ParseInfoArgument(std::string_view argument);
// The same rules for a field built in code.
Status CheckInfoField(const InfoField& field);

struct CreateOptions {
  AlgorithmSet algorithms;      // none set: sha512 (as RFC 8493 advises)
  std::vector<InfoField> info;  // extra bag-info.txt fields, in order
  BagFormat format = BagFormat::kDirectory;
  bool in_place = false;                 // move SRC's content into SRC/data (directory only)
  bool follow_symlinks = false;          // follow symlinks whose target stays inside SRC
  unsigned threads = 0;                  // copy/hash threads for directory bags; 0 = one per core
  std::string software_agent = "Cairn";  // Bag-Software-Agent value
  std::string bagging_date;              // YYYY-MM-DD; empty: today (UTC)
};

struct CreatedBag {
  std::string path;  // the bag directory or archive
  BagFormat format = BagFormat::kDirectory;
  std::string top_folder;  // archives: the bag's folder inside the archive
  uint64_t payload_files = 0;
  uint64_t payload_bytes = 0;
  std::vector<Algorithm> algorithms;
  // Every tag file written ("bagit.txt", "manifest-sha512.txt", ...) with its
  // digests in every algorithm of the bag, as listed in the tag manifests.
  struct TagFile {
    std::string name;
    uint64_t size = 0;
    Digests digests;
  };
  std::vector<TagFile> tag_files;
};

// Makes a bag of the folder `src` at `dest` (for in-place: `dest` is ignored and
// the bag is `src` itself).
// REQUIRES for a new bag: `dest` does not exist (or is an empty directory, for
// a directory bag), its parent exists, and it is not inside `src`.
// InvalidArgument: bad options, a symlink/special file/bad name in `src`
// (naming it), `dest` exists; NotFound: `src` missing; IOError/NoSpace/
// PermissionDenied from the file system, naming the file. On any error nothing
// is left at `dest` and `src` is unchanged (in place: moved back).
Result<CreatedBag> CreateBag(const std::string& src, const std::string& dest,
                             const CreateOptions& options);

// ---- Building blocks, for callers that make bags without the file system
// ---- layout above (the repository's deposit of a folder).

// "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".
std::string BagitTxt();
// bag-info.txt: Bagging-Date, Payload-Oxum, Bag-Software-Agent (each unless
// given in `options.info`), then `options.info`. InvalidArgument for a bad
// field or a given Payload-Oxum.
Result<std::string> BagInfoTxt(const CreateOptions& options, uint64_t payload_files,
                               uint64_t payload_bytes);
// One manifest line: "<hex digest>  <percent-encoded path>\n".
std::string FormatManifestLine(std::string_view hex_digest, std::string_view path);
// The bag's algorithms in order (sha512 if none set).
std::vector<Algorithm> BagAlgorithms(const AlgorithmSet& algorithms);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_CREATOR_H_
