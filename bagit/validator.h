// Validating a bag (RFC 8493, versions 0.93 to 1.0): a bag directory, or a
// serialized bag (.tar, .tar.gz, .tgz, .zip) read as one stream through
// libarchive and never extracted.
//
//   ValidateOptions options;                  // full validation, all cores
//   CAIRN_ASSIGN_OR_RETURN(Validation v, ValidateBag("/in/bag.tgz", options));
//   if (!v.report.valid()) ... v.report.ToText() / v.report.ToJson() ...
//   v.contents->manifests   // every payload path and its digests (deposit, restore)
//   v.contents->tag_files   // every tag file with its size and digests
//
// A broken bag is not a failed call: the Result is OK and the Report lists
// every error and warning. The Result is an error only when validation could
// not run at all (the path does not exist or cannot be read).
#ifndef CAIRN_BAGIT_VALIDATOR_H_
#define CAIRN_BAGIT_VALIDATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bagit/digest.h"
#include "bagit/manifest_index.h"
#include "bagit/report.h"
#include "bagit/status.h"
#include "bagit/tag_files.h"

namespace cairn::bagit {

class Profile;

struct ValidateOptions {
  // kFull: hash every payload and tag file; kCompletenessOnly: files present,
  // listed and sized, no hashing; kFast: tag files and Payload-Oxum only.
  ValidationMode mode = ValidationMode::kFull;
  unsigned threads = 0;              // hashing threads; 0 = one per core
  const Profile* profile = nullptr;  // also check this BagIt profile (not owned)
  // A payload file that is absent and named in fetch.txt makes the bag
  // incomplete (Report::complete false, rule complete.fetch-not-retrieved).
  // false (RFC 8493 section 3: a valid bag is complete): an error, the bag is
  // invalid. true: a warning, for a bag meant to be fetched later.
  bool allow_fetch = false;
  // Payload names that differ only in Unicode normalization (NFC against NFD) are an error
  // (payload.normalization-twin) rather than a warning (payload.name-collision, which RFC 8493's
  // conformance suite expects of a validator): a deposit sets it, since such twins are one name
  // on macOS and Windows and one name in a tar or zip as libarchive reads it back (NFC).
  bool refuse_normalization_twins = false;
};

// A tag file as found in the bag.
struct TagFileRecord {
  std::string path;  // bag-relative, e.g. "bag-info.txt", "tagmanifest-sha256.txt"
  uint64_t size = 0;
  Digests digests;  // every algorithm of the bag's tag manifests (all six if unknown)
};

// Everything read from a bag's tag files, for callers that go on to store or
// restore it (deposit) without parsing the files again.
struct BagContents {
  BagitDeclaration declaration;
  BagInfo bag_info;
  // Payload manifests: path -> digests. In memory unless the caller sets
  // another index before validating (deposit keeps it on disk).
  std::unique_ptr<ManifestIndex> manifests = std::make_unique<MemoryManifestIndex>();
  std::vector<FetchEntry> fetch;  // fetch.txt lines (usually none)
  std::vector<TagFileRecord> tag_files;
  // The bag's empty folders, which the manifests (files only) cannot list: the deepest ones of
  // the payload ("data/a/b"; each implies those above it) and of the tag area ("metadata/x"),
  // sorted, each a valid UTF-8 bag path with no path.* violation; at most kMaxEmptyFolders.
  // Filled at the end of a validation.
  std::vector<std::string> empty_folders;
  bool serialized = false;    // read from an archive
  std::string serialization;  // "application/tar", "application/zip", ... or ""
  // The tag file record for `path`, or nullptr.
  const TagFileRecord* FindTagFile(std::string_view path) const;
};

struct Validation {
  Report report;
  std::unique_ptr<BagContents> contents;
};

// Validates the bag at `path` (a directory, or a file named .tar, .tar.gz, .tgz
// or .zip). NotFound / PermissionDenied / IOError when it cannot be read at all.
Result<Validation> ValidateBag(const std::string& path, const ValidateOptions& options);
// The two halves, for callers that already know what `path` is.
Result<Validation> ValidateBagDirectory(const std::string& dir, const ValidateOptions& options);
Result<Validation> ValidateBagArchive(const std::string& archive, const ValidateOptions& options);

}  // namespace cairn::bagit

#endif  // CAIRN_BAGIT_VALIDATOR_H_
