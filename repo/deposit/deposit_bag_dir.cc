// Ingest driver for a bag folder: the bag walker's folder walk (as the
// validator walks it: tag files first, bagit.txt before the rest, then the
// payload) with deposit's StagingSink, so every byte read also goes to the
// first site: tag files are teed into writers, and each payload file is read
// ONCE, hashed with the manifest algorithms plus sha256 while appended to a
// blob writer, and its blob committed only when every manifest listing it
// agrees.
#include <sys/stat.h>

#include "bagit/bag_walker.h"
#include "bagit/dir_list.h"
#include "repo/deposit/deposit_stage.h"

namespace cairn::repo::deposit_internal {

namespace {

// The payload manifests' total size (kManifestBytesUnknown if the folder
// cannot be listed: the walk then names what is wrong). A link is not
// followed (the walk refuses it, unread).
uint64_t PayloadManifestBytes(const std::string& root) {
  Result<std::vector<bagit::DirEntry>> entries = bagit::ListDirSortedTyped(root);
  if (!entries.ok()) return kManifestBytesUnknown;
  uint64_t total = 0;
  for (const bagit::DirEntry& e : *entries) {
    std::optional<bagit::Algorithm> algorithm;
    if (bagit::ClassifyTagFile(e.name, &algorithm) != bagit::TagKind::kManifest) continue;
    struct stat st;
    if (lstat((root + "/" + e.name).c_str(), &st) != 0) return kManifestBytesUnknown;
    total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

}  // namespace

Status IngestBagDirectory(const std::string& dir, const IngestTarget& target, Ingest* ingest) {
  std::string root = dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  ingest->kind = "bag";
  ingest->report.bag = dir;
  CAIRN_RETURN_IF_ERROR(ChooseManifestIndex(PayloadManifestBytes(root), target, ingest));
  bagit::ValidateOptions options;
  options.mode = bagit::ValidationMode::kFull;
  options.threads = target.threads;
  options.profile = target.profile;
  options.refuse_normalization_twins = true;
  bagit::BagChecker checker(options, &ingest->report, ingest->contents.get());
  StagingSink sink(target, ingest);
  Status walked =
      bagit::BagWalker(&checker, &sink, &ingest->report).WalkFolder(root, target.threads);
  Status committed = sink.Finish();  // every payload blob durable, or the first failure
  return walked.ok() ? committed : walked;
}

}  // namespace cairn::repo::deposit_internal
